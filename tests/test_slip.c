/* SLIP framing against protocol.md §2: wire examples, escapes, esptool's reader semantics. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rom/slip.h"
#include "tap.h"

struct rec {
	int ev[32];
	uint8_t data[32][600];
	size_t len[32];
	int n;
};

static void
rec_cb(void *arg, enum slip_event ev, const uint8_t *data, size_t len)
{
	struct rec *r = arg;

	if (r->n < 32) {
		r->ev[r->n] = ev;
		memcpy(r->data[r->n], data, len < 600 ? len : 600);
		r->len[r->n] = len;
	}
	r->n++;
}

static void
test_encode_read_reg_wire(void)
{
	/* protocol.md §3.1: READ_REG 0x40001000 is exactly these 14 bytes on the wire. */
	static const uint8_t pkt[] = { 0x00, 0x0a, 0x04, 0x00, 0, 0, 0, 0, 0x00, 0x10, 0x00, 0x40 };
	static const uint8_t wire[] = { 0xc0, 0x00, 0x0a, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x10, 0x00, 0x40, 0xc0 };
	uint8_t out[SLIP_ENCODED_MAX(sizeof pkt)];
	size_t n = slip_encode(out, pkt, sizeof pkt);

	T_EQ_INT(n, sizeof wire);
	T_EQ_MEM(out, wire, sizeof wire);
}

static void
test_escapes_both_ways(void)
{
	static const uint8_t raw[] = { 0x01, 0xc0, 0xdb, 0xdc, 0xdd, 0xc0 };
	static const uint8_t wire[] = { 0xc0, 0x01, 0xdb, 0xdc, 0xdb, 0xdd, 0xdc, 0xdd, 0xdb, 0xdc, 0xc0 };
	uint8_t out[SLIP_ENCODED_MAX(sizeof raw)];
	struct slip_decoder d;
	struct rec r = { .n = 0 };

	T_EQ_INT(slip_encode(out, raw, sizeof raw), sizeof wire);
	T_EQ_MEM(out, wire, sizeof wire);
	slip_decoder_init(&d, 64);
	slip_decoder_feed(&d, wire, sizeof wire, rec_cb, &r);
	T_EQ_INT(r.n, 1);
	T_EQ_INT(r.ev[0], SLIP_EV_FRAME);
	T_EQ_INT(r.len[0], sizeof raw);
	T_EQ_MEM(r.data[0], raw, sizeof raw);
	slip_decoder_free(&d);
}

static void
test_reader_semantics(void)
{
	/* Back to back frames parse; a doubled opening C0 closes an empty frame and the payload
	 * then lands outside a frame (esptool's "Invalid head of packet (0x01)"). */
	static const uint8_t b2b[] = { 0xc0, 0x01, 0xc0, 0xc0, 0x02, 0xc0 };
	static const uint8_t dbl[] = { 0xc0, 0xc0, 0x01, 0x02, 0xc0 };
	struct slip_decoder d;
	struct rec r = { .n = 0 };

	slip_decoder_init(&d, 64);
	slip_decoder_feed(&d, b2b, sizeof b2b, rec_cb, &r);
	T_EQ_INT(r.n, 2);
	T_EQ_INT(r.ev[0], SLIP_EV_FRAME);
	T_EQ_INT(r.data[0][0], 1);
	T_EQ_INT(r.data[1][0], 2);

	memset(&r, 0, sizeof r);
	slip_decoder_reset(&d);
	slip_decoder_feed(&d, dbl, sizeof dbl, rec_cb, &r);
	T_EQ_INT(r.n, 2);
	T_EQ_INT(r.ev[0], SLIP_EV_FRAME);
	T_EQ_INT(r.len[0], 0);
	T_EQ_INT(r.ev[1], SLIP_EV_NOISE);
	T_EQ_INT(r.len[1], 2);
	T_EQ_INT(r.data[1][0], 0x01);
	T_TRUE(slip_decoder_in_frame(&d)); /* the final C0 opened a new frame */
	slip_decoder_free(&d);
}

static void
test_bad_escape_and_oversize(void)
{
	static const uint8_t bad[] = { 0xc0, 0x05, 0xdb, 0x41, 0x06, 0xc0, 0xc0, 0x07, 0xc0 };
	static const uint8_t big[] = { 0xc0, 1, 2, 3, 4, 5, 0xc0, 0xc0, 9, 0xc0 };
	struct slip_decoder d;
	struct rec r = { .n = 0 };

	slip_decoder_init(&d, 4);
	slip_decoder_feed(&d, bad, sizeof bad, rec_cb, &r);
	T_EQ_INT(r.n, 2);
	T_EQ_INT(r.ev[0], SLIP_EV_BAD_ESCAPE);
	T_EQ_INT(r.ev[1], SLIP_EV_FRAME);
	T_EQ_INT(r.data[1][0], 0x07);

	memset(&r, 0, sizeof r);
	slip_decoder_reset(&d);
	slip_decoder_feed(&d, big, sizeof big, rec_cb, &r);
	T_EQ_INT(r.n, 2);
	T_EQ_INT(r.ev[0], SLIP_EV_OVERSIZE);
	T_EQ_INT(r.ev[1], SLIP_EV_FRAME);
	T_EQ_INT(r.len[1], 1);
	T_EQ_INT(d.errors, 2); /* the bad escape before reset, and the oversize */
	slip_decoder_free(&d);
}

static void
test_chunking_is_invisible(void)
{
	/* Random payloads rich in C0/DB, encoded back to back, fed in random chunks. */
	struct buf wire = BUF_INIT;
	uint8_t payload[8][500];
	size_t plen[8];
	struct slip_decoder d;
	struct rec r = { .n = 0 };

	srand(1234);
	for (int i = 0; i < 8; i++) {
		plen[i] = (size_t)(rand() % 500);
		for (size_t k = 0; k < plen[i]; k++) {
			int x = rand() % 4;
			payload[i][k] = x == 0 ? 0xc0 : x == 1 ? 0xdb : (uint8_t)rand();
		}
		slip_encode_buf(&wire, payload[i], plen[i]);
	}
	slip_decoder_init(&d, 600);
	for (size_t off = 0; off < buf_len(&wire);) {
		size_t n = (size_t)(rand() % 7);

		if (n > buf_len(&wire) - off)
			n = buf_len(&wire) - off;
		slip_decoder_feed(&d, buf_head(&wire) + off, n, rec_cb, &r);
		off += n;
	}
	T_EQ_INT(r.n, 8);
	for (int i = 0; i < 8 && i < r.n; i++) {
		T_EQ_INT(r.ev[i], SLIP_EV_FRAME);
		T_EQ_INT(r.len[i], plen[i]);
		T_EQ_MEM(r.data[i], payload[i], plen[i]);
	}
	slip_decoder_free(&d);
	buf_free(&wire);
}

int
main(void)
{
	T_RUN(test_encode_read_reg_wire);
	T_RUN(test_escapes_both_ways);
	T_RUN(test_reader_semantics);
	T_RUN(test_bad_escape_and_oversize);
	T_RUN(test_chunking_is_invisible);
	return t_done();
}
