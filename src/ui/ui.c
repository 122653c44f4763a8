/* The workstation's loop: terminal, port, job pipe and signals in one poll(); keys; jobs. */
#include "config.h"

#include "ui/ui.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup/backup.h"
#include "bootlog/bootlog.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/sig.h"
#include "core/xmalloc.h"
#include "flow/flow.h"
#include "ui/ui_curses.h"
#include "ui/ui_int.h"

/* Silence after which a partial line is shown (the device may never end it). */
#define UI_IDLE_FLUSH_MS 100
#define UI_RECONNECT_MS 500
/* How long Reset holds EN low through RTS (esptool's hard reset: 100 ms). */
#define UI_RESET_MS 100
/* Bytes read from the port per loop pass, so keys stay responsive under a flood. */
#define UI_RX_PER_PASS 65536

static struct ui *ui_cur;        /* for the fatal hook */
static int ui_sigpipe[2] = { -1, -1 };
static int ui_curses_on;

/* Restores the terminal; safe to call twice and from fatal(). */
static void
ui_restore(void)
{
	if (ui_curses_on) {
		endwin();
		ui_curses_on = 0;
	}
	ser_restore_all();
	if (ui_cur != NULL && ui_cur->o.demo)
		ui_demo_stop(&ui_cur->demo);
}

static void
ui_status(struct ui *u, int bad, const char *fmt, ...) ED_PRINTFLIKE(3, 4);

static void
ui_status(struct ui *u, int bad, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->status, sizeof u->status, fmt, ap);
	va_end(ap);
	u->status_bad = bad;
	u->dirty = 1;
}

static int64_t
ui_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A note of our own in the log. */
static void
ui_note(struct ui *u, const char *msg)
{
	logbuf_add(u->log, LOGBUF_NOTE, ui_wall_ms(), msg, strlen(msg), NULL);
	u->dirty = 1;
}

static enum logbuf_role
ui_role(const struct bootlog_event *ev)
{
	switch (ev->kind) {
	case BL_TEXT: return LOGBUF_RX;
	case BL_GARBAGE: return LOGBUF_GARBAGE;
	case BL_EXCEPTION: case BL_EXC_REGS: case BL_EXC_CTX: case BL_EXC_SP: case BL_SOFT_WDT:
	case BL_PANIC: case BL_ROM_WDT_RESET: case BL_ROM_CSUM_ERR: case BL_ROM_ETS_MAIN:
	case BL_BOOT_ERROR_MAGIC: case BL_SDK_RF_CAL: case BL_SDK_SYS_PARAM:
	case BL_BOOT_FIRST_FAILED: case BL_BOOT_BACKUP_FAILED: case BL_EBOOT_ERROR:
	case BL_RBOOT_NO_GOOD: case BL_IDF_PART_ERROR:
		return LOGBUF_CRASH;
	case BL_STACK_BEGIN: case BL_STACK_LINE: case BL_STACK_END:
		return LOGBUF_RX;
	default:
		return LOGBUF_BOOT;
	}
}

static void
ui_dec_cb(void *arg, const struct bootlog_event *ev)
{
	struct ui *u = arg;
	char annot[400];
	enum baudsw_action a;

	bootlog_diag_event(&u->diag, ev, clock_now_ms());
	u->verdict_stale = 1;
	if (ev->kind == BL_ROM_BANNER)
		u->state = ev->n[1] == 1 ? UI_ST_DOWNLOAD : UI_ST_ROM;
	else if (u->dec.stage == BL_STAGE_APP && ev->kind != BL_GARBAGE && u->state == UI_ST_ROM)
		u->state = UI_ST_APP;
	else if (u->state == UI_ST_UNKNOWN && ev->kind == BL_TEXT && ev->len > 0)
		u->state = UI_ST_APP;
	a = baudsw_event(&u->sw, ev);
	if (a == BAUDSW_SWITCH && u->watching) {
		/* The flow's boot watch holds the port and follows the baud itself: the line
		 * shows as read (garbage at another baud), no switch is asked for. */
		u->sw.want = 0;
		u->sw.dropped = 0;
		a = BAUDSW_SHOW;
	}
	if (a != BAUDSW_SHOW)
		return;
	bootlog_describe(ev, annot, sizeof annot);
	logbuf_add(u->log, ui_role(ev), ui_wall_ms(), ev->text, ev->len, annot);
	u->dirty = 1;
}

/* Finds the adapter's USB identity (VID:PID + serial) and bridge chip, from ser_list(). */
static void
ui_adapter_probe(struct ui *u)
{
	struct ser_info *l = NULL;
	size_t n = 0;
	char *cause = NULL;
	char real[4096];
	const char *p = realpath(u->port, real) ? real : u->port;

	u->usb_vid = u->usb_pid = -1;
	snprintf(u->adapter, sizeof u->adapter, "%s", strncmp(u->port, "rfc2217://", 10) == 0 ?
	    "RFC 2217 server" : "tty (no USB identity)");
	if (ser_list(&l, &n, &cause) != RC_OK) {
		free(cause);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(l[i].path, p) != 0 && strcmp(l[i].path, u->port) != 0)
			continue;
		u->usb_vid = l[i].usb_vid;
		u->usb_pid = l[i].usb_pid;
		snprintf(u->usb_serial, sizeof u->usb_serial, "%s", l[i].serial ? l[i].serial : "");
		u->bridge = l[i].bridge;
		snprintf(u->adapter, sizeof u->adapter, "%s %04x:%04x", l[i].bridge ? l[i].bridge :
		    (l[i].product ? l[i].product : "USB"), l[i].usb_vid & 0xffff, l[i].usb_pid & 0xffff);
	}
	ser_list_free(l, n);
}

