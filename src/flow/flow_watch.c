/*
 * flow_watch.c: the last step of a write: start the new firmware and follow its boot through
 * the boot-log decoder until the application is up, or until the diagnosis (cause, evidence,
 * advice) says what went wrong.
 *
 * Starting the firmware is the board's business: an adapter with auto-reset wiring restarts it
 * through RTS; on a board without (every Sonoff) the user power-cycles it, often by unplugging
 * the adapter, so the port may go away and come back. Both are followed: an RTS pulse that
 * brings nothing gets the user told, and a port that disappears is waited for and opened again.
 */
#include "config.h"

#include "flow/flow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootlog/baudsw.h"
#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "core/clock.h"
#include "core/esc.h"
#include "core/xmalloc.h"
#include "profile/profile.h"
#include "serial/ser.h"
#include "serial/ser_wait.h"

/* The ROM prints its banner this soon after a reset; silence longer than this after an RTS
 * pulse means the pulse reached nothing. */
#define WATCH_RTS_SILENCE_MS 1500
/* How long an unplugged adapter is waited for. */
#define WATCH_REPLUG_MS 120000
/* A partial line is decoded after this much quiet (text at a wrong baud has no line ends). */
#define WATCH_IDLE_FLUSH_MS 200

struct watch {
	struct flow_ctx *c;
	struct bootlog dec;
	struct bootlog_diag diag;
	struct ser *s;
	atomic_bool *cancel;
	struct baudsw sw;  /* the port's baud, and where the device's text says to go */
	int app_seen;      /* this boot reached its application (the switch to its baud asked) */
	int heard;         /* a byte arrived since the board was (re)started */
	int banner;        /* a ROM banner was seen */
	int replugged;     /* the port went away and came back */
	int told;          /* while it is away: 1 said gone, 2 said stuck */
};

static void
watch_event(void *arg, const struct bootlog_event *ev)
{
	struct watch *w = arg;
	char line[400];

	bootlog_diag_event(&w->diag, ev, clock_now_ms());
	if (ev->kind == BL_ROM_BANNER)
		w->banner = 1, w->app_seen = 0;
	/* Text at another baud (the application's, also when the banner was missed while the
	 * adapter was unplugged) is followed as the log pane follows it. */
	if (baudsw_event(&w->sw, ev) != BAUDSW_SHOW)
		return;
	esc_bytes(line, sizeof line, ev->text, ev->len, ESC_KEEP_UTF8);
	fprintf(w->c->o.out, "  | %s\n", line);
}

/* Tells the user (and a front end, through a RESET event with msg) what happens now. */
static void
announce(struct flow_ctx *c, const char *msg, int ms)
{
	struct flasher_event ev;

	flow_say(c, "  %s. Watching %s for %d s ...", msg, c->o.port, ms / 1000);
	memset(&ev, 0, sizeof ev);
	ev.phase = FLASHER_PH_RESET;
	ev.msg = msg;
	if (c->o.ev_cb != NULL)
		c->o.ev_cb(c->o.cb_arg, &ev);
}

/* The board has no auto-reset after all: remembered, so a resumed flow says so from the start. */
static void
learn_manual(struct flow_ctx *c)
{
	c->o.manual = 1;
	c->j.manual = 1;
}

/* Switches the port to w->sw.want. */
static void
switch_baud(struct watch *w)
{
	bootlog_flush(&w->dec);
	if (ser_set_baud(w->s, w->sw.want) != RC_OK) {
		baudsw_done(&w->sw, 0);
		return;
	}
	ser_discard(w->s);
	baudsw_done(&w->sw, 1);
	bootlog_set_read_baud(&w->dec, w->sw.baud);
}

/* What the user is told while the port is away: each state once. */
static void
replug_say(void *arg, int gone, const char *why)
{
	struct watch *w = arg;
	struct flow_ctx *c = w->c;

	if (gone && w->told != 1)
		flow_say(c, "  %s is gone (the adapter unplugged): plug it in again WITHOUT holding "
		    "the button, and the board boots the new firmware", c->o.port);
	else if (!gone && w->told != 2)
		flow_say(c, "  %s is back but cannot be opened: %s", c->o.port, why);
	w->told = gone ? 1 : 2;
}

/* The port went away (the adapter unplugged to cut the power): waits for it (ser_wait.h), opens
 * it again at the ROM's baud. */
static int
replug(struct watch *w, char **cause)
{
	struct flow_ctx *c = w->c;
	char *why = NULL;
	int rc;

	ser_close(w->s);
	w->s = NULL;
	bootlog_flush(&w->dec);
	w->dec.stage = BL_STAGE_NONE;   /* the power goes with the adapter: a new boot follows */
	learn_manual(c);
	w->told = 0;
	rc = ser_wait_back(c->o.port, 74880, clock_now_ms() + WATCH_REPLUG_MS, w->cancel,
	    replug_say, w, &w->s, &why);
	if (rc == RC_ERR_CANCEL) {
		free(why);
		*cause = xstrdup("cancelled while waiting for the adapter to come back");
		return rc;
	}
	if (rc != RC_OK) {
		*cause = xfmt("%s; the firmware is written and verified: power the board and check "
		    "its boot with `espdesk monitor -p %s`", why, c->o.port);
		free(why);
		return rc;
	}
	baudsw_init(&w->sw, BAUDSW_ROM_BAUD, 0);
	w->heard = 0;
	w->replugged = 1;
	bootlog_set_read_baud(&w->dec, w->sw.baud);
	return RC_OK;
}

