/*
 * libFuzzer target: the boot-log decoder, the diagnosis and the formatters must survive any byte
 * stream, and the events must not depend on how the stream is cut (checked here: whole versus
 * chunked, with the chunk size taken from the first byte).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "bootlog/bootlog_fmt.h"
#include "core/buf.h"
#include "fuzz/fuzz.h"

struct fz {
	uint64_t h;
	size_t n;
	struct bootlog_diag diag;
	struct buf out;
	int fmt;
};

static void
fz_cb(void *arg, const struct bootlog_event *ev)
{
	struct fz *f = arg;
	uint64_t h = f->h;

	/* Touch every byte of the event so ASan sees a bad pointer or length. */
	h = (h ^ (uint64_t)ev->kind) * 0x100000001b3ULL;
	h = (h ^ ev->lineno ^ (ev->offset << 20) ^ ((uint64_t)ev->len << 40)) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)ev->baud ^ ((uint64_t)ev->flags << 32) ^ ev->skip) * 0x100000001b3ULL;
	for (int i = 0; i < 5; i++)
		h = (h ^ (uint64_t)ev->n[i]) * 0x100000001b3ULL;
	for (size_t i = 0; i < ev->len; i++)
		h = (h ^ ev->text[i]) * 0x100000001b3ULL;
	if (ev->skip > ev->len || ev->len > BOOTLOG_LINE_MAX)
		abort();
	f->h = h;
	f->n++;
	bootlog_diag_event(&f->diag, ev, (int64_t)f->n);
	if (f->fmt) {
		bootlog_fmt_line(&f->out, ev, BOOTLOG_FMT_LINENO);
		bootlog_fmt_json_event(&f->out, ev);
		buf_reset(&f->out);
	}
}

static void
run(struct fz *f, const uint8_t *data, size_t size, size_t chunk, int fmt)
{
	struct bootlog b;
	size_t off = 0;

	f->h = 0xcbf29ce484222325ULL;
	f->n = 0;
	f->fmt = fmt;
	bootlog_diag_init(&f->diag);
	buf_init(&f->out);
	bootlog_init(&b, fz_cb, f);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		bootlog_feed(&b, data + off, n);
		off += n;
	}
	bootlog_flush(&b);
	buf_free(&f->out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz whole, cut;
	struct bootlog_verdict v;
	struct bootlog_facts facts;
	struct buf out = BUF_INIT;
	size_t chunk = size ? (size_t)data[0] % 23 + 1 : 1;

	run(&whole, data, size, size ? size : 1, 1);
	run(&cut, data, size, chunk, 0);
	if (whole.h != cut.h || whole.n != cut.n)
		abort(); /* chunking changed the events */
	bootlog_facts_init(&facts);
	if (size > 1) {
		facts.chip = data[1] & 1 ? BL_CHIP_ESP8285 : BL_CHIP_ESP8266;
		facts.hdr_mode = data[1] >> 1 & 3;
		facts.flash_size = (uint32_t)(data[1] >> 3 & 3) << 20;
		facts.hdr_size = (uint32_t)(data[1] >> 5 & 7) << 20;
	}
	bootlog_diag_verdict(&whole.diag, &facts, &v);
	bootlog_fmt_verdict(&out, &v);
	bootlog_fmt_json_report(&out, &v, "", 0);
	buf_free(&out);
	return 0;
}