/* When the adapter is USB, it may come back under another name: look it up by identity. */
static void
ui_adapter_find(struct ui *u)
{
	struct ser_info *l = NULL;
	size_t n = 0;
	char *cause = NULL;

	if (u->usb_vid < 0 || ser_list(&l, &n, &cause) != RC_OK) {
		free(cause);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (l[i].usb_vid == u->usb_vid && l[i].usb_pid == u->usb_pid &&
		    strcmp(l[i].serial ? l[i].serial : "", u->usb_serial) == 0) {
			snprintf(u->port, sizeof u->port, "%s", l[i].path);
			break;
		}
	ser_list_free(l, n);
}

static int
ui_port_open(struct ui *u, char **cause)
{
	int rc;

	int baud = u->reopen_baud && !u->sw.pinned ? u->reopen_baud : baudsw_boot_baud(&u->sw);

	*cause = NULL;
	rc = ser_open(u->port, baud, &u->ser, cause);
	if (rc != RC_OK)
		return rc;
	u->reopen_baud = 0;
	u->sw.baud = baud;
	u->sw.want = 0;
	bootlog_init(&u->dec, ui_dec_cb, u);
	bootlog_set_read_baud(&u->dec, u->sw.baud);
	bootlog_set_app_baud(&u->dec, u->sw.app_baud);
	u->state = UI_ST_UNKNOWN;
	return RC_OK;
}

/* Ends a Reset pulse: EN high again, the chip boots (the log shows it). */
static void
ui_reset_release(struct ui *u)
{
	if (u->rts_release_at == 0)
		return;
	u->rts_release_at = 0;
	if (u->ser != NULL && ser_set_rts(u->ser, 0) == RC_OK)
		ui_status(u, 0, "reset: pulsed RTS (EN) for %d ms", UI_RESET_MS);
}

static void
ui_port_gone(struct ui *u, const char *why)
{
	/* why may be ser_strerror(u->ser): copy it before the port goes. */
	snprintf(u->gone_why, sizeof u->gone_why, "%s", why);
	bootlog_flush(&u->dec);
	ser_close(u->ser);
	u->ser = NULL;
	u->state = UI_ST_DISCONNECTED;
	u->reconnect_at = clock_now_ms() + UI_RECONNECT_MS;
	ui_note(u, "-- disconnected: the adapter went away; reconnecting when it comes back");
	ui_status(u, 1, "%s", u->gone_why);
}

static void
ui_reconnect(struct ui *u)
{
	char *cause = NULL;
	char msg[600];

	u->reconnect_at = 0;
	ui_adapter_find(u);
	if (ui_port_open(u, &cause) != RC_OK) {
		free(cause);
		u->reconnect_at = clock_now_ms() + UI_RECONNECT_MS;
		return;
	}
	snprintf(msg, sizeof msg, "-- reconnected to %s at %d baud", u->port, u->sw.baud);
	ui_note(u, msg);
	ui_status(u, 0, "reconnected to %s", u->port);
}

/* The decoder asked for another baud: the partial line was read at the old one, drop it. */
static void
ui_switch_baud(struct ui *u)
{
	char msg[800];
	int want = u->sw.want;
	unsigned long dropped;

	bootlog_flush(&u->dec);
	dropped = u->sw.dropped;
	if (ser_set_baud(u->ser, want) != RC_OK) {
		snprintf(msg, sizeof msg, "-- cannot switch %s to %d baud; pinned at %d", u->port,
		    want, u->sw.baud);
		baudsw_done(&u->sw, 0);
	} else {
		ser_discard(u->ser);
		baudsw_done(&u->sw, 1);
		bootlog_set_read_baud(&u->dec, u->sw.baud);
		snprintf(msg, sizeof msg, "-- switched to %d baud (%lu bytes sent at that rate were "
		    "read at the old one and dropped)", u->sw.baud, dropped);
		if (u->sw.switches >= BAUDSW_MAX_SWITCHES)
			snprintf(msg, sizeof msg, "-- switched to %d baud; the device talks at neither "
			    "74880 nor %d, so following stops here (B pins a baud)", u->sw.baud,
			    u->sw.app_baud);
	}
	ui_note(u, msg);
}

static void
ui_port_read(struct ui *u)
{
	static uint8_t rx[4096];
	size_t total = 0;
	int n;

	while (u->ser != NULL && total < UI_RX_PER_PASS) {
		n = ser_read(u->ser, rx, sizeof rx, 0);
		if (n < 0) {
			ui_port_gone(u, ser_strerror(u->ser));
			return;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		u->rx_bytes += (size_t)n;
		u->last_rx_ms = clock_now_ms();
		bootlog_feed(&u->dec, rx, (size_t)n);
		if (u->sw.want != 0)
			ui_switch_baud(u);
	}
}

/* ---- jobs ---- */

static void
ui_job_begin_req(struct ui *u, struct ui_job_req *req);
static void
ui_prompt_open(struct ui *u, enum ui_prompt_kind k, const char *label, const char *init);

static void
ui_job_begin(struct ui *u, enum ui_job_op op, const char *path)
{
	struct ui_job_req req;

	memset(&req, 0, sizeof req);
	req.op = op;
	if (path != NULL)
		snprintf(req.path, sizeof req.path, "%s", path);
	ui_job_begin_req(u, &req);
}

/* An unfinished flow in the journal (what `espdesk flow status` shows): offers to resume it
 * (y) or to forget it (a; then the flow the user asked for, if any, starts). Returns 1 when
 * it asks. */
static int
ui_resume_check(struct ui *u)
{
	struct flow_journal j;
	char *cause = NULL;

	if (flow_journal_load(&j, &cause) != RC_OK) {
		free(cause);
		return 0;
	}
	if (j.finished || flow_find(j.flow) == NULL)
		return 0;
	snprintf(u->flow_name, sizeof u->flow_name, "%s", j.flow);
	snprintf(u->confirm_text, sizeof u->confirm_text, "An earlier %s flow did not finish "
	    "(port %.150s%s%.300s). y resumes it at its first unproven step (nothing proven is "
	    "redone); a forgets it%s%s (the backup store is kept).", j.flow, j.port,
	    j.failed[0] ? "; stopped: " : "", j.failed, u->pend_flow[0] ? " and starts the " : "",
	    u->pend_flow);
	ui_prompt_open(u, UI_PR_RESUME, "Resume the flow (y), forget it (a), or leave it: ", NULL);
	return 1;
}

/* A guided flow (src/flow/) as the job: resume continues the journalled one. */
static void
ui_flow_begin(struct ui *u, const char *flow, const char *path, const char *backup, int resume)
{
	struct ui_job_req req;

	if (!resume) {
		/* Remember what was asked for: an unfinished flow is offered first. */
		snprintf(u->pend_flow, sizeof u->pend_flow, "%s", flow);
		snprintf(u->pend_path, sizeof u->pend_path, "%s", path ? path : "");
		snprintf(u->pend_backup, sizeof u->pend_backup, "%s", backup ? backup : "");
		if (ui_resume_check(u))
			return;
		u->pend_flow[0] = '\0';
	}
	memset(&req, 0, sizeof req);
	req.op = UI_JOB_FLOW;
	snprintf(req.flow, sizeof req.flow, "%s", flow);
	if (flow != u->flow_name)       /* resume passes the name it keeps there */
		snprintf(u->flow_name, sizeof u->flow_name, "%s", flow);
	if (path != NULL)
		snprintf(req.path, sizeof req.path, "%s", path);
	if (backup != NULL)
		snprintf(req.backup, sizeof req.backup, "%s", backup);
	req.resume = resume;
	ui_job_begin_req(u, &req);
}

static void
ui_job_begin_req(struct ui *u, struct ui_job_req *reqp)
{
	struct ui_job_req req = *reqp;
	enum ui_job_op op = req.op;
	char *cause = NULL;
	int named;

	snprintf(req.port, sizeof req.port, "%s", u->port);
	/* A named Sonoff profile (no auto-reset; the demo is one): wait for the user. Otherwise
	 * reset through DTR/RTS, and wait for the user where that does nothing. */
	named = u->o.profile != NULL && u->profile != NULL;
	req.before = u->o.demo || (named && u->profile->kind == PROFILE_KIND_DEVICE) ?
	    FLASHER_BEFORE_MANUAL : FLASHER_BEFORE_AUTO;
	snprintf(req.profile, sizeof req.profile, "%s", named ? u->profile->name : "");
	req.baud = 0;
	if (u->state == UI_ST_DISCONNECTED) {
		ui_status(u, 1, "%s: no device (the adapter is unplugged); plug it in first", u->port);
		return;
	}
	/* The port passes from the log to the job (a Reset pulse ends first). */
	ui_reset_release(u);
	if (u->ser != NULL) {
		bootlog_flush(&u->dec);
		ser_close(u->ser);
		u->ser = NULL;
	}
	if (ui_job_start(&u->job, &req, &cause) != RC_OK) {
		ui_status(u, 1, "%s", cause);
		free(cause);
		ui_reconnect(u);
		return;
	}
	u->job_active = u->job_shown = 1;
	logbuf_follow(u->log);
	u->found = -1;
	u->job_start_ms = clock_now_ms();
	ui_job_poll(&u->job, &u->js);
	u->state = UI_ST_JOB;
	ui_note(u, op == UI_JOB_IDENTIFY ? "-- identify: the port passes to the flasher" :
	    op == UI_JOB_BACKUP ? "-- backup: the port passes to the flasher" :
	    op == UI_JOB_WRITE ? "-- write: the port passes to the flasher" :
	    "-- flow: the port passes to the guided flow");
	u->watching = 0;
	u->watch_seq = 0;
	if (u->o.demo && !u->demo_hands_off) {
		/* The demo presses the button and power-cycles, as the user would. */
		if (ui_demo_gpio0(&u->demo, 1, &cause) != RC_OK ||
		    ui_demo_power_cycle(&u->demo, &cause) != RC_OK) {
			ui_status(u, 1, "%s", cause);
			free(cause);
		}
	}
}

static void
ui_profile_check(struct ui *u)
{
	struct profile_detected d;
	struct profile_fit *fits = NULL;
	size_t n;

	for (size_t i = 0; i < u->ncontra; i++)
		free(u->contra[i]);
	free(u->contra);
	u->contra = NULL;
	u->ncontra = 0;
	if (u->profiles == NULL || !u->have_info)
		return;
	memset(&d, 0, sizeof d);
	d.chip_known = 1;
	d.esp8285 = u->info.esp8285;
	d.jedec = u->info.jedec;
	d.size = u->flash_size;
	if (u->profile == NULL) {
		n = profile_match(u->profiles, &d, &fits);
		if (n > 0)
			u->profile = fits[0].p;
		profile_fits_free(fits, n);
	} else
		u->ncontra = profile_contradictions(u->profile, &d, &u->contra);
}

/* A chunk the flow's boot watch read: into the log pane's decoder exactly as bytes read from
 * the port (same decoder, escaping, annotations and diagnosis). The watch owns the port and
 * its baud, so the log pane follows the baud the bytes were read at instead of switching. */
static void
ui_watch_rx(void *arg, const uint8_t *buf, size_t len, int baud)
{
	struct ui *u = arg;
	char msg[200];

	if (baud != u->sw.baud) {
		bootlog_flush(&u->dec);
		u->sw.baud = baud;
		bootlog_set_read_baud(&u->dec, baud);
		snprintf(msg, sizeof msg, "-- the boot watch reads at %d baud now", baud);
		ui_note(u, msg);
	}
	u->watch_baud = baud;
	u->rx_bytes += len;
	u->last_rx_ms = clock_now_ms();
	bootlog_feed(&u->dec, buf, len);
}

/* The flow's boot watch listens now: the log pane starts a fresh boot, and the demo boots the
 * board without the button, as the user would. */
static void
ui_watch_begin(struct ui *u)
{
	char *cause = NULL;

	u->watching = 1;
	u->watch_baud = BAUDSW_ROM_BAUD;
	bootlog_init(&u->dec, ui_dec_cb, u);
	u->sw.baud = BAUDSW_ROM_BAUD;
	u->sw.want = 0;
	bootlog_set_read_baud(&u->dec, BAUDSW_ROM_BAUD);
	bootlog_set_app_baud(&u->dec, u->sw.app_baud);
	bootlog_diag_init(&u->diag);
	u->verdict_stale = 1;
	u->state = UI_ST_UNKNOWN;
	ui_note(u, "-- boot watch: the flow follows the new firmware's boot; it shows here");
	if (u->o.demo && !u->demo_hands_off && (ui_demo_gpio0(&u->demo, 0, &cause) != RC_OK ||
	    ui_demo_power_cycle(&u->demo, &cause) != RC_OK)) {
		ui_status(u, 1, "%s", cause);
		free(cause);
	}
}

static void
ui_job_update(struct ui *u)
{
	char *cause = NULL, msg[700];

	ui_job_poll(&u->job, &u->js);
	u->dirty = 1;
	if (u->js.op == UI_JOB_FLOW && u->js.watch_seq != u->watch_seq) {
		u->watch_seq = u->js.watch_seq;
		ui_watch_begin(u);
	}
	ui_job_rx_drain(&u->job, ui_watch_rx, u);
	if (u->js.have_info && !u->have_info) {
		u->info = u->js.info;
		u->have_info = 1;
		u->flash_size = u->info.flash_size ? u->info.flash_size : 4u << 20;
		ui_profile_check(u);
	}
	if (u->js.running) {
		if (u->js.have_info && !u->watching)
			u->state = u->js.info.stub ? UI_ST_STUB : UI_ST_DOWNLOAD;
		if (u->js.asking && u->prompt != UI_PR_FLOW_ASK && u->prompt != UI_PR_FLOW_TYPED) {
			/* The CLI's terminal question becomes a confirmation; one that risks the
			 * only backup needs "yes" typed out. */
			snprintf(u->confirm_text, sizeof u->confirm_text, "%s", u->js.question);
			snprintf(u->confirm_detail, sizeof u->confirm_detail, "%s", u->js.detail);
			if (u->js.ask_risky)
				ui_prompt_open(u, UI_PR_FLOW_TYPED,
				    "This risks your only backup. Type yes and Enter to go ahead: ", "");
			else
				ui_prompt_open(u, UI_PR_FLOW_ASK, "Flow asks: ", NULL);
		}
		return;
	}
	if (u->prompt == UI_PR_FLOW_ASK || u->prompt == UI_PR_FLOW_TYPED)
		u->prompt = UI_PR_NONE;
	ui_job_join(&u->job);
	u->job_active = 0;
	snprintf(msg, sizeof msg, "-- %s %s: %s", u->js.op == UI_JOB_FLOW ? u->flow_name :
	    ui_job_op_name(u->js.op),
	    u->js.rc == 0 ? "done" : "failed", u->js.rc == 0 ? u->js.result : u->js.cause);
	bootlog_flush(&u->dec);
	ui_note(u, msg);
	ui_status(u, u->js.rc != 0, "%s", msg + 3);
	if (u->o.demo && !u->demo_hands_off && u->demo.gpio0_down) {
		/* Release the button and power-cycle: the board boots its (new) firmware (the boot
		 * watch did that already when it ran). */
		if (ui_demo_gpio0(&u->demo, 0, &cause) != RC_OK ||
		    ui_demo_power_cycle(&u->demo, &cause) != RC_OK) {
			ui_status(u, 1, "%s", cause);
			free(cause);
		}
	}
	/* The port comes back to the log, which shows the boot; after a boot watch it goes on
	 * at the baud the watch last read at. */
	if (u->watching)
		u->reopen_baud = u->watch_baud;
	u->watching = 0;
	u->state = UI_ST_UNKNOWN;
	ui_reconnect(u);
	if (u->ser == NULL)
		ui_port_gone(u, "the port did not come back after the job");
}

/* ---- prompts ---- */

static void
ui_prompt_open(struct ui *u, enum ui_prompt_kind k, const char *label, const char *init)
{
	u->prompt = k;
	snprintf(u->prompt_label, sizeof u->prompt_label, "%s", label);
	snprintf(u->prompt_buf, sizeof u->prompt_buf, "%s", init ? init : "");
	u->prompt_len = strlen(u->prompt_buf);
	u->dirty = 1;
}

/* Tab: completes the file name to the longest common prefix of the matches. */
static void
ui_prompt_complete(struct ui *u)
{
	glob_t g;
	char pat[1100];
	size_t common;

	snprintf(pat, sizeof pat, "%s*", u->prompt_buf);
	if (glob(pat, GLOB_MARK, NULL, &g) != 0)
		return;
	common = strlen(g.gl_pathv[0]);
	for (size_t i = 1; i < g.gl_pathc; i++) {
		size_t k = 0;

		while (k < common && g.gl_pathv[i][k] == g.gl_pathv[0][k])
			k++;
		common = k;
	}
	if (common < sizeof u->prompt_buf) {
		memcpy(u->prompt_buf, g.gl_pathv[0], common);
		u->prompt_buf[common] = '\0';
		u->prompt_len = common;
	}
	if (g.gl_pathc > 1)
		ui_status(u, 0, "%zu files match", g.gl_pathc);
	globfree(&g);
}

static void
ui_search(struct ui *u, int dir)
{
	char *cause = NULL;
	long from = u->found >= 0 ? u->found : logbuf_bottom(u->log) + (dir < 0 ? 1 : 0);
	long r;

	if (u->search[0] == '\0') {
		ui_status(u, 0, "no search yet: / starts one");
		return;
	}
	if (u->found < 0 && dir < 0)
		from = logbuf_following(u->log) ? -1 : logbuf_bottom(u->log) + 1;
	r = logbuf_search(u->log, u->search, 1, dir, from, &cause);
	if (r == RC_ERR_FORMAT) {
		ui_status(u, 1, "%s", cause);
		free(cause);
		return;
	}
	if (r < 0) {
		ui_status(u, 0, "'%s': no more matches %s", u->search, dir < 0 ? "above" : "below");
		return;
	}
	u->found = r;
	logbuf_show(u->log, (size_t)r);
	ui_status(u, 0, "'%s': line %llu", u->search,
	    (unsigned long long)logbuf_get(u->log, (size_t)r)->seq);
}

static void
ui_confirm_write(struct ui *u, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		ui_status(u, 1, "%s: %s; choose an existing file (Tab completes)", path,
		    errno ? strerror(errno) : "not a regular file");
		return;
	}
	snprintf(u->pending_path, sizeof u->pending_path, "%s", path);
	u->pending_op = UI_JOB_WRITE;
	snprintf(u->confirm_text, sizeof u->confirm_text, "Write %.200s (%lld bytes) at 0x000000 on "
	    "%.100s? This overwrites flash 0x000000-0x%06llX: the firmware there now is lost. Sectors "
	    "that already match are skipped.", path, (long long)sb.st_size, u->port,
	    (long long)((sb.st_size + 4095) / 4096 * 4096 - 1));
	ui_prompt_open(u, UI_PR_CONFIRM, "Confirm write: ", NULL);
}

static void
ui_prompt_done(struct ui *u)
{
	enum ui_prompt_kind k = u->prompt;
	char *cause = NULL, path[1024];

	u->prompt = UI_PR_NONE;
	u->dirty = 1;
	snprintf(path, sizeof path, "%s", u->prompt_buf);
	switch (k) {
	case UI_PR_SEARCH:
		snprintf(u->search, sizeof u->search, "%.255s", path);
		u->found = -1;
		ui_search(u, -1);
		break;
	case UI_PR_BACKUP:
		if (path[0] == '\0')
			break;
		ui_job_begin(u, UI_JOB_BACKUP, path);
		break;
	case UI_PR_WRITE:
		if (path[0] != '\0')
			ui_confirm_write(u, path);
		break;
	case UI_PR_FLOW_FILE:
		if (path[0] == '\0')
			break;
		if (access(path, R_OK) != 0) {
			ui_status(u, 1, "%s: %s; choose a firmware image you can read (Tab completes)",
			    path, strerror(errno));
			break;
		}
		ui_flow_begin(u, "flash", path, NULL, 0);
		break;
	case UI_PR_FLOW_TYPED:
		ui_job_answer(&u->job, strcmp(path, "yes") == 0);
		if (strcmp(path, "yes") != 0)
			ui_status(u, 0, "not confirmed (only a typed 'yes' is): the flow stops safely");
		break;
	case UI_PR_SAVE:
		if (path[0] == '\0')
			break;
		if (logbuf_save(u->log, path, u->stamps, &cause) != RC_OK) {
			ui_status(u, 1, "%s", cause);
			free(cause);
		} else
			ui_status(u, 0, "saved %zu lines to %s", logbuf_count(u->log), path);
		break;
	default:
		break;
	}
}

/* ---- the restore picker ---- */

static void
ui_pick_free(struct ui *u)
{
	free(u->picks);
	u->picks = NULL;
	u->npicks = u->pick_sel = u->pick_top = 0;
}

/* F9: the store's backups, newest first, one line each. The sidecar's facts only (every listed
 * backup was verified when taken; the restore flow re-hashes the one chosen). */
static void
ui_pick_open(struct ui *u)
{
	struct backup_list l;
	char *cause = NULL, *root;

	ui_pick_free(u);
	u->pick_note[0] = '\0';
	if (backup_list_read(&l, &cause) != RC_OK) {
		ui_status(u, 1, "%s", cause);
		free(cause);
		return;
	}
	if (l.n == 0) {
		root = backup_root();
		snprintf(u->pick_note, sizeof u->pick_note, "No backup in the store yet: nothing "
		    "to restore. F7 takes one of this device. (The store: %.200s)", root);
		free(root);
	}
	u->picks = l.n ? xcalloc(l.n, sizeof *u->picks) : NULL;
	for (size_t i = 0; i < l.n; i++) {
		const struct backup_meta *m = &l.v[i].meta;
		struct ui_pick *p = &u->picks[u->npicks++];
		char date[20], mac[16];

		snprintf(p->id, sizeof p->id, "%s", l.v[i].id);
		p->same = !u->have_info ? -1 : m->chip_id == u->info.chip_id &&
		    memcmp(m->mac, u->info.mac, 6) == 0;
		/* "2026-11-30T08:29:00Z" -> "2026-11-30 08:29" */
		snprintf(date, sizeof date, "%.16s", m->date);
		if (strlen(date) > 10)
			date[10] = ' ';
		backup_hex(m->mac, 6, mac);
		snprintf(p->line, sizeof p->line, "%-12s %-16s %5uK %-8.8s %-10s %s %.40s", mac,
		    date, (unsigned)(m->flash_size / 1024), m->family[0] ? m->family : "-",
		    p->same == 1 ? "this unit" : p->same == 0 ? "OTHER unit" : "unit ?",
		    m->verified ? "verified" : "UNVERIFIED", m->profile);
	}
	backup_list_free(&l);
	ui_prompt_open(u, UI_PR_PICK, "Restore which backup? Up/Down, Enter restores, Esc cancels",
	    NULL);
}

static void
ui_pick_key(struct ui *u, int ch)
{
	size_t page = LINES > 14 ? (size_t)LINES - 14 : 1;

	u->dirty = 1;
	switch (ch) {
	case KEY_UP: case 'k':
		if (u->pick_sel > 0)
			u->pick_sel--;
		break;
	case KEY_DOWN: case 'j':
		if (u->pick_sel + 1 < u->npicks)
			u->pick_sel++;
		break;
	case KEY_PPAGE:
		u->pick_sel = u->pick_sel > page ? u->pick_sel - page : 0;
		break;
	case KEY_NPAGE:
		u->pick_sel = u->pick_sel + page < u->npicks ? u->pick_sel + page :
		    (u->npicks ? u->npicks - 1 : 0);
		break;
	case KEY_HOME:
		u->pick_sel = 0;
		break;
	case KEY_END:
		u->pick_sel = u->npicks ? u->npicks - 1 : 0;
		break;
	case '\n': case '\r': case KEY_ENTER: {
		char id[96];

		u->prompt = UI_PR_NONE;
		if (u->npicks == 0)
			break;
		snprintf(id, sizeof id, "%s", u->picks[u->pick_sel].id);
		ui_pick_free(u);
		ui_flow_begin(u, "restore", NULL, id, 0);
		break;
	}
	case 27: case 'q':
		u->prompt = UI_PR_NONE;
		ui_pick_free(u);
		ui_status(u, 0, "restore cancelled: nothing was changed");
		break;
	default:
		break;
	}
}

static void
ui_prompt_key(struct ui *u, int ch)
{
	if (u->prompt == UI_PR_PICK) {
		ui_pick_key(u, ch);
		return;
	}
	if (u->prompt == UI_PR_FLOW_ASK) {
		u->prompt = UI_PR_NONE;
		u->dirty = 1;
		if (u->job_active)
			ui_job_answer(&u->job, ch == 'y' || ch == 'Y');
		return;
	}
	if (u->prompt == UI_PR_RESUME) {
		char *cause = NULL;

		u->prompt = UI_PR_NONE;
		u->dirty = 1;
		if (ch == 'y' || ch == 'Y') {
			u->pend_flow[0] = '\0';
			ui_flow_begin(u, u->flow_name, NULL, NULL, 1);
		} else if (ch == 'a' || ch == 'A') {
			if (flow_abort(&cause) != RC_OK) {
				ui_status(u, 1, "%s", cause);
				free(cause);
			} else if (u->pend_flow[0]) {
				char flow[16], path[1024], backup[96];

				snprintf(flow, sizeof flow, "%s", u->pend_flow);
				snprintf(path, sizeof path, "%s", u->pend_path);
				snprintf(backup, sizeof backup, "%s", u->pend_backup);
				u->pend_flow[0] = '\0';
				ui_flow_begin(u, flow, path[0] ? path : NULL, backup[0] ? backup : NULL,
				    0);
			} else
				ui_status(u, 0, "the unfinished flow is forgotten; the backup store was "
				    "not touched");
		} else {
			u->pend_flow[0] = '\0';
			ui_status(u, 0, "not resumed: y resumes it next time, a forgets it (or `espdesk "
			    "flow status|resume|abort`)");
		}
		return;
	}
	if (u->prompt == UI_PR_FLOW_TYPED && ch == 27) {
		u->prompt = UI_PR_NONE;
		u->dirty = 1;
		if (u->job_active)
			ui_job_answer(&u->job, 0);
		ui_status(u, 0, "not confirmed: the flow stops safely");
		return;
	}
	if (u->prompt == UI_PR_CONFIRM) {
		u->prompt = UI_PR_NONE;
		u->dirty = 1;
		if (ch == 'y' || ch == 'Y')
			ui_job_begin(u, u->pending_op, u->pending_path);
		else
			ui_status(u, 0, "cancelled: nothing was changed");
		return;
	}
	switch (ch) {
	case 27:
		u->prompt = UI_PR_NONE;
		ui_status(u, 0, "cancelled");
		break;
	case '\n': case '\r': case KEY_ENTER:
		ui_prompt_done(u);
		break;
	case '\t':
		if (u->prompt != UI_PR_SEARCH)
			ui_prompt_complete(u);
		break;
	case 21: /* Ctrl-U: empty the line */
		u->prompt_len = 0;
		u->prompt_buf[0] = '\0';
		break;
	case KEY_BACKSPACE: case 127: case 8:
		if (u->prompt_len > 0)
			u->prompt_buf[--u->prompt_len] = '\0';
		break;
	default:
		if (ch >= 32 && ch < 256 && u->prompt_len + 1 < sizeof u->prompt_buf) {
			u->prompt_buf[u->prompt_len++] = (char)ch;
			u->prompt_buf[u->prompt_len] = '\0';
		}
	}
	u->dirty = 1;
}

/* ---- keys ---- */

static void
ui_demo_act(struct ui *u, enum ui_action a)
{
	char *cause = NULL, *reply = NULL;
	int rc = RC_OK;

	switch (a) {
	case UA_DEMO_GPIO0:
		rc = ui_demo_gpio0(&u->demo, !u->demo.gpio0_down, &cause);
		if (rc == RC_OK)
			ui_status(u, 0, "demo: GPIO0 button %s (takes effect at the next power-on: P)",
			    u->demo.gpio0_down ? "held down" : "released");
		break;
	case UA_DEMO_POWER:
		if ((rc = ui_demo_power_cycle(&u->demo, &cause)) == RC_OK)
			ui_status(u, 0, "demo: power-cycled the board");
		break;
	case UA_DEMO_HANDS:
		u->demo_hands_off = !u->demo_hands_off;
		ui_status(u, 0, "demo: %s", u->demo_hands_off ? "hands off: jobs wait for you to "
		    "enter download mode (g holds GPIO0, P power-cycles; g and P again to boot)" :
		    "jobs press GPIO0 and power-cycle for you again");
		break;
	case UA_DEMO_UNPLUG:
		rc = ui_demo_ctl(&u->demo, u->state == UI_ST_DISCONNECTED ? "plug" : "unplug", &reply,
		    &cause);
		break;
	default: {
		enum ui_demo_fault f = a == UA_DEMO_HEALTHY ? UI_DEMO_HEALTHY : a == UA_DEMO_EXC ?
		    UI_DEMO_EXCEPTION : a == UA_DEMO_WDT ? UI_DEMO_WDT : a == UA_DEMO_FLASHMODE ?
		    UI_DEMO_FLASH_MODE : UI_DEMO_RF_DATA;

		if ((rc = ui_demo_fault(&u->demo, f, &cause)) == RC_OK) {
			ui_status(u, 0, "demo: %s; the board power-cycles", ui_demo_fault_name(f));
			bootlog_diag_init(&u->diag);
		}
	}
	}
	if (rc != RC_OK) {
		ui_status(u, 1, "%s", cause);
		free(cause);
	}
	free(reply);
}

static void
ui_action(struct ui *u, enum ui_action a)
{
	static const int bauds[] = { 74880, 115200, 9600, 230400, 460800, 921600 };
	int page = LINES - 4 > 1 ? LINES - 4 : 1;
	char init[300];

	if (u->job_active && a != UA_CANCEL && a != UA_HELP && a != UA_QUIT && a < UA_SEARCH) {
		ui_status(u, 1, "a %s job is running: Esc cancels it", ui_job_op_name(u->js.op));
		return;
	}
	switch (a) {
	case UA_HELP: u->help = 1; u->help_top = 0; break;
	case UA_QUIT:
		if (u->job_active) {
			ui_job_cancel(&u->job);
			ui_status(u, 1, "cancelling the job first; q again after it stopped");
		} else
			u->quit = 1;
		break;
	case UA_IDENTIFY: ui_job_begin(u, UI_JOB_IDENTIFY, NULL); break;
	case UA_BACKUP: {
		time_t t = time(NULL);
		struct tm tm;

		localtime_r(&t, &tm);
		snprintf(init, sizeof init, "backup-%04d%02d%02d-%02d%02d%02d.bin", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		ui_prompt_open(u, UI_PR_BACKUP, "Back up the whole flash to: ", init);
		break;
	}
	case UA_WRITE: ui_prompt_open(u, UI_PR_WRITE, "Write file at 0x0 (Tab completes): ", ""); break;
	case UA_ERASE:
		/* Through the erase flow's interlock: over a verified backup of this device it
		 * asks once; without one its risky question needs "yes" typed out. */
		ui_flow_begin(u, "erase", NULL, NULL, 0);
		break;
	case UA_RESET:
		if (u->o.demo) {
			char *cause = NULL;

			if (ui_demo_ctl(&u->demo, "reset", NULL, &cause) != RC_OK) {
				ui_status(u, 1, "%s", cause);
				free(cause);
			}
		} else if (u->ser == NULL || ser_set_rts(u->ser, 1) != RC_OK) {
			ui_status(u, 1, "%s has no RTS line to reset the board: power-cycle it by hand",
			    u->port);
		} else
			u->rts_release_at = clock_now_ms() + UI_RESET_MS;  /* the loop lets go */
		break;
	case UA_CANCEL:
		if (u->job_active) {
			ui_job_cancel(&u->job);
			ui_status(u, 0, "cancelling the %s job...", ui_job_op_name(u->js.op));
		} else if (u->job_shown)
			u->job_shown = 0;
		else if (u->found >= 0)
			u->found = -1;
		break;
	case UA_FLOW_BACKUP: ui_flow_begin(u, "backup", NULL, NULL, 0); break;
	case UA_FLOW_FLASH:
		ui_prompt_open(u, UI_PR_FLOW_FILE, "Guided flash of firmware (Tab completes): ", "");
		break;
	case UA_FLOW_RESTORE:
		ui_pick_open(u);
		break;
	case UA_SEARCH: ui_prompt_open(u, UI_PR_SEARCH, "Search (regex): ", ""); break;
	case UA_NEXT: ui_search(u, -1); break;
	case UA_PREV: ui_search(u, 1); break;
	case UA_STAMPS: u->stamps = !u->stamps; break;
	case UA_HEX: u->hex = !u->hex; break;
	case UA_SAVE: ui_prompt_open(u, UI_PR_SAVE, "Save the log to: ", "espdesk.log"); break;
	case UA_CLEAR: logbuf_clear(u->log); u->found = -1; ui_status(u, 0, "log cleared"); break;
	case UA_PIN:
		if (u->sw.pinned) {
			baudsw_unpin(&u->sw);
			ui_status(u, 0, "following the device's baud again");
		} else {
			baudsw_pin(&u->sw, 0);
			ui_status(u, 0, "baud pinned at %d", u->sw.baud);
		}
		break;
	case UA_BAUD: {
		size_t i = 0;

		while (i < ARRAY_SIZE(bauds) && bauds[i] != u->sw.baud)
			i++;
		i = i >= ARRAY_SIZE(bauds) - 1 ? 0 : i + 1;
		if (u->ser != NULL && ser_set_baud(u->ser, bauds[i]) == RC_OK) {
			bootlog_flush(&u->dec);
			baudsw_pin(&u->sw, bauds[i]);
			bootlog_set_read_baud(&u->dec, bauds[i]);
			ui_status(u, 0, "baud pinned at %d (p follows the device again)", bauds[i]);
		} else
			ui_status(u, 1, "cannot set %d baud on %s", bauds[i], u->port);
		break;
	}
	case UA_UP: logbuf_scroll(u->log, -1); break;
	case UA_DOWN: logbuf_scroll(u->log, 1); break;
	case UA_PGUP: logbuf_scroll(u->log, -page); break;
	case UA_PGDN: logbuf_scroll(u->log, page); break;
	case UA_HOME: logbuf_show(u->log, 0); break;
	case UA_END: logbuf_follow(u->log); u->found = -1; break;
	default:
		if (u->o.demo)
			ui_demo_act(u, a);
	}
	u->dirty = 1;
}

static void
ui_key(struct ui *u, int ch)
{
	if (ch == KEY_RESIZE) {
		u->dirty = 1;
		return;
	}
	if (u->help) {
		int n = ui_help_entries(u), step = LINES / 3 > 1 ? LINES / 3 : 1;

		/* Scroll keys move the list (80x24 does not hold every key); others close it. */
		if (ch == KEY_DOWN || ch == 'j' || ch == ' ')
			u->help_top = u->help_top + 1 < n ? u->help_top + 1 : u->help_top;
		else if (ch == KEY_NPAGE)
			u->help_top = u->help_top + step < n ? u->help_top + step : n - 1;
		else if (ch == KEY_UP || ch == 'k')
			u->help_top = u->help_top > 0 ? u->help_top - 1 : 0;
		else if (ch == KEY_PPAGE)
			u->help_top = u->help_top > step ? u->help_top - step : 0;
		else
			u->help = 0;
		u->dirty = 1;
		return;
	}
	if (u->prompt != UI_PR_NONE) {
		ui_prompt_key(u, ch);
		return;
	}
	if (COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS) {
		if (ch == 'q' || ch == KEY_F(10))
			ui_action(u, UA_QUIT);
		return;
	}
	for (size_t i = 0; i < ui_nkeys; i++)
		if (ui_keys[i].key == ch && (!ui_keys[i].demo || u->o.demo)) {
			ui_action(u, ui_keys[i].act);
			return;
		}
}

/* ---- the loop ---- */

static void
ui_draw(struct ui *u)
{
	if (u->verdict_stale) {
		bootlog_diag_verdict(&u->diag, NULL, &u->verdict);
		u->verdict_stale = 0;
	}
	ui_draw_all(u);
	refresh();
	u->dirty = 0;
	u->last_draw_ms = clock_now_ms();
	u->frames++;
}

static void
ui_loop(struct ui *u)
{
	struct pollfd pfd[4];
	int nfds, timeout, ch;
	int64_t now;

	while (!u->quit) {
		nfds = 0;
		pfd[nfds++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		pfd[nfds++] = (struct pollfd){ .fd = ui_sigpipe[0], .events = POLLIN };
		if (u->ser != NULL)
			pfd[nfds++] = (struct pollfd){ .fd = ser_fd(u->ser), .events = POLLIN |
			    (ser_tx_pending(u->ser) ? POLLOUT : 0) };
		if (u->job_active)
			pfd[nfds++] = (struct pollfd){ .fd = ui_job_fd(&u->job), .events = POLLIN };
		now = clock_now_ms();
		timeout = 1000;
		if (u->dirty) {
			int64_t next = u->last_draw_ms + 1000 / UI_FPS - now;

			timeout = next > 0 ? (int)next : 0;
		}
		if (u->rts_release_at && u->rts_release_at - now < timeout)
			timeout = u->rts_release_at > now ? (int)(u->rts_release_at - now) : 0;
		if (u->reconnect_at && u->reconnect_at - now < timeout)
			timeout = u->reconnect_at > now ? (int)(u->reconnect_at - now) : 0;
		if ((u->ser != NULL || u->watching) && u->dec.len > 0 && timeout > UI_IDLE_FLUSH_MS)
			timeout = UI_IDLE_FLUSH_MS;
		if (u->js.waiting && timeout > 250)
			timeout = 250;  /* the blinking "waiting for download mode" */
		if (poll(pfd, (nfds_t)nfds, timeout) < 0 && errno != EINTR)
			fatal("poll");
		for (int i = 0; i < nfds; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == 0) {
				while ((ch = getch()) != ERR)
					ui_key(u, ch);
			} else if (pfd[i].fd == ui_sigpipe[0]) {
				unsigned char sig;

				while (read(ui_sigpipe[0], &sig, 1) == 1)
					if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
						if (u->job_active)
							ui_job_cancel(&u->job);
						u->quit = 1;
					}
			} else if (u->ser != NULL && pfd[i].fd == ser_fd(u->ser)) {
				if (pfd[i].revents & POLLOUT)
					ser_tx_pump(u->ser);
				if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
					ui_port_read(u);
			} else if (u->job_active && pfd[i].fd == ui_job_fd(&u->job))
				ui_job_update(u);
		}
		/* A key may arrive with poll interrupted by SIGWINCH: look once more. */
		while ((ch = getch()) != ERR)
			ui_key(u, ch);
		now = clock_now_ms();
		if ((u->ser != NULL || u->watching) && u->dec.len > 0 &&
		    now - u->last_rx_ms >= UI_IDLE_FLUSH_MS)
			bootlog_flush(&u->dec);
		if (u->rts_release_at && now >= u->rts_release_at)
			ui_reset_release(u);
		if (u->reconnect_at && now >= u->reconnect_at && !u->job_active)
			ui_reconnect(u);
		if (u->js.waiting && u->job_active)
			u->dirty = 1;
		if (u->dirty && now - u->last_draw_ms >= 1000 / UI_FPS)
			ui_draw(u);
	}
	if (u->job_active) {
		ui_job_cancel(&u->job);
		ui_job_join(&u->job);
		u->job_active = 0;
	}
}

/* INT, TERM and HUP (a closed SSH session) end the loop through a self-pipe (core/sig.h). */
static void
ui_signals(void)
{
	if (pipe(ui_sigpipe) != 0)
		fatal("pipe");
	for (int i = 0; i < 2; i++) {
		fcntl(ui_sigpipe[i], F_SETFL, O_NONBLOCK);
		fcntl(ui_sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	sig_catch_stop(ui_sigpipe[1]);
}

int
ui_run(const struct ui_opts *o, char **cause)
{
	struct ui *u;
	int rc;

	*cause = NULL;
	if (!isatty(0) || !isatty(1)) {
		*cause = xstrdup("the workstation needs a terminal on stdin and stdout; for a plain "
		    "log use 'espdesk monitor -p PORT'");
		return RC_ERR_ARG;
	}
	u = xcalloc(1, sizeof *u);
	u->o = *o;
	u->found = -1;
	ui_cur = u;
	u->log = logbuf_new(o->max_lines);
	bootlog_diag_init(&u->diag);
	if (o->demo) {
		if ((rc = ui_demo_start(&u->demo, cause)) != RC_OK) {
			logbuf_free(u->log);
			free(u);
			ui_cur = NULL;
			return rc;
		}
		snprintf(u->port, sizeof u->port, "%s", u->demo.port);
		if (o->profile == NULL)
			u->o.profile = u->demo.big ? "esp8266-4mb" : "basic-r2";
	} else
		snprintf(u->port, sizeof u->port, "%s", o->port);
	u->profiles = profile_set_load_default();
	if (u->o.profile != NULL && u->profiles != NULL &&
	    (u->profile = profile_set_find(u->profiles, u->o.profile)) == NULL && !o->demo) {
		*cause = xfmt("no profile named '%s'; 'espdesk profiles list' shows them",
		    u->o.profile);
		rc = RC_ERR_ARG;
		goto out;
	}
	baudsw_init(&u->sw, o->baud ? o->baud : BAUDSW_ROM_BAUD, o->app_baud);
	if (o->baud)
		baudsw_pin(&u->sw, o->baud);
	ui_adapter_probe(u);
	if ((rc = ui_port_open(u, cause)) != RC_OK)
		goto out;
	ui_signals();
	log_set_fatal_hook(ui_restore);
	u->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	set_escdelay(25);
	if (initscr() == NULL) {
		*cause = xstrdup("cannot initialise the terminal (is TERM set?)");
		rc = RC_ERR_IO;
		goto out;
	}
	ui_curses_on = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	ui_colour_init(u);
	if (o->demo && ui_demo_ctl(&u->demo, "power on", NULL, cause) != RC_OK) {
		rc = RC_ERR_IO;
		goto out;
	}
	if (o->demo)
		ui_status(u, 0, "demo: a simulated %s on %s. F1 lists every key; "
		    "1-4 break it, 0 heals it", u->demo.big ? "ESP8266 board with 4 MB of flash" :
		    "Sonoff Basic R2", u->port);
	else
		ui_status(u, 0, "F1 lists every key");
	(void)ui_resume_check(u);
	u->dirty = 1;
	ui_loop(u);
	rc = RC_OK;
out:
	if (ui_curses_on) {
		endwin();
		ui_curses_on = 0;
	}
	ser_close(u->ser);
	if (o->demo)
		ui_demo_stop(&u->demo);
	for (size_t i = 0; i < u->ncontra; i++)
		free(u->contra[i]);
	free(u->contra);
	profile_set_free(u->profiles);
	logbuf_free(u->log);
	ui_pick_free(u);
	free(u);
	ui_cur = NULL;
	return rc;
}
