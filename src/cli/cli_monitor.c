/*
 * espdesk monitor: a plain line monitor with boot-log annotations. It opens the port at 74880
 * (the boot ROM's rate on a 26 MHz crystal), and when the decoder reports a line of text sent
 * at another baud it switches the port there: to the application's baud after the bootloader
 * hands over, back to 74880 when the chip resets. Every device byte is escaped before it is
 * printed. Ctrl-C ends it; the port's settings are restored and the diagnosis printed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "bootlog/bootlog_fmt.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/sig.h"
#include "serial/ser.h"

extern const struct cli_cmd cli_cmd_monitor;

enum { OPT_TIMESTAMPS = 0x2100, OPT_LOG, OPT_NO_FOLLOW, OPT_SHOW_GARBAGE, OPT_APP_BAUD,
	OPT_MAX_LINES, OPT_DURATION, OPT_NO_DIAG };

/* Silence after which a partial line is shown (the device may never end it). */
#define MONITOR_IDLE_FLUSH_MS 100
/* Switches without one readable line in between before following gives up. */
#define MONITOR_MAX_SWITCHES 4

struct monitor {
	struct bootlog dec;
	struct bootlog_diag diag;
	struct buf out;
	FILE *log;
	int timestamps, follow, show_garbage;
	int baud, want_baud, switches;
	int done;                    /* --max-lines reached */
	size_t dropped;       /* bytes read at the old baud once a switch was decided */
	unsigned long long lines, max_lines;
};

static void
monitor_stamp(struct buf *out)
{
	struct timespec ts;
	struct tm tm;
	char tmp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	snprintf(tmp, sizeof tmp, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000);
	buf_add(out, tmp, strlen(tmp));
}

static void
monitor_emit(struct monitor *m)
{
	if (buf_len(&m->out) == 0)
		return;
	fwrite(buf_head(&m->out), 1, buf_len(&m->out), stdout);
	/* Stdout closed (`espdesk monitor | head`): SIGPIPE is ignored (sig.h), so stop here. */
	if (fflush(stdout) != 0)
		m->done = 1;
	if (m->log != NULL) {
		fwrite(buf_head(&m->out), 1, buf_len(&m->out), m->log);
		fflush(m->log);
	}
	buf_reset(&m->out);
}

/* A note from the monitor itself, not from the device. */
static void
monitor_note(struct monitor *m, const char *msg)
{
	if (m->timestamps)
		monitor_stamp(&m->out);
	buf_add(&m->out, "-- ", 3);
	buf_add(&m->out, msg, strlen(msg));
	buf_add(&m->out, "\n", 1);
	monitor_emit(m);
}

static void
monitor_cb(void *arg, const struct bootlog_event *ev)
{
	struct monitor *m = arg;

	bootlog_diag_event(&m->diag, ev, clock_now_ms());
	if (m->want_baud != 0) {
		/* Read at the old baud after the switch was decided: garbage too, not shown. */
		m->dropped += ev->len;
		return;
	}
	if (ev->kind == BL_GARBAGE && m->follow && ev->baud != m->baud &&
	    m->switches < MONITOR_MAX_SWITCHES) {
		m->want_baud = ev->baud;
		m->dropped = ev->len;
		return;
	}
	if (ev->kind != BL_GARBAGE && ev->len > ev->skip)
		m->switches = 0;
	if (m->timestamps)
		monitor_stamp(&m->out);
	bootlog_fmt_line(&m->out, ev, m->show_garbage ? 0 : BOOTLOG_FMT_HIDE_GARBAGE);
	monitor_emit(m);
	m->lines++;
	if (m->max_lines && m->lines >= m->max_lines)
		m->done = 1;
}

/* Switches the port to m->want_baud; what was read at the old baud is dropped. */
static void
monitor_switch(struct monitor *m, struct ser *s, const char *port)
{
	char msg[200];

	bootlog_flush(&m->dec); /* the partial line was read at the old baud too */
	if (ser_set_baud(s, m->want_baud) != RC_OK) {
		snprintf(msg, sizeof msg, "cannot switch %s to %d baud; staying at %d", port,
		    m->want_baud, m->baud);
		m->follow = 0;
	} else {
		/* Bytes still queued were sampled at the old rate: garbage, drop them. */
		ser_discard(s);
		snprintf(msg, sizeof msg, "switched to %d baud (%zu bytes sent at that rate were "
		    "read at %d and dropped)", m->want_baud, m->dropped, m->baud);
		m->baud = m->want_baud;
		bootlog_set_read_baud(&m->dec, m->baud);
		if (++m->switches == MONITOR_MAX_SWITCHES)
			snprintf(msg, sizeof msg, "switched to %d baud; the device's baud is neither "
			    "74880 nor the application's, so following stops here (use -b and "
			    "--no-follow)", m->baud);
	}
	m->want_baud = 0;
	m->dropped = 0;
	monitor_note(m, msg);
}

static int
monitor_loop(struct monitor *m, struct ser *s, const char *port, double duration)
{
	static uint8_t rx[4096];
	int64_t last_rx = clock_now_ms(), start = last_rx;
	int n;

	while (!m->done && !atomic_load(&sig_stop)) {
		if (duration > 0 && (double)(clock_now_ms() - start) >= duration * 1000.0)
			break;
		n = ser_read(s, rx, sizeof rx, 50);
		if (n < 0) {
			if (n == RC_ERR_GONE)
				fprintf(stderr, "espdesk monitor: %s went away (cable pulled or the other "
				    "side closed); reconnect and run the monitor again\n", port);
			else
				fprintf(stderr, "espdesk monitor: reading %s failed: %s\n", port,
				    strerror(errno));
			return CLI_EXIT_FAIL;
		}
		if (n > 0) {
			bootlog_feed(&m->dec, rx, (size_t)n);
			last_rx = clock_now_ms();
		} else if (m->dec.len > 0 && clock_now_ms() - last_rx >= MONITOR_IDLE_FLUSH_MS)
			bootlog_flush(&m->dec);
		if (m->want_baud != 0)
			monitor_switch(m, s, port);
	}
	return CLI_EXIT_OK;
}

