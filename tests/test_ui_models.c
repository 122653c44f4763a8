/* The TUI's pane models without curses: the log scrollback (bounded, follow/freeze, search,
 * save, hex, escaping) and the automatic baud switcher fed by the real boot-log decoder. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootlog/bootlog.h"
#include "core/common.h"
#include "bootlog/baudsw.h"
#include "ui/logbuf.h"
#include "tap.h"

static void
add_text(struct logbuf *lb, const char *s)
{
	logbuf_add(lb, LOGBUF_RX, 0, s, strlen(s), NULL);
}

static void
test_logbuf_bounded(void)
{
	struct logbuf *lb = logbuf_new(3);
	char name[16];

	for (int i = 1; i <= 5; i++) {
		snprintf(name, sizeof name, "line %d", i);
		add_text(lb, name);
	}
	T_EQ_INT(logbuf_count(lb), 3);
	T_EQ_INT(logbuf_dropped(lb), 2);
	T_EQ_STR(logbuf_get(lb, 0)->text, "line 3");
	T_EQ_INT(logbuf_get(lb, 0)->seq, 3);
	T_EQ_STR(logbuf_get(lb, 2)->text, "line 5");
	T_TRUE(logbuf_get(lb, 3) == NULL);
	T_EQ_INT(logbuf_find_seq(lb, 2), -1);
	T_EQ_INT(logbuf_find_seq(lb, 4), 1);
	logbuf_free(lb);
	lb = logbuf_new(0);
	T_EQ_INT(logbuf_max(lb), 100000);
	logbuf_free(lb);
}

static void
test_logbuf_follow_freeze(void)
{
	struct logbuf *lb = logbuf_new(100);
	char name[16];

	T_EQ_INT(logbuf_bottom(lb), -1);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "l%d", i);
		add_text(lb, name);
	}
	T_TRUE(logbuf_following(lb));
	T_EQ_INT(logbuf_bottom(lb), 9);
	logbuf_scroll(lb, -3);
	T_FALSE(logbuf_following(lb));
	T_EQ_INT(logbuf_bottom(lb), 6);
	add_text(lb, "new 1");
	add_text(lb, "new 2");
	T_EQ_INT(logbuf_unseen(lb), 2);
	T_EQ_INT(logbuf_bottom(lb), 6); /* frozen: new lines do not move the view */
	logbuf_scroll(lb, -100);
	T_EQ_INT(logbuf_bottom(lb), 0);
	logbuf_scroll(lb, 100);
	T_TRUE(logbuf_following(lb));
	T_EQ_INT(logbuf_unseen(lb), 0);
	T_EQ_INT(logbuf_bottom(lb), 11);
	logbuf_clear(lb);
	T_EQ_INT(logbuf_count(lb), 0);
	T_EQ_INT(logbuf_bottom(lb), -1);
	add_text(lb, "after clear");
	T_EQ_INT(logbuf_get(lb, 0)->seq, 13);
	logbuf_free(lb);
}

/* A frozen view whose line is dropped from the ring shows the oldest line held. */
static void
test_logbuf_frozen_line_dropped(void)
{
	struct logbuf *lb = logbuf_new(4);

	for (int i = 0; i < 4; i++)
		add_text(lb, "x");
	logbuf_show(lb, 1);
	for (int i = 0; i < 6; i++)
		add_text(lb, "y");
	T_FALSE(logbuf_following(lb));
	T_EQ_INT(logbuf_bottom(lb), 0);
	T_EQ_INT(logbuf_unseen(lb), 6);
	logbuf_free(lb);
}

static void
test_logbuf_search(void)
{
	struct logbuf *lb = logbuf_new(100);
	char *cause = NULL;
	long r;

	add_text(lb, " ets Jan  8 2013,rst cause:2, boot mode:(3,6)");
	add_text(lb, "load 0x40100000, len 1396, room 16 ");
	logbuf_add(lb, LOGBUF_CRASH, 0, "Exception (28):", 15, "LoadProhibitedCause");
	add_text(lb, "load 0x3ffe8000, len 776, room 4 ");
	add_text(lb, "tail 4");
	r = logbuf_search(lb, "^load 0x[0-9a-f]+", 0, 1, -1, &cause);
	T_EQ_INT(r, 1);
	r = logbuf_search(lb, "^load 0x[0-9a-f]+", 0, 1, r, &cause);
	T_EQ_INT(r, 3);
	r = logbuf_search(lb, "^load 0x[0-9a-f]+", 0, 1, r, &cause);
	T_EQ_INT(r, -1); /* no wrap */
	r = logbuf_search(lb, "^load", 0, -1, -1, &cause);
	T_EQ_INT(r, 3);
	r = logbuf_search(lb, "^load", 0, -1, 3, &cause);
	T_EQ_INT(r, 1);
	/* The annotation is searched too, case-insensitively on request. */
	T_EQ_INT(logbuf_search(lb, "loadprohibited", 1, 1, -1, &cause), 2);
	T_EQ_INT(logbuf_search(lb, "loadprohibited", 0, 1, -1, &cause), -1);
	T_EQ_INT(logbuf_search(lb, "rst cause:(", 0, 1, -1, &cause), RC_ERR_FORMAT);
	T_TRUE(cause != NULL);
	if (cause != NULL)
		T_CONTAINS(cause, "rst cause:(");
	free(cause);
	logbuf_free(lb);
}

