/*
 * The stub's UART receive ring in espdesk-sim (speed real), on a fake clock, with the real boot
 * model, ROM loader and stub: a host that keeps more in flight than the chip's 24 KB ring
 * (src/stub/stub_hal_lx106.c RX_RING) loses bytes here as it would on the chip; one that keeps
 * at most 20 KB unanswered (what flasher_write.c allows) loses nothing; at 115200 the line is
 * slower than the flash, so even back-to-back sending loses nothing; with --speed fast nothing
 * is timed and nothing is lost.
 *
 * The data: 160 KB of bytes drawn from four values (a xorshift32 picks them), written at 0x1000
 * (where an OTA layout puts user1.bin). zlib level 9 makes about 3.4:1 of it, so the stream is
 * three FLASH_DEFL_DATA blocks of at most 16 KB (two full ones and a third of about 15 KB), and
 * each block inflates to about 54 KB: many sectors to erase and pages to program per block.
 * The test checks these properties of its data (block count, inflated sizes) before relying on
 * them, with zlib, not with the simulator.
 *
 * Every expected value comes from the ring size, the line rate (10 bit times per byte) and the
 * flash timings of sim_flash.c (sector erase 45 ms, page program 0.7 ms); see each case.
 */
#include "config.h"

#include <md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "rom/slip.h"
#include "sim/sim_dev.h"
#include "sim/sim_flash.h"
#include "tap.h"

#define T0 1000000000LL   /* an arbitrary clock origin */
#define MS 1000LL
#define IMG_LEN 0x28000u
#define IMG_AT 0x1000u
#define BLOCK 0x4000u     /* esptool's stub block, STUB_MAX_WRITE_BLOCK */
#define BUDGET 0x5000u    /* flasher_write.c PIPE_BUDGET: at most this many bytes unanswered */
#define MAX_BLOCKS 8

/* ---- the data ---- */

static uint8_t *
make_image(void)
{
	static const uint8_t sym[4] = { 0x00, 0x12, 0x34, 0x56 };
	uint8_t *img = xmalloc(IMG_LEN);
	uint32_t x = 1;

	for (uint32_t i = 0; i < IMG_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		img[i] = sym[(x >> 7) & 3];
	}
	return img;
}

struct stream {
	uint8_t *img, *z;
	size_t zlen, nblocks;
	size_t out[MAX_BLOCKS];   /* bytes the stream has inflated to after block k (zlib) */
	uint8_t md5[16];
};

static void
stream_make(struct stream *s, size_t block)
{
	uLongf zl = compressBound(IMG_LEN);
	MD5_CTX m;

	memset(s, 0, sizeof *s);
	s->img = make_image();
	s->z = xmalloc(zl);
	if (compress2(s->z, &zl, s->img, IMG_LEN, 9) != Z_OK)
		abort();
	s->zlen = zl;
	s->nblocks = (s->zlen + block - 1) / block;
	/* How far the image has inflated at the end of each block. */
	for (size_t k = 0; k < s->nblocks && k < MAX_BLOCKS; k++) {
		uint8_t *tmp = xmalloc(IMG_LEN);
		z_stream st;
		size_t in = (k + 1) * block < s->zlen ? (k + 1) * block : s->zlen;

		memset(&st, 0, sizeof st);
		inflateInit(&st);
		st.next_in = s->z;
		st.avail_in = (uInt)in;
		st.next_out = tmp;
		st.avail_out = IMG_LEN;
		inflate(&st, Z_SYNC_FLUSH);
		s->out[k] = st.total_out;
		inflateEnd(&st);
		free(tmp);
	}
	MD5Init(&m);
	MD5Update(&m, s->img, IMG_LEN);
	MD5Final(s->md5, &m);
}

static void
stream_free(struct stream *s)
{
	free(s->img);
	free(s->z);
}

/* ---- the host: a clock of its own, a SLIP reader, the stub's replies ---- */

struct reply {
	uint8_t op, err;
	uint8_t data[16];
	size_t dlen;
};

struct host {
	struct sim_dev *d;
	int64_t t;
	uint32_t baud;
	struct slip_decoder dec;
	struct reply r[32];
	size_t nr;
	int ohai;
};

