/* Drawing: colours by role, the panes (log, device, diagnosis, job), key bar, help, too small. */
#include "config.h"

#include "ui/ui_curses.h"
#include "ui/ui_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "bootlog/bootlog_diag.h"
#include "core/clock.h"
#include "core/esc.h"

static int ui_wrap_rows(const char *s, int w);

static int ui_attrs[UIC_COUNT];

/* Role -> foreground, background (-1 default) for 8+ colours, and the monochrome attribute. */
static const struct {
	short fg, bg;
	int mono;
} ui_theme[UIC_COUNT] = {
	[UIC_NORMAL] = { -1, -1, A_NORMAL },
	[UIC_BORDER] = { COLOR_BLUE, -1, A_NORMAL },
	[UIC_TITLE] = { COLOR_CYAN, -1, A_BOLD },
	[UIC_RX] = { -1, -1, A_NORMAL },
	[UIC_GARBAGE] = { COLOR_MAGENTA, -1, A_DIM },
	[UIC_BOOT] = { COLOR_CYAN, -1, A_NORMAL },
	[UIC_CRASH] = { COLOR_RED, -1, A_BOLD },
	[UIC_NOTE] = { COLOR_YELLOW, -1, A_BOLD },
	[UIC_ANNOT] = { COLOR_GREEN, -1, A_UNDERLINE },
	[UIC_STAMP] = { COLOR_BLUE, -1, A_DIM },
	[UIC_GOOD] = { COLOR_GREEN, -1, A_BOLD },
	[UIC_BAD] = { COLOR_RED, -1, A_BOLD | A_REVERSE },
	[UIC_WARN] = { COLOR_YELLOW, -1, A_BOLD },
	[UIC_KEY] = { COLOR_BLACK, COLOR_CYAN, A_REVERSE },
	[UIC_KEYLABEL] = { -1, -1, A_NORMAL },
	[UIC_PROGRESS] = { COLOR_BLACK, COLOR_GREEN, A_REVERSE },
	[UIC_SELECT] = { COLOR_BLACK, COLOR_YELLOW, A_REVERSE },
};

/* Colours by role; NO_COLOR (https://no-color.org) or a terminal without colour gets the
 * monochrome attributes. 8, 16 and 256 colours all use the eight ANSI colours, which every one
 * of them renders the same way. */
void
ui_colour_init(struct ui *u)
{
	const char *nc = getenv("NO_COLOR");

	u->mono = (nc != NULL && *nc != '\0') || !has_colors();
	if (!u->mono) {
		start_color();
		use_default_colors();
		u->colours = COLORS;
	}
	for (int i = 0; i < UIC_COUNT; i++) {
		if (u->mono) {
			ui_attrs[i] = ui_theme[i].mono;
			continue;
		}
		init_pair((short)(i + 1), ui_theme[i].fg, ui_theme[i].bg);
		ui_attrs[i] = COLOR_PAIR(i + 1);
		if (i == UIC_TITLE || i == UIC_CRASH || i == UIC_NOTE || i == UIC_GOOD || i == UIC_WARN)
			ui_attrs[i] |= A_BOLD;
	}
}

int
ui_attr(enum ui_colour c)
{
	return ui_attrs[c];
}

int
ui_put(int y, int x, const char *s, int maxcols, int attr)
{
	mbstate_t mbs;
	size_t i = 0, len = strlen(s), n;
	int cols = 0, w;
	wchar_t wc;

	memset(&mbs, 0, sizeof mbs);
	while (i < len) {
		n = mbrtowc(&wc, s + i, len - i, &mbs);
		if (n == (size_t)-1 || n == (size_t)-2) {
			/* Not valid here (text is escaped, so this is our own ASCII): one column. */
			memset(&mbs, 0, sizeof mbs);
			n = 1;
			w = 1;
		} else if ((w = wcwidth(wc)) < 0)
			w = 1;
		if (n == 0 || cols + w > maxcols)
			break;
		cols += w;
		i += n;
	}
	if (i > 0) {
		attron(attr);
		mvaddnstr(y, x, s, (int)i);
		attroff(attr);
	}
	return cols;
}

static void
ui_hline(struct ui *u, int y, int x, int w)
{
	for (int i = 0; i < w; i++)
		mvaddstr(y, x + i, u->utf8 ? "─" : "-");
}