/* Device bytes are escaped: an ESC or a NUL never reaches the terminal; the raw bytes stay for
 * the hex view. */
static void
test_logbuf_escape_hex(void)
{
	struct logbuf *lb = logbuf_new(10);
	static const uint8_t raw[] = { 'a', 0x1b, '[', '2', 'J', 0x00, 0xff };
	char hex[64];

	logbuf_add(lb, LOGBUF_GARBAGE, 0, raw, sizeof raw, NULL);
	T_EQ_STR(logbuf_get(lb, 0)->text, "a\\e[2J\\x00\\xff");
	T_EQ_INT(logbuf_get(lb, 0)->rawlen, sizeof raw);
	T_EQ_STR(logbuf_hex(logbuf_get(lb, 0), hex, sizeof hex), "61 1b 5b 32 4a 00 ff");
	logbuf_free(lb);
}

static void
test_logbuf_save(void)
{
	struct logbuf *lb = logbuf_new(10);
	char path[] = "/tmp/test_ui_save-XXXXXX", got[256], *cause = NULL;
	int fd = mkstemp(path);
	FILE *f;
	size_t n;

	T_TRUE(fd >= 0);
	close(fd);
	add_text(lb, "ready");
	logbuf_add(lb, LOGBUF_BOOT, 0, "csum 0x2e", 9, "final checksum");
	T_EQ_INT(logbuf_save(lb, path, 0, &cause), RC_OK);
	f = fopen(path, "r");
	T_TRUE(f != NULL);
	if (f != NULL) {
		n = fread(got, 1, sizeof got - 1, f);
		got[n] = '\0';
		fclose(f);
		T_EQ_STR(got, "ready\ncsum 0x2e\n    = final checksum\n");
	}
	unlink(path);
	T_EQ_INT(logbuf_save(lb, "/nonexistent-dir/x.log", 0, &cause), RC_ERR_IO);
	T_TRUE(cause != NULL && strstr(cause, "/nonexistent-dir/x.log") != NULL);
	free(cause);
	logbuf_free(lb);
}

/* ---- the baud switcher, driven by the real decoder ---- */

struct sw_run {
	struct baudsw sw;
	struct bootlog dec;
	int switched_to[8], nswitch, shown_text;
};

static void
sw_cb(void *arg, const struct bootlog_event *ev)
{
	struct sw_run *r = arg;
	enum baudsw_action a = baudsw_event(&r->sw, ev);

	if (a == BAUDSW_SWITCH && r->nswitch < 8)
		r->switched_to[r->nswitch++] = r->sw.want;
	if (a == BAUDSW_SHOW && ev->kind != BL_GARBAGE && ev->len > ev->skip)
		r->shown_text++;
}