static void
on_frame(void *arg, enum slip_event ev, const uint8_t *data, size_t len)
{
	struct host *h = arg;
	struct reply *r;
	size_t size;

	if (ev != SLIP_EV_FRAME)
		return;
	if (len == 4 && memcmp(data, "OHAI", 4) == 0) {
		h->ohai = 1;
		return;
	}
	if (len < 10 || data[0] != 0x01 || h->nr == sizeof h->r / sizeof h->r[0])
		return;
	size = (size_t)data[2] | (size_t)data[3] << 8;
	if (size < 2 || 8 + size != len)
		return;
	r = &h->r[h->nr++];
	r->op = data[1];
	r->err = data[8 + size - 2];
	r->dlen = size - 2 > 16 ? 16 : size - 2;
	memcpy(r->data, data + 8, r->dlen);
}

/* Runs the device to until, the host reading every millisecond. */
static void
host_run(struct host *h, int64_t until)
{
	while (h->t < until) {
		struct buf out = BUF_INIT;

		h->t = h->t + MS < until ? h->t + MS : until;
		sim_dev_run(h->d, h->t, h->baud, &out);
		if (buf_len(&out) > 0)
			slip_decoder_feed(&h->dec, buf_head(&out), buf_len(&out), on_frame, h);
		buf_free(&out);
	}
}

/* Runs until the device has nothing left to do (the line idle, the flash done). */
static void
host_quiet(struct host *h)
{
	int64_t end = h->t + 60000 * MS;

	while (h->t < end && sim_dev_next_us(h->d) >= 0)
		host_run(h, h->t + 10 * MS);
	host_run(h, h->t + 10 * MS);
}

/* Appends one command's wire bytes to w; returns how many. */
static size_t
cmd_wire(struct buf *w, uint8_t op, const uint8_t *data, size_t len, uint32_t chk)
{
	uint8_t *pkt = xmalloc(8 + len);
	size_t before = buf_len(w);

	pkt[0] = 0x00;
	pkt[1] = op;
	pkt[2] = (uint8_t)len;
	pkt[3] = (uint8_t)(len >> 8);
	pkt[4] = (uint8_t)chk;
	pkt[5] = (uint8_t)(chk >> 8);
	pkt[6] = (uint8_t)(chk >> 16);
	pkt[7] = (uint8_t)(chk >> 24);
	memcpy(pkt + 8, data, len);
	slip_encode_buf(w, pkt, 8 + len);
	free(pkt);
	return buf_len(w) - before;
}

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static size_t
words_wire(struct buf *w, uint8_t op, const uint32_t *v, size_t n)
{
	uint8_t d[16];

	for (size_t i = 0; i < n; i++)
		le32(d + 4 * i, v[i]);
	return cmd_wire(w, op, d, 4 * n, 0);
}

/* FLASH_DEFL_DATA block k of s (protocol.md: data length, sequence, 0, 0, then the data; the
 * checksum is 0xEF xor every data byte). */
static size_t
block_wire(struct buf *w, const struct stream *s, size_t k, size_t block)
{
	size_t off = k * block, n = s->zlen - off < block ? s->zlen - off : block, len;
	uint8_t *d = xmalloc(16 + n), chk = 0xEF;

	le32(d, (uint32_t)n);
	le32(d + 4, (uint32_t)k);
	le32(d + 8, 0);
	le32(d + 12, 0);
	memcpy(d + 16, s->z + off, n);
	for (size_t i = 0; i < n; i++)
		chk ^= s->z[off + i];
	len = cmd_wire(w, 0x11, d, 16 + n, chk);
	free(d);
	return len;
}

static void
host_send(struct host *h, struct buf *w)
{
	sim_dev_host_rx(h->d, buf_head(w), buf_len(w), h->baud, h->t);
	buf_reset(w);
}

