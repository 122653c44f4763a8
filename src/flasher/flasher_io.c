/*
 * flasher_io.c: the engine's transport. Commands out as SLIP frames, frames in through the rx
 * parser, every wait cut into slices of at most 50 ms with the cancel flag checked in between.
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser.h"

#define SLICE_MS 50

int
flasher_io_cancelled(const struct flasher *f)
{
	return f->o.cancel != NULL && atomic_load(f->o.cancel);
}

int
flasher_io_sleep(struct flasher *f, int ms)
{
	int64_t end = clock_now_ms() + ms;

	for (;;) {
		int64_t left = clock_left_ms(end);

		if (flasher_io_cancelled(f))
			return RC_ERR_CANCEL;
		if (left <= 0)
			return RC_OK;
		clock_sleep_ms(left < SLICE_MS ? left : SLICE_MS);
	}
}

int
flasher_io_send(struct flasher *f, const void *pkt, size_t len)
{
	struct buf out = BUF_INIT;
	int rc;

	if (flasher_io_cancelled(f))
		return RC_ERR_CANCEL;
	slip_encode_buf(&out, pkt, len);
	f->info.bytes_out += buf_len(&out);
	rc = ser_write(f->ser, buf_head(&out), buf_len(&out));
	buf_free(&out);
	return rc < 0 ? rc : RC_OK;
}

/* Reads what the port has (waiting at most ms) into the rx parser. */
static int
io_fill(struct flasher *f, int ms)
{
	uint8_t tmp[4096];
	int n = ser_read(f->ser, tmp, sizeof tmp, ms);

	if (n < 0)
		return n;
	if (n > 0) {
		f->info.bytes_in += (uint64_t)n;
		flasher_rx_feed(&f->rx, tmp, (size_t)n);
	}
	return n;
}

int
flasher_io_frame(struct flasher *f, int timeout_ms, const uint8_t **data, size_t *len, int *bad)
{
	int64_t end = clock_now_ms() + timeout_ms;

	for (;;) {
		int64_t left;
		int rc;

		if (flasher_rx_next(&f->rx, data, len, bad))
			return RC_OK;
		if (flasher_io_cancelled(f))
			return RC_ERR_CANCEL;
		left = clock_left_ms(end);
		if (left <= 0)
			return RC_ERR_TIMEOUT;
		rc = io_fill(f, left < SLICE_MS ? (int)left : SLICE_MS);
		if (rc < 0)
			return rc;
	}
}

int
flasher_io_drain(struct flasher *f, int quiet_ms, int max_ms)
{
	int64_t end = clock_now_ms() + max_ms, quiet = clock_now_ms() + quiet_ms;

	for (;;) {
		int rc;

		if (flasher_io_cancelled(f))
			return RC_ERR_CANCEL;
		if (clock_left_ms(quiet) <= 0 || clock_left_ms(end) <= 0)
			break;
		rc = io_fill(f, SLICE_MS < quiet_ms ? SLICE_MS : quiet_ms);
		if (rc < 0)
			return rc;
		if (rc > 0)
			quiet = clock_now_ms() + quiet_ms;
	}
	flasher_rx_reset(&f->rx);
	return RC_OK;
}

int
flasher_io_resp(struct flasher *f, uint8_t op, int timeout_ms, struct rom_proto_resp *r)
{
	int64_t end = clock_now_ms() + timeout_ms;

	for (int skipped = 0; skipped <= 100; skipped++) {
		const uint8_t *d;
		size_t n;
		int bad, rc;
		int64_t left = clock_left_ms(end);

		rc = flasher_io_frame(f, left > 0 ? (int)left : 0, &d, &n, &bad);
		if (rc < 0)
			return rc;
		if (bad || rom_proto_resp_parse(d, n, r, NULL) != RC_OK || r->op != op) {
			log_debug("flasher: skipped a frame of %zu bytes waiting for op 0x%02x", n, op);
			continue;
		}
		return RC_OK;
	}
	return RC_ERR_PROTO;
}

int
flasher_io_cmd(struct flasher *f, uint8_t op, const uint32_t *words, size_t n, int timeout_ms,
    struct rom_proto_resp *r, char **cause)
{
	uint8_t pkt[ROM_HDR_LEN + 64];
	struct rom_proto_resp tmp;
	size_t len;
	int rc;

	if (cause != NULL)
		*cause = NULL;
	if (r == NULL)
		r = &tmp;
	len = rom_proto_words_cmd_build(pkt, sizeof pkt, op, words, n);
	if (len == 0)
		return RC_ERR_ARG;
	if ((rc = flasher_io_send(f, pkt, len)) < 0)
		return rc;
	if ((rc = flasher_io_resp(f, op, timeout_ms, r)) < 0)
		return rc;
	if (rom_proto_resp_failed(r)) {
		if (cause != NULL)
			*cause = rom_proto_failure_str(r, f->info.stub, 0);
		return RC_ERR_DEVICE;
	}
	return RC_OK;
}

void
flasher_pipe_init(struct flasher_pipe *p)
{
	memset(p, 0, sizeof *p);
	p->last_ms = clock_now_ms();
}