void
ui_box(struct ui *u, const struct ui_rect *r, const char *title, int focus)
{
	int a = ui_attr(UIC_BORDER);

	(void)focus;
	attron(a);
	ui_hline(u, r->y, r->x, r->w);
	ui_hline(u, r->y + r->h - 1, r->x, r->w);
	for (int y = r->y; y < r->y + r->h; y++) {
		mvaddstr(y, r->x, u->utf8 ? "│" : "|");
		mvaddstr(y, r->x + r->w - 1, u->utf8 ? "│" : "|");
	}
	mvaddstr(r->y, r->x, u->utf8 ? "┌" : "+");
	mvaddstr(r->y, r->x + r->w - 1, u->utf8 ? "┐" : "+");
	mvaddstr(r->y + r->h - 1, r->x, u->utf8 ? "└" : "+");
	mvaddstr(r->y + r->h - 1, r->x + r->w - 1, u->utf8 ? "┘" : "+");
	attroff(a);
	if (title != NULL) {
		char t[300];

		snprintf(t, sizeof t, " %s ", title);
		ui_put(r->y, r->x + 2, t, r->w - 4, ui_attr(UIC_TITLE));
	}
}

const char *
ui_state_name(enum ui_dev_state st)
{
	static const char *const names[] = { "unknown", "app running", "ROM boot",
	    "download mode", "stub running", "flasher job", "disconnected" };

	return names[st];
}

static enum ui_colour
ui_role_colour(enum logbuf_role r)
{
	switch (r) {
	case LOGBUF_GARBAGE: return UIC_GARBAGE;
	case LOGBUF_BOOT: return UIC_BOOT;
	case LOGBUF_CRASH: return UIC_CRASH;
	case LOGBUF_NOTE: return UIC_NOTE;
	default: return UIC_RX;
	}
}

/* ---- the log pane ---- */

static void
ui_log_draw(struct ui *u, const struct ui_rect *r)
{
	char title[200], buf[2048];
	int h = r->h - 2, w = r->w - 2;
	long bottom = logbuf_bottom(u->log), top;

	/* The baud first: it must show at all times, even when a long port name is cut. */
	snprintf(title, sizeof title, "Log %d baud %s%s %.100s", u->sw.baud,
	    u->sw.pinned ? "[pinned]" : u->sw.gave_up ? "[not following]" : "[auto]",
	    u->hex ? " hex" : "", u->port);
	ui_box(u, r, title, 1);
	if (bottom < 0) {
		ui_put(r->y + 1, r->x + 1, u->state == UI_ST_DISCONNECTED ?
		    "(no device: waiting for the adapter to come back)" : "(waiting for the device)",
		    w, ui_attr(UIC_NOTE));
		return;
	}
	top = bottom - h + 1;
	if (top < 0)
		top = 0;
	for (long i = top; i <= bottom; i++) {
		const struct logbuf_line *l = logbuf_get(u->log, (size_t)i);
		int y = r->y + 1 + (int)(i - top), x = r->x + 1, left = w, sel = i == u->found;
		int base = sel ? ui_attr(UIC_SELECT) : ui_attr(ui_role_colour(l->role));

		if (u->stamps) {
			logbuf_stamp(l->time_ms, buf, sizeof buf);
			strcat(buf, " ");
			x += ui_put(y, x, buf, left, ui_attr(UIC_STAMP));
			left = w - (x - r->x - 1);
		}
		if (u->hex && l->raw != NULL)
			logbuf_hex(l, buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "%s", l->text);
		x += ui_put(y, x, buf, left, base);
		left = w - (x - r->x - 1);
		if (l->annot != NULL && left > 4) {
			snprintf(buf, sizeof buf, u->utf8 ? "  ◂ %s" : "  <- %s", l->annot);
			ui_put(y, x, buf, left, ui_attr(UIC_ANNOT));
		}
	}
	if (!logbuf_following(u->log)) {
		snprintf(buf, sizeof buf, " frozen: %llu new line%s below (End follows) ",
		    (unsigned long long)logbuf_unseen(u->log), logbuf_unseen(u->log) == 1 ? "" : "s");
		ui_put(r->y + r->h - 1, r->x + 2, buf, w - 2, ui_attr(UIC_WARN) | A_REVERSE);
	}
}

const struct ui_pane_ops ui_pane_log = { "log", ui_log_draw };

/* ---- the device pane ---- */

static void
ui_kv(int y, int x, int w, const char *k, const char *v, int vattr)
{
	int used = ui_put(y, x, k, w, ui_attr(UIC_TITLE));

	ui_put(y, x + used, v, w - used, vattr);
}