/* A device in download mode, then our stub (MEM_END(0, entry)), then the host's baud. */
static void
host_open(struct host *h, int fast, uint32_t baud)
{
	struct sim_dev_config cfg;
	char *cause = NULL;
	struct buf w = BUF_INIT;

	memset(h, 0, sizeof *h);
	memset(&cfg, 0, sizeof cfg);
	sim_chip_identity_default(&cfg.id);
	cfg.fast = fast;
	cfg.download = 1;
	cfg.powered = 1;
	if (sim_dev_new(&cfg, T0, &h->d, &cause) != RC_OK) {
		printf("# %s\n", cause);
		abort();
	}
	slip_decoder_init(&h->dec, 0x5000);
	h->t = T0;
	h->baud = 115200;
	host_run(h, T0 + 300 * MS);       /* the ROM's banner at 74880, download mode */
	{
		uint32_t end[2] = { 0, 0x4010D004u };

		words_wire(&w, 0x06, end, 2);
		host_send(h, &w);
	}
	host_run(h, h->t + 50 * MS);
	if (baud != 115200) {
		uint32_t cb[2] = { baud, 115200 };

		words_wire(&w, 0x0F, cb, 2);
		host_send(h, &w);
		host_run(h, h->t + 50 * MS);
		h->baud = baud;
	}
	buf_free(&w);
	h->nr = 0;
}

static void
host_close(struct host *h)
{
	slip_decoder_free(&h->dec);
	sim_dev_free(h->d);
}

/* Sends FLASH_DEFL_BEGIN and every block of s, keeping at most budget wire bytes unanswered
 * (0: everything at once, back to back). Then waits until the device is idle and asks the
 * MD5 of the image's range. wire[k] gets block k's wire length. */
static void
host_write(struct host *h, const struct stream *s, size_t block, size_t budget, size_t *wire)
{
	struct buf w = BUF_INIT;
	size_t sent[1 + MAX_BLOCKS], ncmd = 0, unanswered = 0, answered = 0;
	uint32_t begin[4] = { IMG_LEN, (uint32_t)s->nblocks, (uint32_t)block, IMG_AT };
	uint32_t md5[4] = { IMG_AT, IMG_LEN, 0, 0 };

	sent[ncmd++] = words_wire(&w, 0x10, begin, 4);
	unanswered += sent[0];
	if (budget > 0)
		host_send(h, &w);
	for (size_t k = 0; k < s->nblocks && k < MAX_BLOCKS; k++) {
		size_t n = block_wire(&w, s, k, block);

		wire[k] = n;
		if (budget > 0) {
			/* Wait for replies until this block fits in the budget. */
			for (;;) {
				while (answered < h->nr && answered < ncmd)
					unanswered -= sent[answered++];
				if (unanswered + n <= budget || h->t > T0 + 120000 * MS)
					break;
				host_run(h, h->t + MS);
			}
			host_send(h, &w);
		}
		sent[ncmd++] = n;
		unanswered += n;
	}
	if (budget == 0)
		host_send(h, &w);
	host_quiet(h);
	words_wire(&w, 0x13, md5, 4);
	host_send(h, &w);
	host_quiet(h);
	buf_free(&w);
}

/* Flash time for the stub to write the session's bytes [from, to) (the session starts at
 * IMG_AT): a sector erase for each sector they reach, a page program for each page. upper: a
 * bound from above (every sector erased singly, two more sectors and pages for the edges,
 * and one 64 KB block erase, which may reach past the bytes);
 * otherwise one from below (two sectors and a page fewer), exact in kind below 0x10000, where
 * the stub can only erase single sectors. */
static int64_t
flash_us(size_t from, size_t to, int upper)
{
	size_t s0 = (IMG_AT + from) / SIM_FLASH_SECTOR, s1 = (IMG_AT + to) / SIM_FLASH_SECTOR;
	size_t pages = (to - from) / SIM_FLASH_PAGE;

	if (upper)
		return (int64_t)(s1 - s0 + 2) * sim_flash_time_sector_us() +
		    sim_flash_time_block_us() + (int64_t)(pages + 2) * sim_flash_time_page_us();
	return (int64_t)(s1 - s0 - 1) * sim_flash_time_sector_us() +
	    (int64_t)(pages - 1) * sim_flash_time_page_us();
}

/* Microseconds n bytes take on the line at baud (10 bits each). */
static int64_t
line_us(size_t n, uint32_t baud)
{
	return (int64_t)(((uint64_t)n * 10000000u + baud - 1) / baud);
}

/* ---- cases ---- */