int
flasher_pipe_send(struct flasher *f, struct flasher_pipe *p, const void *pkt, size_t len,
    uint8_t kind, uint32_t idx, int tmo_ms)
{
	struct flasher_pipe_ent *e;
	uint64_t before = f->info.bytes_out;
	int rc;

	if (p->n == FLASHER_PIPE_MAX || len < ROM_HDR_LEN)
		return RC_ERR_ARG;
	if ((rc = flasher_io_send(f, pkt, len)) < 0)
		return rc;
	e = &p->e[(p->head + p->n++) % FLASHER_PIPE_MAX];
	e->op = ((const uint8_t *)pkt)[1];
	e->kind = kind;
	e->idx = idx;
	e->wire = (uint32_t)(f->info.bytes_out - before);
	e->tmo_ms = tmo_ms;
	e->sent_ms = clock_now_ms();
	p->wire += e->wire;
	return RC_OK;
}

int
flasher_pipe_recv(struct flasher *f, struct flasher_pipe *p, struct flasher_pipe_ent *e,
    struct rom_proto_resp *r)
{
	const struct flasher_pipe_ent *old;
	const uint8_t *d;
	size_t n;
	int64_t from;
	int bad, rc;

	if (p->n == 0)
		return RC_ERR_ARG;
	old = &p->e[p->head];
	/* The device gets to this command once it has answered the one before. */
	from = old->sent_ms > p->last_ms ? old->sent_ms : p->last_ms;
	rc = flasher_io_frame(f, (int)(from + old->tmo_ms - clock_now_ms()), &d, &n, &bad);
	if (rc < 0)
		return rc;
	*e = *old;
	p->head = (p->head + 1) % FLASHER_PIPE_MAX;
	p->n--;
	p->wire -= e->wire;
	p->last_ms = clock_now_ms();
	if (bad || rom_proto_resp_parse(d, n, r, NULL) != RC_OK || r->op != e->op) {
		log_debug("flasher: answer %zu bytes%s, expected op 0x%02x: pipeline out of step", n,
		    bad ? " (broken)" : "", e->op);
		return RC_ERR_PROTO;
	}
	return RC_OK;
}

/* Register commands are idempotent: a lost or garbled exchange is simply tried again. */
static int
io_cmd_retry(struct flasher *f, uint8_t op, const uint32_t *words, size_t n,
    struct rom_proto_resp *r, char **cause)
{
	int rc = RC_ERR_TIMEOUT;

	for (int i = 0; i < 4; i++) {
		rc = flasher_io_cmd(f, op, words, n, i < 3 ? 1000 : FLASHER_T_CMD, r, cause);
		if (rc == RC_OK || rc == RC_ERR_CANCEL || rc == RC_ERR_GONE)
			return rc;
		if (rc == RC_ERR_DEVICE && i == 3)
			return rc;
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		if ((rc = flasher_io_drain(f, 20, 300)) < 0)
			return rc;
		rc = RC_ERR_TIMEOUT;
	}
	return rc;
}

int
flasher_io_read_reg(struct flasher *f, uint32_t addr, uint32_t *val, char **cause)
{
	struct rom_proto_resp r;
	int rc = io_cmd_retry(f, ROM_OP_READ_REG, &addr, 1, &r, cause);

	if (rc == RC_OK)
		*val = r.value;
	return rc;
}

int
flasher_io_write_reg(struct flasher *f, uint32_t addr, uint32_t val, char **cause)
{
	uint32_t w[4] = { addr, val, 0xFFFFFFFFu, 0 };

	return io_cmd_retry(f, ROM_OP_WRITE_REG, w, 4, NULL, cause);
}

char *
flasher_io_cause(struct flasher *f, int rc, const char *what)
{
	const char *port = f->o.port;

	switch (rc) {
	case RC_ERR_GONE:
		return xfmt("%s: the port disappeared while %s: the USB cable was pulled or the "
		    "adapter reset; plug it back in and run the command again", port, what);
	case RC_ERR_CANCEL:
		return xfmt("%s: cancelled while %s", port, what);
	case RC_ERR_TIMEOUT:
		return xfmt("%s: timed out waiting for packet header while %s: the chip stopped "
		    "answering (power lost, or the board reset); power-cycle it with GPIO0 held low "
		    "and run the command again", port, what);
	case RC_ERR_PROTO:
		return xfmt("%s: the device's answers made no sense while %s (line noise, or not an "
		    "ESP8266 loader); try a lower -b or a shorter cable", port, what);
	default:
		return xfmt("%s: %s while %s; check the port and run the command again", port,
		    rc_str(rc), what);
	}
}

const char *
flasher_io_bridge(struct flasher *f)
{
	struct ser_info *list = NULL;
	const char *bridge = NULL;
	char *cause = NULL, *want, *have;
	size_t n = 0;

	if (ser_kind(f->ser) != SER_KIND_USB || ser_list(&list, &n, &cause) < 0) {
		free(cause);
		return NULL;
	}
	want = realpath(f->o.port, NULL);
	for (size_t i = 0; i < n && bridge == NULL; i++) {
		have = realpath(list[i].path, NULL);
		if (have != NULL && want != NULL && strcmp(have, want) == 0)
			bridge = list[i].bridge;
		free(have);
	}
	free(want);
	ser_list_free(list, n);
	return bridge;
}

char *
flasher_io_noise_hint(struct flasher *f)
{
	const char *bridge = flasher_io_bridge(f);

	if (bridge != NULL && strstr(bridge, "CH34") != NULL)
		return xfmt("This is a %s adapter: many fail above 460800 baud on Linux; run again "
		    "with -b 460800 (or -b 230400), a short cable and no USB hub", bridge);
	return xfmt("Bytes are being lost or changed between the adapter and the chip%s%s: run "
	    "again with a lower -b (460800 or 230400), use a short cable without a USB hub, and "
	    "check the board's 3.3 V supply (a Sonoff's own supply must be unplugged from mains)",
	    bridge ? " (a " : "", bridge ? bridge : "");
}