static void
ui_device_draw(struct ui *u, const struct ui_rect *r)
{
	char v[300];
	int y = r->y + 1, x = r->x + 1, w = r->w - 2, last = r->y + r->h - 1;
	enum ui_colour sc;

	ui_box(u, r, "Device", 0);
	/* Rows stop at the box: a flow's checklist may have taken some. */
	if (y < last)
		ui_kv(y++, x, w, "Port    ", u->port, ui_attr(UIC_NORMAL));
	if (y < last)
		ui_kv(y++, x, w, "Adapter ", u->adapter, ui_attr(UIC_NORMAL));
	snprintf(v, sizeof v, "%d%s", u->sw.baud, u->sw.pinned ? " (pinned)" : "");
	if (y < last)
		ui_kv(y++, x, w, "Baud    ", v, ui_attr(UIC_NORMAL));
	sc = u->state == UI_ST_DISCONNECTED ? UIC_BAD : u->state == UI_ST_APP ? UIC_GOOD : UIC_WARN;
	if (y < last)
		ui_kv(y++, x, w, "State   ", ui_state_name(u->state), ui_attr(sc));
	if (u->have_info) {
		if (y < last)
			ui_kv(y++, x, w, "Chip    ", u->info.chip, ui_attr(UIC_NORMAL));
		snprintf(v, sizeof v, "%02x:%02x:%02x:%02x:%02x:%02x", u->info.mac[0], u->info.mac[1],
		    u->info.mac[2], u->info.mac[3], u->info.mac[4], u->info.mac[5]);
		if (y < last)
			ui_kv(y++, x, w, "MAC     ", v, ui_attr(UIC_NORMAL));
		/* Manufacturer first, as datasheets and esptool print it. */
		snprintf(v, sizeof v, "0x%02X%02X%02X %s %u KB", u->info.jedec & 0xff,
		    (u->info.jedec >> 8) & 0xff, (u->info.jedec >> 16) & 0xff,
		    u->info.vendor ? u->info.vendor : "", u->flash_size / 1024);
		if (y < last)
			ui_kv(y++, x, w, "Flash   ", v, ui_attr(UIC_NORMAL));
	} else if (y < last)
		ui_kv(y++, x, w, "Chip    ", "? (F2 identifies)", ui_attr(UIC_NORMAL));
	if (y < last) {
		snprintf(v, sizeof v, "%s", u->profile ? u->profile->name : "none");
		ui_kv(y++, x, w, "Profile ", v, ui_attr(u->ncontra ? UIC_BAD : UIC_NORMAL));
	}
	for (size_t i = 0; i < u->ncontra && y < last; i++)
		ui_put(y++, x, u->contra[i], w, ui_attr(UIC_BAD));
}

const struct ui_pane_ops ui_pane_device = { "device", ui_device_draw };

/* Word-wraps s into rows of w columns from y; returns the next free row (stops at last). */
/* How many bytes of s from pos go on a row of w columns: up to the last space that fits, or w
 * when a word is longer than the row. */
static size_t
ui_wrap_cut(const char *s, size_t pos, size_t len, int w)
{
	size_t n = len - pos, cut;

	if (w < 1 || n <= (size_t)w)   /* no room at all: one row takes the rest, cut short */
		return n;
	cut = (size_t)w;
	while (cut > 0 && s[pos + cut] != ' ')
		cut--;
	return cut ? cut : (size_t)w;
}

static int
ui_wrap(int y, int x, int w, int last, const char *s, int attr)
{
	char row[512];
	size_t len = strlen(s), pos = 0;

	while (pos < len && y < last) {
		size_t n = ui_wrap_cut(s, pos, len, w);

		if (n >= sizeof row)
			n = sizeof row - 1;
		memcpy(row, s + pos, n);
		row[n] = '\0';
		ui_put(y++, x, row, w, attr);
		pos += n;
		while (s[pos] == ' ')
			pos++;
	}
	return y;
}