/*
 * (a) FLASH_DEFL_BEGIN and the three blocks back to back at 921600 (10.85 us a byte).
 *
 * While block 0 streams in the stub's CPU is idle, so it takes each byte as it arrives; the
 * block's closing 0xC0 completes the frame in a slice of one byte. The stub answers at once,
 * then inflates and programs: block 0 inflates to out[0] (~54 KB) from 0x1000, all below
 * 0x10000, so single sector erases, at least (out[0]/4096 - 1) x 45 ms + (out[0]/256 - 1) x
 * 0.7 ms, ~0.78 s (checked below to exceed the line time of blocks 1 and 2 together, ~32 KB
 * = ~0.35 s).
 * Meanwhile blocks 1 and 2 arrive into the ring, which counts the held one-byte slice too: it
 * takes bytes while it holds fewer than RX_RING - 1 = 24575, i.e. 24574 more after the slice:
 * all of block 1 (W1 ~ 16.5 KB) and the first 24574 - W1 bytes of block 2; the remaining
 * W1 + W2 - 24574 bytes of block 2 (~7.3 KB), its closing 0xC0 with them, are dropped.
 *
 * What the stub then does (src/stub/stub.c): block 1 is whole: answered with status 0 and
 * written. Block 2's frame has lost its end, so nothing happens until the next 0xC0, the one
 * that opens the host's next command (here SPI_FLASH_MD5): it ends the cut frame, whose size
 * field (16 + 16384) disagrees with its length, and handle() answers FLASH_DEFL_DATA with
 * 0xC0 (E_BAD_DATA_LEN) and writes nothing; the MD5 command is then handled normally and its
 * digest is not the image's, whose last third was never written.
 */
static void
test_back_to_back_921600_overflows(void)
{
	struct stream s;
	struct host h;
	size_t wire[MAX_BLOCKS];
	char st[512], want[64];

	stream_make(&s, BLOCK);
	/* The data is what the reasoning above assumes. */
	T_EQ_INT(s.nblocks, 3);
	T_TRUE(IMG_AT + s.out[0] < 0x10000);
	host_open(&h, 0, 921600);
	T_TRUE(h.ohai);
	host_write(&h, &s, BLOCK, 0, wire);
	T_TRUE(flash_us(0, s.out[0], 0) > line_us(wire[1] + wire[2], 921600));
	T_TRUE(wire[1] + wire[2] > SIM_STUB_RX_RING - 2);

	T_EQ_INT(sim_dev_rx_dropped(h.d), wire[1] + wire[2] - (SIM_STUB_RX_RING - 2));
	T_EQ_INT(h.nr, 5);
	T_EQ_HEX(h.r[0].op, 0x10);
	T_EQ_HEX(h.r[0].err, 0x00);
	T_EQ_HEX(h.r[1].op, 0x11);
	T_EQ_HEX(h.r[1].err, 0x00);
	T_EQ_HEX(h.r[2].op, 0x11);
	T_EQ_HEX(h.r[2].err, 0x00);
	T_EQ_HEX(h.r[3].op, 0x11);
	T_EQ_HEX(h.r[3].err, 0xC0);
	T_EQ_HEX(h.r[4].op, 0x13);
	T_EQ_HEX(h.r[4].err, 0x00);
	T_EQ_INT(h.r[4].dlen, 16);
	T_TRUE(memcmp(h.r[4].data, s.md5, 16) != 0);
	/* What blocks 0 and 1 decoded to is in the flash; the rest is not. */
	T_TRUE(memcmp(sim_dev_flash(h.d) + IMG_AT, s.img, s.out[1] / 256 * 256) == 0);
	T_TRUE(memcmp(sim_dev_flash(h.d) + IMG_AT, s.img, IMG_LEN) != 0);
	/* The control channel's status line carries the count. */
	sim_dev_status(h.d, st, sizeof st);
	snprintf(want, sizeof want, " rx_dropped=%zu", wire[1] + wire[2] - (SIM_STUB_RX_RING - 2));
	T_CONTAINS(st, want);
	host_close(&h);
	stream_free(&s);
}

/* Nothing dropped: nreplies replies, each OK; the last (the MD5) is the image's when md5 is
 * set; the flash holds the image. */
