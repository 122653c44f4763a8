/* libFuzzer target: device bytes through the decoder, the baud switcher and the log model of the
 * TUI's log pane (a tiny ring, so drops happen), with scrolling, search and hex rendering: no
 * input may crash it, and every held line's text must be printable (escaped). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootlog/bootlog.h"
#include "core/common.h"
#include "fuzz/fuzz.h"
#include "bootlog/baudsw.h"
#include "ui/logbuf.h"

struct st {
	struct logbuf *lb;
	struct baudsw sw;
	struct bootlog dec;
};

static void
cb(void *arg, const struct bootlog_event *ev)
{
	struct st *s = arg;
	char annot[400];

	if (baudsw_event(&s->sw, ev) != BAUDSW_SHOW)
		return;
	bootlog_describe(ev, annot, sizeof annot);
	logbuf_add(s->lb, LOGBUF_RX, 0, ev->text, ev->len, annot);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st s;
	char hex[256], *cause = NULL;
	size_t off = 0, chunk = size ? (size_t)data[0] % 31 + 1 : 1;
	int bad = 0;

	s.lb = logbuf_new(8);
	baudsw_init(&s.sw, 74880, 115200);
	bootlog_init(&s.dec, cb, &s);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		bootlog_feed(&s.dec, data + off, n);
		if (s.sw.want) {
			bootlog_flush(&s.dec);
			baudsw_done(&s.sw, data[off] & 1);
			bootlog_set_read_baud(&s.dec, s.sw.baud);
		}
		logbuf_scroll(s.lb, (long)(data[off] % 7) - 3);
		off += n;
	}
	bootlog_flush(&s.dec);
	for (size_t i = 0; i < logbuf_count(s.lb); i++) {
		const struct logbuf_line *l = logbuf_get(s.lb, i);

		logbuf_hex(l, hex, sizeof hex);
		for (const char *p = l->text; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t') {
				fprintf(stderr, "control byte 0x%02x in line '%s'\n", (unsigned char)*p, l->text);
				bad = 1;
			}
	}
	if (logbuf_search(s.lb, "rst|[0-9]+", 1, -1, -1, &cause) == RC_ERR_FORMAT)
		bad = 1;
	free(cause);
	logbuf_free(s.lb);
	if (bad)
		abort(); /* a control byte reached the screen text */
	return 0;
}