static void
ui_diag_draw(struct ui *u, const struct ui_rect *r)
{
	const struct bootlog_verdict *v = &u->verdict;
	int y = r->y + 1, x = r->x + 1, w = r->w - 2, last = r->y + r->h - 1;
	char line[400], ev[300];

	ui_box(u, r, "Diagnosis", 0);
	if (u->diag.lines == 0) {
		ui_put(y, x, "no boot seen yet", w, ui_attr(UIC_NORMAL));
		return;
	}
	snprintf(line, sizeof line, "%s (%.0f%%)", bootlog_cause_name(v->cause),
	    v->confidence * 100);
	ui_put(y++, x, line, w, ui_attr(v->cause == BL_CAUSE_HEALTHY ? UIC_GOOD : UIC_BAD));
	snprintf(line, sizeof line, "boots %u%s", v->boots, v->loop ? "  BOOT LOOP" : "");
	if (v->interval_ms > 0)
		snprintf(line + strlen(line), sizeof line - strlen(line), " every %.1f s",
		    (double)v->interval_ms / 1000.0);
	ui_put(y++, x, line, w, ui_attr(v->loop ? UIC_BAD : UIC_NORMAL));
	y = ui_wrap(y, x, w, last, v->summary, ui_attr(UIC_NORMAL));
	for (size_t i = 0; i < v->nevidence && y < last; i++) {
		esc_bytes(ev, sizeof ev, v->evidence[i].text, v->evidence[i].len, 0);
		snprintf(line, sizeof line, "%llu: %s", (unsigned long long)v->evidence[i].lineno, ev);
		ui_put(y++, x, line, w, ui_attr(UIC_BOOT));
	}
	if (v->advice != NULL && y < last) {
		snprintf(line, sizeof line, "Fix: %s", v->advice);
		ui_wrap(y, x, w, last, line, ui_attr(UIC_WARN));
	}
}

const struct ui_pane_ops ui_pane_diag = { "diagnosis", ui_diag_draw };

static void
ui_fmt_secs(char *dst, size_t size, double s)
{
	if (s < 0)
		snprintf(dst, size, "?");
	else if (s < 60)
		snprintf(dst, size, "%.0f s", s);
	else
		snprintf(dst, size, "%d:%02d", (int)s / 60, (int)s % 60);
}

/* The progress bar with bytes, rate and ETA (plain jobs and flow steps alike); returns the
 * next free row. */
static int
ui_progress(struct ui *u, const struct ui_job_status *s, int y, int x, int w)
{
	char line[200], eta[32];
	double frac = s->total ? (double)s->done / (double)s->total : 0;
	int fill = (int)(frac * (w - 7));

	move(y, x);
	attron(ui_attr(UIC_PROGRESS));
	for (int i = 0; i < fill; i++)
		addch(' ');
	attroff(ui_attr(UIC_PROGRESS));
	for (int i = fill; i < w - 7; i++)
		addstr(u->utf8 ? "·" : ".");
	snprintf(line, sizeof line, " %3.0f%%", frac * 100);
	ui_put(y++, x + w - 6, line, 6, ui_attr(UIC_NORMAL));
	ui_fmt_secs(eta, sizeof eta, s->eta);
	snprintf(line, sizeof line, "%llu/%llu KB %.0f KB/s ETA %s",
	    (unsigned long long)(s->done / 1024), (unsigned long long)(s->total / 1024),
	    s->rate / 1024.0, eta);
	ui_put(y++, x, line, w, ui_attr(UIC_NORMAL));
	return y;
}

static int
ui_data_phase(enum flasher_phase p)
{
	return p == FLASHER_PH_READ || p == FLASHER_PH_WRITE || p == FLASHER_PH_ERASE ||
	    p == FLASHER_PH_VERIFY;
}

/* The flow pane: the checklist, the profile's instructions while waiting for download mode,
 * the progress bar of the running step (the engine's events), what the boot watch wants, the
 * engine's last line, and how it ended (with the boot watch's diagnosis when it failed). */