static void
expect_intact(const struct host *h, const struct stream *s, size_t nreplies, int md5)
{
	T_EQ_INT(sim_dev_rx_dropped(h->d), 0);
	T_EQ_INT(h->nr, nreplies);
	for (size_t i = 0; i < h->nr; i++)
		T_EQ_HEX(h->r[i].err, 0x00);
	if (md5 && h->nr == nreplies)
		T_EQ_MEM(h->r[nreplies - 1].data, s->md5, 16);
	T_EQ_MEM(sim_dev_flash(h->d) + IMG_AT, s->img, IMG_LEN);
}

/*
 * (b) The same at 921600, but with at most 20 KB unanswered: a 16 KB block (~16.5 KB on the
 * wire) leaves only once the one before it is answered, i.e. has been taken from the ring
 * whole. So the ring holds at most one block and a slice (< 24575) while the one before is
 * programmed: nothing is dropped, every reply is 0, and the flash holds the image.
 */
static void
test_budget_921600_loses_nothing(void)
{
	struct stream s;
	struct host h;
	size_t wire[MAX_BLOCKS];

	stream_make(&s, BLOCK);
	host_open(&h, 0, 921600);
	host_write(&h, &s, BLOCK, BUDGET, wire);
	T_TRUE(wire[0] <= BUDGET && wire[0] + wire[1] > BUDGET);
	expect_intact(&h, &s, 5, 1);
	T_EQ_HEX(h.r[4].op, 0x13);
	host_close(&h);
	stream_free(&s);
}

/*
 * (b') The engine's own shape: 8 KB blocks (flasher_write.c PIPE_BLOCK) within the same 20 KB:
 * two blocks (2 x ~8.3 KB) may wait in the ring while a third is programmed, 16.6 KB + a slice
 * < 24575: nothing is dropped.
 */
static void
test_budget_8k_blocks_loses_nothing(void)
{
	struct stream s;
	struct host h;
	size_t wire[MAX_BLOCKS];

	stream_make(&s, 0x2000);
	T_EQ_INT(s.nblocks, 6);
	host_open(&h, 0, 921600);
	host_write(&h, &s, 0x2000, BUDGET, wire);
	expect_intact(&h, &s, 8, 1);
	host_close(&h);
	stream_free(&s);
}

/*
 * (c) Back to back at 115200: 11520 bytes a second arrive. The ring fills only while the stub
 * is busy with a block, and then by at most 11520 x (that block's flash time); the longest
 * block's time is bounded (every sector it touches erased singly, plus two, at 45 ms; every
 * page at 0.7 ms, and one 150 ms block erase: ~1.1 s) well under 24574 / 11520 = 2.13 s,
 * checked below. A block also takes longer on the line (~1.43 s) than that bound, so the flash
 * programs faster than the bytes arrive and nothing is ever dropped: every reply is 0 and the
 * flash holds the image.
 */
static void
test_back_to_back_115200_loses_nothing(void)
{
	struct stream s;
	struct host h;
	size_t wire[MAX_BLOCKS];
	int64_t longest = 0;

	stream_make(&s, BLOCK);
	for (size_t k = 0; k < s.nblocks; k++) {
		int64_t us = flash_us(k ? s.out[k - 1] : 0, s.out[k], 1);

		longest = us > longest ? us : longest;
	}
	T_TRUE(longest * 11520 / 1000000 < SIM_STUB_RX_RING - 2);
	host_open(&h, 0, 115200);
	host_write(&h, &s, BLOCK, 0, wire);
	T_TRUE(line_us(wire[1], 115200) > longest);
	expect_intact(&h, &s, 5, 1);
	host_close(&h);
	stream_free(&s);
}

/*
 * (d) --speed fast models no time, so no ring either: the same back-to-back write as (a) is
 * taken whole.
 */
static void
test_fast_has_no_ring(void)
{
	struct stream s;
	struct host h;
	size_t wire[MAX_BLOCKS];

	stream_make(&s, BLOCK);
	host_open(&h, 1, 921600);
	host_write(&h, &s, BLOCK, 0, wire);
	expect_intact(&h, &s, 5, 0);
	host_close(&h);
	stream_free(&s);
}

int
main(void)
{
	T_RUN(test_back_to_back_921600_overflows);
	T_RUN(test_budget_921600_loses_nothing);
	T_RUN(test_budget_8k_blocks_loses_nothing);
	T_RUN(test_back_to_back_115200_loses_nothing);
	T_RUN(test_fast_has_no_ring);
	return t_done();
}