static void
sw_feed(struct sw_run *r, const uint8_t *b, size_t n)
{
	bootlog_feed(&r->dec, b, n);
	if (r->sw.want != 0) {
		/* As the TUI does: the partial line was read at the old baud too, drop it. */
		bootlog_flush(&r->dec);
		baudsw_done(&r->sw, 1);
		bootlog_set_read_baud(&r->dec, r->sw.baud);
	}
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;

	*len = 0;
	if (f == NULL)
		return NULL;
	b = malloc(1 << 20);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

/* Log 41 is a real capture of an AT firmware at 115200: the ROM's 74880 output is garbage there
 * (INDEX.md: "the garbage is the 74880-baud ROM output read at 115200"). */
static void
test_baudsw_real_rom_garbage(void)
{
	struct sw_run r;
	size_t len;
	uint8_t *b = slurp(t_data("bootlogs/41-at-boot15-viewed-at-115200-rom-garbage.log"), &len);

	T_TRUE(b != NULL && len > 0);
	if (b == NULL)
		return;
	memset(&r, 0, sizeof r);
	baudsw_init(&r.sw, 115200, 115200);
	bootlog_init(&r.dec, sw_cb, &r);
	bootlog_set_read_baud(&r.dec, 115200);
	/* Only the garbled part: stop at the first readable application line. */
	{
		const char *end = strstr((const char *)b, "Ai-Thinker");

		bootlog_feed(&r.dec, b, end ? (size_t)(end - (const char *)b) : len);
		bootlog_flush(&r.dec);
	}
	T_TRUE(r.nswitch >= 1);
	T_EQ_INT(r.switched_to[0], 74880);
	free(b);
}

/* ROM text sent at 74880 and application text at 115200, as a reader at the other rate sees it
 * (the decoder's UART model): the switcher follows the device both ways. */
static void
test_baudsw_follows_both_ways(void)
{
	static const char app[] =
	    "00:00:00 CFG: Loaded from flash at FA, Count 10\r\n"
	    "00:00:00 Project sonoff Sonoff Basic\r\n"
	    "00:00:01 WIF: Connecting to AP1 lab in mode 11N as sonoff...\r\n"
	    "00:00:03 HTP: Web server active on sonoff with IP address 192.168.4.20\r\n";
	struct sw_run r;
	size_t len, glen;
	uint8_t *b = slurp(t_data("bootlogs/01-healthy-at-stock-boot15-user1-1000.log"), &len);
	uint8_t *g;

	T_TRUE(b != NULL);
	if (b == NULL)
		return;
	g = malloc(len * 2 + sizeof app * 2);
	memset(&r, 0, sizeof r);
	baudsw_init(&r.sw, 115200, 115200);
	bootlog_init(&r.dec, sw_cb, &r);
	bootlog_set_read_baud(&r.dec, 115200);
	glen = bootlog_baud_garble(b, len > 400 ? 400 : len, 74880, 115200, 0, g, len * 2);
	sw_feed(&r, g, glen);
	T_EQ_INT(r.nswitch, 1);
	T_EQ_INT(r.sw.baud, 74880);
	/* Now the application starts at 115200 while we read at 74880. */
	glen = bootlog_baud_garble((const uint8_t *)app, sizeof app - 1, 115200, 74880, 3, g,
	    sizeof app * 2);
	sw_feed(&r, g, glen);
	bootlog_flush(&r.dec);
	T_EQ_INT(r.nswitch, 2);
	T_EQ_INT(r.switched_to[1], 115200);
	T_EQ_INT(r.sw.baud, 115200);
	free(g);
	free(b);
}

static void
test_baudsw_pinned_and_gives_up(void)
{
	struct baudsw sw;
	struct bootlog_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = BL_GARBAGE;
	ev.baud = 74880;
	ev.len = 20;
	baudsw_init(&sw, 115200, 0);
	T_EQ_INT(sw.app_baud, 115200);
	baudsw_pin(&sw, 0);
	T_EQ_INT(baudsw_event(&sw, &ev), BAUDSW_SHOW);
	T_EQ_INT(baudsw_boot_baud(&sw), 115200);
	baudsw_unpin(&sw);
	T_EQ_INT(baudsw_boot_baud(&sw), 74880);
	/* Flip-flopping with nothing readable in between: stop after BAUDSW_MAX_SWITCHES. */
	for (int i = 0; i < BAUDSW_MAX_SWITCHES; i++) {
		ev.baud = sw.baud == 74880 ? 115200 : 74880;
		T_EQ_INT(baudsw_event(&sw, &ev), BAUDSW_SWITCH);
		T_EQ_INT(baudsw_event(&sw, &ev), BAUDSW_DROP);
		baudsw_done(&sw, 1);
	}
	ev.baud = sw.baud == 74880 ? 115200 : 74880;
	T_EQ_INT(baudsw_event(&sw, &ev), BAUDSW_SHOW);
	T_TRUE(sw.gave_up);
	/* A failed switch pins. */
	baudsw_unpin(&sw);
	T_EQ_INT(baudsw_event(&sw, &ev), BAUDSW_SWITCH);
	baudsw_done(&sw, 0);
	T_TRUE(sw.pinned);
}

int
main(void)
{
	T_RUN(test_logbuf_bounded);
	T_RUN(test_logbuf_follow_freeze);
	T_RUN(test_logbuf_frozen_line_dropped);
	T_RUN(test_logbuf_search);
	T_RUN(test_logbuf_escape_hex);
	T_RUN(test_logbuf_save);
	T_RUN(test_baudsw_real_rom_garbage);
	T_RUN(test_baudsw_follows_both_ways);
	T_RUN(test_baudsw_pinned_and_gives_up);
	return t_done();
}