static void
ui_flow_draw(struct ui *u, const struct ui_rect *r)
{
	static const char *const mark[] = { "[ ]", "[>]", "[x]", "[!]" };
	const struct ui_job_status *s = &u->js;
	int y = r->y + 1, x = r->x + 1, w = r->w - 2, last = r->y + r->h - 1;
	char line[400];

	size_t from = 0;

	snprintf(line, sizeof line, "Flow: %s", u->flow_name);
	ui_box(u, r, line, 0);
	/* Ended in a short pane (80x24): the steps proven before the last one ran fold into one
	 * line, so the outcome and its advice fit. */
	if (!s->running && s->nsteps > 2 && (int)s->nsteps + 2 + ui_wrap_rows(s->rc == 0 ?
	    s->result : s->cause, w) > last - 1 - y) {
		size_t k = 0;

		while (k + 1 < s->nsteps && s->step_state[k] == 2 && s->step_state[k + 1] == 2)
			k++;
		if (k >= 2) {
			snprintf(line, sizeof line, "[x] %s .. %s: done (%zu)", s->step_name[0],
			    s->step_name[k - 1], k);
			ui_put(y++, x, line, w, ui_attr(UIC_GOOD));
			from = k;
		}
	}
	for (size_t i = from; i < s->nsteps && y < last; i++) {
		int st = s->step_state[i];
		int waiting = s->running && s->waiting && st == 1;

		snprintf(line, sizeof line, "%s %s%s", waiting ? "[?]" : mark[st & 3],
		    s->step_name[i], waiting ? ": waiting for you" : st == 1 ? ": running" :
		    st == 2 ? ": done" : st == 3 ? ": failed" : "");
		ui_put(y++, x, line, w, ui_attr(st == 2 ? UIC_GOOD : st == 3 ? UIC_BAD :
		    st == 1 ? UIC_TITLE : UIC_NORMAL));
	}
	if (s->running) {
		if (s->waiting && y < last) {
			ui_put(y++, x, "waiting for download mode...", w, ui_attr(UIC_WARN) |
			    ((clock_now_ms() / 500) % 2 ? A_REVERSE : 0));
			/* The engine's own words: what to do, or that the adapter is away and why
			 * it does not open again. The profile's, where known, say it for this board. */
			if (s->msg[0] && (u->profile == NULL || u->profile->download_mode == NULL ||
			    strstr(s->msg, "waiting for download mode") == NULL))
				y = ui_wrap(y, x, w, last, s->msg, ui_attr(UIC_NORMAL));
			if (u->profile != NULL && u->profile->download_mode != NULL)
				y = ui_wrap(y, x, w, last, u->profile->download_mode,
				    ui_attr(UIC_NORMAL));
			if (u->profile != NULL && u->profile->nheader_pins > 0 && y < last) {
				size_t k = (size_t)snprintf(line, sizeof line, "pins:");

				for (size_t i = 0; i < u->profile->nheader_pins && k < sizeof line; i++)
					k += (size_t)snprintf(line + k, sizeof line - k, " %s",
					    u->profile->header_pins[i]);
				y = ui_wrap(y, x, w, last, line, ui_attr(UIC_NORMAL));
			}
			if (u->profile != NULL && u->profile->mains_live && y < last)
				y = ui_wrap(y, x, w, last, "MAINS: never connect it to mains while "
				    "the adapter is attached", ui_attr(UIC_BAD));
			if (u->o.demo && y < last)
				ui_put(y++, x, u->demo_hands_off ? "demo: g = GPIO0, P = power" :
				    "demo: the button and power are handled for you", w,
				    ui_attr(UIC_NOTE));
		} else {
			if (s->total > 0 && ui_data_phase(s->phase) && y + 1 < last)
				y = ui_progress(u, s, y, x, w);
			if (s->watch_msg[0] && y < last) {
				y = ui_wrap(y, x, w, last, s->watch_msg, ui_attr(UIC_WARN));
				if (y < last)
					ui_put(y++, x, "the boot shows in the log pane", w,
					    ui_attr(UIC_NOTE));
			} else if (s->msg[0] && y < last)
				y = ui_wrap(y, x, w, last - 1, s->msg, ui_attr(UIC_NORMAL));
		}
		if (y < last)
			ui_put(last - 1, x, "Esc cancels (resumable)", w, ui_attr(UIC_STAMP));
		return;
	}
	if (y < last)
		ui_put(y++, x, s->rc == 0 ? "flow done" : "flow failed", w,
		    ui_attr(s->rc == 0 ? UIC_GOOD : UIC_BAD));
	y = ui_wrap(y, x, w, last - 1, s->rc == 0 ? s->result : s->cause, ui_attr(UIC_NORMAL));
	if (y < last - 1)
		ui_put(y++, x, "the boot shows in the log pane", w, ui_attr(UIC_NOTE));
	if (y < last)
		ui_put(last - 1, x, "Esc closes", w, ui_attr(UIC_STAMP));
}