/* The verdict over what was seen: RC_OK when the application is up. */
static int
verdict(struct watch *w, char **cause)
{
	struct flow_ctx *c = w->c;
	struct bootlog_facts facts;
	struct bootlog_verdict v;

	bootlog_flush(&w->dec);
	bootlog_facts_init(&facts);
	facts.chip = c->info == NULL ? BL_CHIP_UNKNOWN : c->info->esp8285 ? BL_CHIP_ESP8285 :
	    BL_CHIP_ESP8266;
	facts.flash_size = c->size;
	if (c->info != NULL && c->info->esp8285)
		facts.flash_mode = 3;
	else if (c->prof != NULL)
		facts.flash_mode = (int)c->prof->mode;
	if (c->img != NULL && c->img_len > 3 && c->img[0] == 0xE9)
		facts.hdr_mode = c->hdr.mode >= 0 ? c->hdr.mode : c->img[2];
	bootlog_diag_verdict(&w->diag, &facts, &v);
	if (w->replugged && !w->banner)
		flow_say(c, "  the ROM's boot messages passed while %s was away (a replugged adapter "
		    "takes longer to appear than the chip to boot): judged from what followed",
		    c->o.port);
	flow_say(c, "  boot: %s (%.0f%%): %s", bootlog_cause_name(v.cause), v.confidence * 100,
	    v.summary);
	if (v.cause == BL_CAUSE_HEALTHY)
		return RC_OK;
	flow_say(c, "  what to do: %s", v.advice ? v.advice : "see `espdesk monitor`");
	*cause = xfmt("the device did not reach its application: %s%s%s",
	    bootlog_cause_name(v.cause), v.advice ? ". What to do: " : "", v.advice ? v.advice : "");
	return RC_ERR_DEVICE;
}

int
flow_st_watch(struct flow_ctx *c, char **cause)
{
	struct watch *w;
	uint8_t rx[1024];
	int64_t start, rts_at = -1, last_rx = 0;
	int rc, ms = c->o.watch_ms ? c->o.watch_ms : 6000;

	if (c->o.watch_ms < 0) {
		flow_say(c, "  not watching (--no-watch): nothing is known of the boot");
		c->skipped = 1;
		return RC_OK;
	}
	if (c->f != NULL) {
		if ((rc = flasher_finish(c->f, cause)) != RC_OK)
			return rc;
		flasher_close(c->f);
		c->f = NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->c = c;
	w->cancel = c->o.cancel != NULL ? c->o.cancel : &c->cancel;
	baudsw_init(&w->sw, BAUDSW_ROM_BAUD, 0);
	if ((rc = ser_open(c->o.port, w->sw.baud, &w->s, cause)) != RC_OK) {
		free(w);
		return rc;
	}
	bootlog_init(&w->dec, watch_event, w);
	bootlog_set_read_baud(&w->dec, w->sw.baud);
	bootlog_diag_init(&w->diag);
	/* EN low through RTS with GPIO0 high (DTR off), then release: a hardware reset into the
	 * firmware where the adapter has auto-reset wiring. */
	if (!c->o.manual && ser_set_dtr_rts(w->s, 0, 1) == RC_OK) {
		clock_sleep_ms(100);
		ser_set_dtr_rts(w->s, 0, 0);
		rts_at = clock_now_ms();
		announce(c, "reset through RTS", ms);
	} else
		announce(c, "power-cycle the board WITHOUT holding the button, so it boots the new "
		    "firmware", ms);
	start = clock_now_ms();
	for (;;) {
		int n;

		if (clock_now_ms() - start >= ms) {
			/* A partial line may still say the device is at another baud. */
			bootlog_flush(&w->dec);
			if (w->sw.want == 0)
				break;
			n = 0;
		} else
			n = ser_read(w->s, rx, sizeof rx, 50);

		if (atomic_load(w->cancel)) {
			rc = RC_ERR_CANCEL;
			*cause = xstrdup("cancelled while watching the boot");
			goto out;
		}
		if (n < 0) {
			if ((rc = replug(w, cause)) != RC_OK)
				goto out;
			rts_at = -1;
			start = clock_now_ms();
			continue;
		}
		if (n == 0 && w->dec.len > 0 && clock_now_ms() - last_rx >= WATCH_IDLE_FLUSH_MS)
			bootlog_flush(&w->dec);
		if (n > 0) {
			w->heard = 1;
			last_rx = clock_now_ms();
			if (c->o.rx_cb != NULL)
				c->o.rx_cb(c->o.cb_arg, rx, (size_t)n, w->sw.baud);
			bootlog_feed(&w->dec, rx, (size_t)n);
		}
		if (rts_at >= 0 && !w->heard && clock_now_ms() - rts_at >= WATCH_RTS_SILENCE_MS) {
			rts_at = -1;
			learn_manual(c);
			announce(c, "nothing came after the RTS reset: this board has no auto-reset "
			    "wiring (no Sonoff has). Power-cycle it now WITHOUT holding the button", ms);
			start = clock_now_ms();
		}
		/* The decoder saw the handoff: the application talks at its own baud from here. */
		if (w->dec.stage == BL_STAGE_APP && !w->app_seen && w->sw.want == 0 &&
		    !w->sw.pinned) {
			w->app_seen = 1;
			if (w->sw.baud != w->sw.app_baud)
				w->sw.want = w->sw.app_baud;
		}
		if (w->sw.want != 0) {
			/* The watch starts over at the device's baud: what came so far was noise. */
			switch_baud(w);
			start = clock_now_ms();
		}
	}
	rc = verdict(w, cause);
out:
	ser_close(w->s);
	free(w);
	return rc;
}