static int
monitor_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timestamps", no_argument, NULL, OPT_TIMESTAMPS },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "no-follow", no_argument, NULL, OPT_NO_FOLLOW },
		{ "show-garbage", no_argument, NULL, OPT_SHOW_GARBAGE },
		{ "app-baud", required_argument, NULL, OPT_APP_BAUD },
		{ "max-lines", required_argument, NULL, OPT_MAX_LINES },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "no-diagnosis", no_argument, NULL, OPT_NO_DIAG },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *cmd = &cli_cmd_monitor;
	struct monitor *m;
	struct ser *s = NULL;
	const char *log_path = NULL;
	char *cause = NULL, *end;
	double duration = 0;
	int c, r, app_baud = 0, diag = 1;

	m = calloc(1, sizeof *m);
	if (m == NULL) {
		fprintf(stderr, "espdesk monitor: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	m->follow = 1;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TIMESTAMPS:
			m->timestamps = 1;
			break;
		case OPT_LOG:
			log_path = optarg;
			break;
		case OPT_NO_FOLLOW:
			m->follow = 0;
			break;
		case OPT_SHOW_GARBAGE:
			m->show_garbage = 1;
			break;
		case OPT_NO_DIAG:
			diag = 0;
			break;
		case OPT_APP_BAUD:
			app_baud = atoi(optarg);
			if (app_baud < 300 || app_baud > 4000000) {
				free(m);
				return cli_usage_error(cmd, "invalid baud rate '%s'", optarg);
			}
			break;
		case OPT_MAX_LINES:
			m->max_lines = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || m->max_lines == 0) {
				free(m);
				return cli_usage_error(cmd, "--max-lines wants a positive number, not '%s'", optarg);
			}
			break;
		case OPT_DURATION:
			duration = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || duration <= 0) {
				free(m);
				return cli_usage_error(cmd, "--duration wants seconds, not '%s'", optarg);
			}
			break;
		default:
			if ((r = cli_common_opt(cmd, c, optarg)) == 1)
				break;
			free(m);
			return r == 0 ? cli_usage_error(cmd, "unexpected option") : CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		free(m);
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	}
	if (cli_common.port == NULL) {
		free(m);
		return cli_usage_error(cmd, "which port? give -p PORT (see 'espdesk list-ports')");
	}
	m->baud = cli_common.baud ? cli_common.baud : 74880;
	if (log_path != NULL && (m->log = fopen(log_path, "a")) == NULL) {
		fprintf(stderr, "espdesk monitor: cannot open log file %s: %s\n", log_path, strerror(errno));
		free(m);
		return CLI_EXIT_FAIL;
	}
	if ((r = ser_open(cli_common.port, m->baud, &s, &cause)) != RC_OK) {
		fprintf(stderr, "espdesk monitor: %s\n", cause != NULL ? cause : rc_str(r));
		free(cause);
		if (m->log != NULL)
			fclose(m->log);
		free(m);
		return CLI_EXIT_FAIL;
	}
	atexit(ser_restore_all);

	sig_catch_stop(-1);

	bootlog_diag_init(&m->diag);
	bootlog_init(&m->dec, monitor_cb, m);
	bootlog_set_read_baud(&m->dec, m->baud);
	if (app_baud)
		bootlog_set_app_baud(&m->dec, app_baud);
	fprintf(stderr, "espdesk monitor: %s at %d baud%s; Ctrl-C to stop\n", cli_common.port,
	    m->baud, m->follow ? ", following baud changes" : "");
	r = monitor_loop(m, s, cli_common.port, duration);
	bootlog_flush(&m->dec);
	ser_close(s);
	if (diag && m->diag.lines > 0) {
		struct bootlog_verdict v;

		bootlog_diag_verdict(&m->diag, NULL, &v);
		buf_add(&m->out, "\n", 1);
		bootlog_fmt_verdict(&m->out, &v);
		monitor_emit(m);
	}
	buf_free(&m->out);
	if (m->log != NULL)
		fclose(m->log);
	free(m);
	return r;
}

const struct cli_cmd cli_cmd_monitor = {
	.name = "monitor",
	.synopsis = "-p PORT [-b BAUD] [--timestamps] [--log FILE] [--no-follow]",
	.summary = "watch the serial log with boot-ROM annotations, following baud changes",
	.help =
	    "Prints every line the device sends, escaped, with what boot-ROM, bootloader and crash\n"
	    "lines mean. Starts at 74880 baud (or -b) and switches baud when text arrives at another\n"
	    "rate (the ROM at 74880, the application usually at 115200). Ctrl-C stops it and prints\n"
	    "the diagnosis.\n"
	    "\n"
	    "  --timestamps         prefix each line with the local time\n"
	    "  --log FILE           append the same output to FILE\n"
	    "  --no-follow          stay at the starting baud\n"
	    "  --show-garbage       print garbled lines escaped instead of as a note\n"
	    "  --app-baud BAUD      the application's baud (default 115200)\n"
	    "  --max-lines N        stop after N lines\n"
	    "  --duration SECONDS   stop after this long\n"
	    "  --no-diagnosis       do not print the diagnosis at the end\n",
	.run = monitor_run,
};