static void
ui_job_draw(struct ui *u, const struct ui_rect *r)
{
	const struct ui_job_status *s = &u->js;
	int y = r->y + 1, x = r->x + 1, w = r->w - 2, last = r->y + r->h - 1;
	char line[400];

	if (s->op == UI_JOB_FLOW) {
		ui_flow_draw(u, r);
		return;
	}
	snprintf(line, sizeof line, "Job: %s", ui_job_op_name(s->op));
	ui_box(u, r, line, 0);
	if (s->running) {
		snprintf(line, sizeof line, "%s%s", flasher_phase_name(s->phase),
		    u->job.st.running && atomic_load(&u->job.cancel) ? " (cancelling)" : "");
		ui_put(y++, x, line, w, ui_attr(UIC_TITLE));
		if (s->waiting) {
			/* Live: blinks with the engine's once-a-second WAITING events. */
			ui_put(y++, x, "waiting for download mode...", w, ui_attr(UIC_WARN) |
			    ((clock_now_ms() / 500) % 2 ? A_REVERSE : 0));
			if (u->profile != NULL && u->profile->download_mode != NULL)
				y = ui_wrap(y, x, w, last, u->profile->download_mode, ui_attr(UIC_NORMAL));
			else
				y = ui_wrap(y, x, w, last, s->msg, ui_attr(UIC_NORMAL));
			if (u->o.demo && y < last)
				ui_put(y++, x, "demo: g presses GPIO0, P power-cycles", w, ui_attr(UIC_NOTE));
		} else if (s->total > 0 && s->phase != FLASHER_PH_CONNECT) {
			y = ui_progress(u, s, y, x, w);
		} else if (s->msg[0])
			y = ui_wrap(y, x, w, last, s->msg, ui_attr(UIC_NORMAL));
		if (y < last)
			ui_put(last - 1, x, "Esc cancels", w, ui_attr(UIC_STAMP));
		return;
	}
	if (s->rc == 0) {
		ui_put(y++, x, "done", w, ui_attr(UIC_GOOD));
		y = ui_wrap(y, x, w, last, s->result, ui_attr(UIC_NORMAL));
	} else {
		ui_put(y++, x, "failed", w, ui_attr(UIC_BAD));
		y = ui_wrap(y, x, w, last, s->cause, ui_attr(UIC_NORMAL));
	}
	if (y < last)
		ui_put(last - 1, x, "Esc closes", w, ui_attr(UIC_STAMP));
}

const struct ui_pane_ops ui_pane_job = { "job", ui_job_draw };

/* ---- key bar, help, too small ---- */

static void
ui_keybar(struct ui *u, int y)
{
	int x = 0;
	char k[16];

	move(y, 0);
	clrtoeol();
	for (size_t i = 0; i < ui_nkeys && x < COLS; i++) {
		const struct ui_key *kb = &ui_keys[i];

		if (kb->bar == NULL || (kb->demo && !u->o.demo))
			continue;
		if (kb->key >= KEY_F(1) && kb->key <= KEY_F(12))
			snprintf(k, sizeof k, "F%d", kb->key - KEY_F(0));
		else
			snprintf(k, sizeof k, "%c", kb->key);
		x += ui_put(y, x, k, COLS - x, ui_attr(UIC_KEYLABEL) | A_BOLD);
		x += ui_put(y, x, kb->bar, COLS - x, ui_attr(UIC_KEY));
		x += ui_put(y, x, " ", COLS - x, 0);
	}
}

int
ui_help_entries(const struct ui *u)
{
	int n = 0;

	for (size_t i = 0; i < ui_nkeys; i++)
		if (ui_keys[i].name != NULL && (!ui_keys[i].demo || u->o.demo))
			n++;
	return n;
}

/* The keys, from entry u->help_top on, each help text wrapped under its own column; two
 * columns on a wide screen. The title says when there is more to scroll to. */
static void
ui_help_draw(struct ui *u)
{
	struct ui_rect r = { 0, 0, COLS, LINES };
	int y = 1, col = 0, colw = COLS >= 160 ? COLS / 2 : COLS, last = LINES - 1, idx = 0;
	int tw = colw - 4 - 7, more = 0;

	for (size_t i = 0; i < ui_nkeys; i++) {
		const struct ui_key *k = &ui_keys[i];
		int attr = ui_attr(k->demo ? UIC_NOTE : UIC_NORMAL);

		if (k->name == NULL || (k->demo && !u->o.demo) || idx++ < u->help_top)
			continue;
		if (y + ui_wrap_rows(k->help, tw) > last) {
			if (colw == COLS || col != 0) {
				more = 1;
				break;
			}
			y = 1;
			col = colw;
		}
		ui_put(y, col + 2, k->name, 6, attr);
		y = ui_wrap(y, col + 2 + 7, tw, last, k->help, attr);
	}
	ui_box(u, &r, more ? "espdesk keys (Down/PgDn: more; any other key closes)" :
	    u->help_top > 0 ? "espdesk keys (Up/PgUp: back; any other key closes)" :
	    "espdesk keys (any key closes)", 0);
}

/* A box over the panes, centred, w columns (capped to the screen), h rows; cleared inside. */
static struct ui_rect
ui_overlay(struct ui *u, const char *title, int w, int h)
{
	struct ui_rect r;

	if (w > COLS - 2)
		w = COLS - 2;
	if (h > LINES - 3)
		h = LINES - 3;
	r = (struct ui_rect){ (COLS - w) / 2, (LINES - 2 - h) / 2, w, h };
	for (int y = r.y; y < r.y + r.h; y++)
		mvhline(y, r.x, ' ', r.w);
	ui_box(u, &r, title, 1);
	return r;
}

/* Rows ui_wrap() needs for s in w columns. */
static int
ui_wrap_rows(const char *s, int w)
{
	size_t len = strlen(s), pos = 0;
	int rows = 0;

	while (pos < len) {
		pos += ui_wrap_cut(s, pos, len, w);
		while (s[pos] == ' ')
			pos++;
		rows++;
	}
	return rows;
}

/* The running flow's question: what it means (the flow's detail), the question, and how to
 * answer (a risky one wants "yes" typed out). Wide enough for the detail at 80x24. */
static void
ui_question_draw(struct ui *u)
{
	int w = COLS - 4 > 90 ? 90 : COLS - 4, iw = w - 4, h, y, last;
	int typed = u->prompt == UI_PR_FLOW_TYPED;
	struct ui_rect r;
	char ans[300];

	if (u->prompt == UI_PR_RESUME)
		snprintf(ans, sizeof ans, "y resumes it, a forgets it, any other key leaves it");
	else if (typed)
		snprintf(ans, sizeof ans, "Type yes and Enter to go ahead; anything else or Esc "
		    "stops the flow safely: %.100s", u->prompt_buf);
	else
		snprintf(ans, sizeof ans, "y goes ahead; any other key stops the flow safely");
	h = 2 + ui_wrap_rows(u->confirm_text, iw) + 1 + ui_wrap_rows(ans, iw);
	if (u->confirm_detail[0] && u->prompt != UI_PR_RESUME)
		h += ui_wrap_rows(u->confirm_detail, iw) + 1;
	r = ui_overlay(u, u->prompt == UI_PR_RESUME ? "An unfinished flow" : typed ?
	    "The flow asks (this risks your only backup)" : "The flow asks", w, h);
	y = r.y + 1;
	last = r.y + r.h - 1;
	if (u->confirm_detail[0] && u->prompt != UI_PR_RESUME)
		y = ui_wrap(y, r.x + 2, iw, last, u->confirm_detail, ui_attr(UIC_NORMAL)) + 1;
	y = ui_wrap(y, r.x + 2, iw, last, u->confirm_text, ui_attr(UIC_WARN)) + 1;
	ui_wrap(y, r.x + 2, iw, last, ans, ui_attr(UIC_TITLE));
}

/* F9's picker: the store's backups, newest first, the selected one highlighted. */
static void
ui_pick_draw(struct ui *u)
{
	int w = COLS - 2 > 110 ? 110 : COLS - 2, iw = w - 4, h, rows;
	struct ui_rect r;
	char line[300];

	if (u->npicks == 0) {
		r = ui_overlay(u, "Restore a backup", w, 4 + ui_wrap_rows(u->pick_note, iw));
		ui_wrap(r.y + 1, r.x + 2, iw, r.y + r.h - 2, u->pick_note, ui_attr(UIC_WARN));
		ui_put(r.y + r.h - 2, r.x + 2, "Esc closes", iw, ui_attr(UIC_STAMP));
		return;
	}
	rows = (int)u->npicks;
	if (rows > LINES - 9)
		rows = LINES - 9;
	h = rows + 5;
	if (u->pick_sel < u->pick_top)
		u->pick_top = u->pick_sel;
	if (u->pick_sel >= u->pick_top + (size_t)rows)
		u->pick_top = u->pick_sel - (size_t)rows + 1;
	snprintf(line, sizeof line, "Restore which backup? %zu in the store, newest first",
	    u->npicks);
	r = ui_overlay(u, line, w, h);
	snprintf(line, sizeof line, "%-12s %-16s %6s %-8s %-10s %s", "MAC", "taken (UTC)", "size",
	    "family", "whose", "state profile");
	ui_put(r.y + 1, r.x + 2, line, iw, ui_attr(UIC_TITLE));
	for (int i = 0; i < rows && u->pick_top + (size_t)i < u->npicks; i++) {
		size_t k = u->pick_top + (size_t)i;
		int sel = k == u->pick_sel;

		snprintf(line, sizeof line, "%-*s", iw, u->picks[k].line);
		ui_put(r.y + 2 + i, r.x + 2, line, iw, sel ? ui_attr(UIC_SELECT) :
		    ui_attr(u->picks[k].same == 0 ? UIC_WARN : UIC_NORMAL));
	}
	snprintf(line, sizeof line, "%s", u->picks[u->pick_sel].id);
	ui_put(r.y + r.h - 3, r.x + 2, line, iw, ui_attr(UIC_STAMP));
	ui_put(r.y + r.h - 2, r.x + 2, "Up/Down choose, Enter restores, Esc cancels", iw,
	    ui_attr(UIC_STAMP));
}

void
ui_draw_all(struct ui *u)
{
	struct ui_rect lr, dr, gr;
	int side, devh, body;
	char t[600];

	erase();
	if (COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS) {
		snprintf(t, sizeof t, "terminal too small: %dx%d, espdesk needs %dx%d", COLS, LINES,
		    UI_MIN_COLS, UI_MIN_ROWS);
		ui_put(LINES / 2, 0, t, COLS, ui_attr(UIC_WARN));
		ui_put(LINES / 2 + 1, 0, "enlarge the window, or q quits", COLS, ui_attr(UIC_NORMAL));
		return;
	}
	if (u->help) {
		ui_help_draw(u);
		return;
	}
	body = LINES - 2;
	side = COLS >= 120 ? 44 : 32;
	lr = (struct ui_rect){ 0, 0, COLS - side, body };
	devh = 11 + (int)(u->ncontra < 4 ? u->ncontra : 4);
	if (devh > body / 2)
		devh = body / 2;
	/* A flow's checklist, progress and diagnosis need the rows more than the device facts
	 * (port, adapter, baud and state stay). */
	if (u->job_shown && u->js.op == UI_JOB_FLOW && body - devh < (int)u->js.nsteps + 9) {
		devh = body - ((int)u->js.nsteps + 9);
		if (devh < 6)
			devh = 6;
	}
	dr = (struct ui_rect){ COLS - side, 0, side, devh };
	gr = (struct ui_rect){ COLS - side, devh, side, body - devh };
	ui_pane_log.draw(u, &lr);
	ui_pane_device.draw(u, &dr);
	if (u->prompt == UI_PR_CONFIRM) {
		ui_box(u, &gr, "Confirm", 0);
		int y = ui_wrap(gr.y + 1, gr.x + 1, gr.w - 2, gr.y + gr.h - 2, u->confirm_text,
		    ui_attr(UIC_WARN));
		ui_put(y < gr.y + gr.h - 1 ? y : gr.y + gr.h - 2, gr.x + 1,
		    "y goes ahead, any other key cancels", gr.w - 2, ui_attr(UIC_TITLE));
	} else if (u->job_shown)
		ui_pane_job.draw(u, &gr);
	else
		ui_pane_diag.draw(u, &gr);
	if (u->prompt == UI_PR_FLOW_ASK || u->prompt == UI_PR_FLOW_TYPED ||
	    u->prompt == UI_PR_RESUME)
		ui_question_draw(u);
	else if (u->prompt == UI_PR_PICK)
		ui_pick_draw(u);
	/* The status line: a prompt, or the last message. */
	if (u->prompt != UI_PR_NONE) {
		int x = ui_put(LINES - 2, 0, u->prompt_label, COLS, ui_attr(UIC_TITLE));

		if (u->prompt != UI_PR_CONFIRM && u->prompt != UI_PR_FLOW_ASK &&
		    u->prompt != UI_PR_RESUME && u->prompt != UI_PR_PICK)
			ui_put(LINES - 2, x, u->prompt_buf, COLS - x - 1, ui_attr(UIC_NORMAL));
	} else
		ui_put(LINES - 2, 0, u->status, COLS, ui_attr(u->status_bad ? UIC_BAD : UIC_NOTE));
	ui_keybar(u, LINES - 1);
}
