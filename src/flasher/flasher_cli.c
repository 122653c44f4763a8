/*
 * flasher_cli.c: the flasher's subcommands: chip-id, read-mac, flash-id, read-flash,
 * write-flash, erase-flash, erase-region, verify-flash, run. Option names follow esptool
 * (-p/--port, -b/--baud, --before, --after, --no-stub, --flash-mode/--flash-size/--flash-freq).
 *
 * Output: results on stdout; progress and notices on stderr (a bar on a terminal, plain lines
 * when piped); with --json, one JSON object per event on stdout and nothing else.
 * read-flash writes FILE.part (plus FILE.part.meta saying what it holds) and renames it to FILE
 * only when every region is verified, after fsync; an interrupted read keeps the .part file,
 * which never looks like a finished backup, and --resume continues it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/sig.h"
#include "core/xmalloc.h"
#include "backup/backup.h"
#include "core/afile.h"
#include "flasher/flasher.h"

enum {
	OPT_BEFORE = 0x2000, OPT_AFTER, OPT_NO_STUB, OPT_FMODE, OPT_FSIZE, OPT_FFREQ, OPT_RESUME,
	OPT_CONNECT_TIMEOUT, OPT_STORE, OPT_SYNC_BAUD, OPT_FORCE,
};

#define FL_LONGOPTS                                                        \
	CLI_COMMON_LONGOPTS,                                               \
	{ "before", required_argument, NULL, OPT_BEFORE },                 \
	{ "after", required_argument, NULL, OPT_AFTER },                   \
	{ "no-stub", no_argument, NULL, OPT_NO_STUB },                     \
	{ "flash-mode", required_argument, NULL, OPT_FMODE },              \
	{ "flash_mode", required_argument, NULL, OPT_FMODE },              \
	{ "flash-size", required_argument, NULL, OPT_FSIZE },              \
	{ "flash_size", required_argument, NULL, OPT_FSIZE },              \
	{ "flash-freq", required_argument, NULL, OPT_FFREQ },              \
	{ "flash_freq", required_argument, NULL, OPT_FFREQ },              \
	{ "resume", no_argument, NULL, OPT_RESUME },                       \
	{ "store", no_argument, NULL, OPT_STORE },                         \
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT }, \
	{ "sync-baud", required_argument, NULL, OPT_SYNC_BAUD },           \
	{ "force", no_argument, NULL, OPT_FORCE },                         \
	{ NULL, 0, NULL, 0 }

#define FL_HELP_CONN                                                                         \
	"  --before MODE        default-reset (DTR/RTS), no-reset, manual (boards without\n"   \
	"                       auto-reset, e.g. Sonoff: hold GPIO0 while powering; waits), or\n" \
	"                       auto (default-reset, then waits for you where it did nothing)\n" \
	"  --after MODE         hard-reset (RTS), soft-reset (run user code) or no-reset\n"     \
	"  --no-stub            talk to the ROM only (no read, erase, MD5 or fast baud)\n"       \
	"  --connect-timeout S  give up connecting after S seconds (manual: forever)\n"      \
	"  --sync-baud BAUD     SYNC at BAUD instead of 115200 (the ROM autobauds; falls\n"   \
	"                       back to 115200; with --no-stub the session stays at BAUD)\n"

#define FL_HELP_HDR                                                                          \
	"  --flash-mode MODE    keep (default), qio, qout, dio, dout\n"                          \
	"  --flash-size SIZE    keep (default), 256KB, 512KB, 1MB, 2MB, 4MB, 2MB-c1, 4MB-c1,\n"  \
	"                       8MB, 16MB\n"                                                      \
	"  --flash-freq FREQ    keep (default), 40m, 26m, 20m, 80m\n"                            \
	"  (the header is changed only for a valid 0xE9 image written at 0x0)\n"

/* What every command shares once its options are parsed. */
struct fl_ctx {
	const struct cli_cmd *cmd;
	struct flasher_opts o;
	struct flasher_hdr hdr;
	int resume;
	int store;      /* read-flash: also land the dump in the backup store */
	int force;      /* write-flash: write a non-image at 0x0 all the same */
	/* progress output */
	int tty;
	enum flasher_phase last_ph;
	int last_pct;
	int bar_open;
	int64_t last_draw;
};

/* Prints s as a JSON string. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
bar_end(struct fl_ctx *c)
{
	if (c->bar_open) {
		fputc('\n', stderr);
		c->bar_open = 0;
	}
}

static void
fl_event(void *arg, const struct flasher_event *ev)
{
	struct fl_ctx *c = arg;
	int pct = ev->total ? (int)(ev->done * 100 / ev->total) : -1;

	if (cli_common.json) {
		if (ev->phase == FLASHER_PH_NOTICE) {
			printf("{\"event\":\"notice\",\"msg\":");
			json_str(stdout, ev->msg);
			printf("}\n");
		} else {
			printf("{\"event\":\"progress\",\"phase\":\"%s\",\"done\":%llu,\"total\":%llu,"
			    "\"addr\":%u,\"rate\":%.0f,\"eta\":%.1f", flasher_phase_name(ev->phase),
			    (unsigned long long)ev->done, (unsigned long long)ev->total, ev->addr,
			    ev->rate, ev->eta);
			if (ev->msg != NULL) {
				printf(",\"msg\":");
				json_str(stdout, ev->msg);
			}
			printf("}\n");
		}
		fflush(stdout);
		return;
	}
	if (ev->phase == FLASHER_PH_NOTICE || ev->phase == FLASHER_PH_WAITING) {
		if (ev->phase == FLASHER_PH_WAITING && c->last_ph == FLASHER_PH_WAITING)
			return;
		bar_end(c);
		fprintf(stderr, "espdesk: %s\n", ev->msg);
		c->last_ph = ev->phase;
		return;
	}
	if (ev->total == 0 || (ev->phase != FLASHER_PH_READ && ev->phase != FLASHER_PH_WRITE &&
	    ev->phase != FLASHER_PH_ERASE && ev->phase != FLASHER_PH_VERIFY)) {
		if (ev->msg != NULL) {
			bar_end(c);
			fprintf(stderr, "%s: %s\n", flasher_phase_name(ev->phase), ev->msg);
		}
		c->last_ph = ev->phase;
		return;
	}
	if (ev->phase != c->last_ph) {
		bar_end(c);
		c->last_pct = -1;
		c->last_ph = ev->phase;
	}
	if (c->tty) {
		int64_t now = clock_now_ms();
		char rate[32] = "", eta[32] = "";
		int w = pct / 4;

		if (pct != 100 && now - c->last_draw < 100)
			return;
		c->last_draw = now;
		if (ev->rate > 0)
			snprintf(rate, sizeof rate, " %6.1f KB/s", ev->rate / 1024);
		if (ev->eta >= 0 && pct < 100)
			snprintf(eta, sizeof eta, " ETA %3.0f s", ev->eta);
		fprintf(stderr, "\r%-6s [%.*s%*s] %3d%% %llu/%llu%s%s ", flasher_phase_name(ev->phase),
		    w, "#########################", 25 - w, "", pct, (unsigned long long)ev->done,
		    (unsigned long long)ev->total, rate, eta);
		c->bar_open = 1;
		if (pct == 100)
			bar_end(c);
	} else if (pct / 10 != c->last_pct / 10 || (pct == 100 && c->last_pct != 100)) {
		fprintf(stderr, "%s: %d%% (%llu of %llu bytes)%s\n", flasher_phase_name(ev->phase), pct,
		    (unsigned long long)ev->done, (unsigned long long)ev->total,
		    ev->rate > 0 ? "" : "");
	}
	if (pct >= 0)
		c->last_pct = pct;
}

/* One failure message: JSON or text. */
static int
fl_fail(struct fl_ctx *c, const char *fmt, ...) ED_PRINTFLIKE(2, 3);
static int
fl_fail(struct fl_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (c != NULL)
		bar_end(c);
	if (cli_common.json) {
		printf("{\"event\":\"error\",\"msg\":");
		json_str(stdout, msg);
		printf("}\n");
		fflush(stdout);
	} else
		fprintf(stderr, "espdesk %s: %s\n", c != NULL ? c->cmd->name : "", msg);
	free(msg);
	return CLI_EXIT_FAIL;
}

static int
parse_before(const char *s)
{
	if (strcmp(s, "default-reset") == 0 || strcmp(s, "default_reset") == 0)
		return FLASHER_BEFORE_DEFAULT;
	if (strcmp(s, "no-reset") == 0 || strcmp(s, "no_reset") == 0)
		return FLASHER_BEFORE_NO_RESET;
	if (strcmp(s, "manual") == 0)
		return FLASHER_BEFORE_MANUAL;
	if (strcmp(s, "auto") == 0)
		return FLASHER_BEFORE_AUTO;
	return -1;
}

static int
parse_after(const char *s)
{
	if (strcmp(s, "hard-reset") == 0 || strcmp(s, "hard_reset") == 0)
		return FLASHER_AFTER_HARD_RESET;
	if (strcmp(s, "soft-reset") == 0 || strcmp(s, "soft_reset") == 0)
		return FLASHER_AFTER_SOFT_RESET;
	if (strcmp(s, "no-reset") == 0 || strcmp(s, "no_reset") == 0)
		return FLASHER_AFTER_NO_RESET;
	return -1;
}

/*
 * Parses options; leaves the operands in argv[optind..]. Returns -1 on success, else the exit
 * code to return.
 */
static int
fl_parse(struct fl_ctx *c, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = { FL_LONGOPTS };
	int ch;

	memset(c, 0, sizeof *c);
	c->cmd = cmd;
	c->hdr = (struct flasher_hdr)FLASHER_HDR_KEEP;
	c->o.before = FLASHER_BEFORE_DEFAULT;
	c->o.after = FLASHER_AFTER_HARD_RESET;
	c->last_ph = (enum flasher_phase)-1;
	c->last_pct = -1;
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r = cli_common_opt(cmd, ch, optarg), v;

		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (ch) {
		case OPT_BEFORE:
			if ((v = parse_before(optarg)) < 0)
				return cli_usage_error(cmd, "--before must be default-reset, no-reset, "
				    "manual or auto, not '%s'", optarg);
			c->o.before = (enum flasher_before)v;
			break;
		case OPT_AFTER:
			if ((v = parse_after(optarg)) < 0)
				return cli_usage_error(cmd, "--after must be hard-reset, soft-reset or "
				    "no-reset, not '%s'", optarg);
			c->o.after = (enum flasher_after)v;
			break;
		case OPT_NO_STUB:
			c->o.no_stub = 1;
			break;
		case OPT_FMODE:
			if ((c->hdr.mode = flasher_header_mode(optarg)) < -1)
				return cli_usage_error(cmd, "--flash-mode must be keep, qio, qout, dio or "
				    "dout, not '%s'", optarg);
			break;
		case OPT_FSIZE:
			if ((c->hdr.size = flasher_header_size(optarg)) < -1)
				return cli_usage_error(cmd, "--flash-size must be keep, 256KB, 512KB, 1MB, "
				    "2MB, 4MB, 2MB-c1, 4MB-c1, 8MB or 16MB, not '%s'", optarg);
			break;
		case OPT_FFREQ:
			if ((c->hdr.freq = flasher_header_freq(optarg)) < -1)
				return cli_usage_error(cmd, "--flash-freq must be keep, 40m, 26m, 20m or "
				    "80m, not '%s'", optarg);
			break;
		case OPT_RESUME:
			c->resume = 1;
			break;
		case OPT_STORE:
			c->store = 1;
			break;
		case OPT_FORCE:
			c->force = 1;
			break;
		case OPT_SYNC_BAUD:
			v = atoi(optarg);
			if (v < 9600 || v > 921600)
				return cli_usage_error(cmd, "--sync-baud wants a baud from 9600 to 921600, "
				    "not '%s'", optarg);
			c->o.sync_baud = v;
			break;
		case OPT_CONNECT_TIMEOUT:
			v = atoi(optarg);
			if (v <= 0)
				return cli_usage_error(cmd, "--connect-timeout needs a number of seconds, "
				    "not '%s'", optarg);
			c->o.connect_ms = v * 1000;
			break;
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	c->o.port = cli_common.port != NULL ? cli_common.port : getenv("ESPDESK_PORT");
	if (c->o.port == NULL)
		return cli_usage_error(cmd, "no port: give -p PORT (a USB adapter such as "
		    "/dev/ttyUSB0, or the pty espdesk-sim printed), or set ESPDESK_PORT");
	c->o.baud = cli_common.baud;
	c->o.cancel = &sig_stop;
	c->o.cb = fl_event;
	c->o.cb_arg = c;
	c->tty = isatty(2);
	return -1;
}

static void
fl_banner(struct fl_ctx *c, const struct flasher_info *in)
{
	char sz[32];

	if (in->flash_size >= 1u << 20)
		snprintf(sz, sizeof sz, "%u MB", in->flash_size >> 20);
	else if (in->flash_size)
		snprintf(sz, sizeof sz, "%u KB", in->flash_size >> 10);
	else
		snprintf(sz, sizeof sz, "unknown size");
	if (cli_common.json) {
		printf("{\"event\":\"connected\",\"chip\":\"%s\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\","
		    "\"chip_id\":%u,\"xtal_mhz\":%d,\"jedec\":%u,\"flash_size\":%u,\"stub\":%s,"
		    "\"baud\":%d}\n", in->chip, in->mac[0], in->mac[1], in->mac[2], in->mac[3],
		    in->mac[4], in->mac[5], in->chip_id, in->xtal_mhz, in->jedec, in->flash_size,
		    in->stub ? "true" : "false", in->baud);
		fflush(stdout);
		return;
	}
	bar_end(c);
	fprintf(stderr, "Connected: %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, crystal %d MHz, "
	    "flash %06x (%s, %s), %s at %d baud\n", in->chip, in->mac[0], in->mac[1], in->mac[2],
	    in->mac[3], in->mac[4], in->mac[5], in->xtal_mhz, in->jedec,
	    in->vendor ? in->vendor : "vendor unknown", sz, in->stub ? "stub" : "ROM only",
	    in->baud);
}

/* Opens the session; prints the failure itself. */
static int
fl_open(struct fl_ctx *c, struct flasher **f)
{
	char *cause = NULL;
	int rc;

	sig_catch_stop(-1);
	if (!cli_common.json && c->o.before == FLASHER_BEFORE_MANUAL)
		fprintf(stderr, "Connecting to %s: hold GPIO0 low (the button) while you power the "
		    "board; Ctrl-C to give up\n", c->o.port);
	else if (!cli_common.json)
		fprintf(stderr, "Connecting to %s...\n", c->o.port);
	rc = flasher_open(&c->o, f, &cause);
	if (rc < 0) {
		fl_fail(c, "%s", cause ? cause : rc_str(rc));
		free(cause);
		return rc;
	}
	fl_banner(c, flasher_info(*f));
	return RC_OK;
}

/* Runs --after and closes; turns a failure into the exit code. */
static int
fl_close(struct fl_ctx *c, struct flasher *f, int code)
{
	char *cause = NULL;

	if (f == NULL)
		return code;
	if (flasher_finish(f, &cause) < 0 && code == CLI_EXIT_OK) {
		fl_fail(c, "%s", cause);
		code = CLI_EXIT_FAIL;
	}
	free(cause);
	flasher_close(f);
	return code;
}

static int
fl_op_fail(struct fl_ctx *c, struct flasher *f, int rc, char *cause)
{
	fl_fail(c, "%s", cause ? cause : rc_str(rc));
	free(cause);
	if (rc == RC_ERR_GONE || rc == RC_ERR_CANCEL) {
		flasher_close(f);
		return CLI_EXIT_FAIL;
	}
	return fl_close(c, f, CLI_EXIT_FAIL);
}

/* --- chip-id, read-mac, flash-id ----------------------------------------------------- */

static int
fl_ident(const struct cli_cmd *cmd, int argc, char **argv, int what)
{
	struct fl_ctx c;
	struct flasher *f = NULL;
	const struct flasher_info *in;
	int r;

	if ((r = fl_parse(&c, cmd, argc, argv)) >= 0)
		return r;
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (fl_open(&c, &f) < 0)
		return CLI_EXIT_FAIL;
	in = flasher_info(f);
	if (what == 0) {
		if (cli_common.json)
			printf("{\"event\":\"result\",\"chip_id\":\"0x%08x\"}\n", in->chip_id);
		else
			printf("Chip ID: 0x%08x\n", in->chip_id);
	} else if (what == 1) {
		if (cli_common.json)
			printf("{\"event\":\"result\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"}\n",
			    in->mac[0], in->mac[1], in->mac[2], in->mac[3], in->mac[4], in->mac[5]);
		else
			printf("MAC: %02x:%02x:%02x:%02x:%02x:%02x\n", in->mac[0], in->mac[1],
			    in->mac[2], in->mac[3], in->mac[4], in->mac[5]);
	} else {
		if (cli_common.json)
			printf("{\"event\":\"result\",\"manufacturer\":\"%02x\",\"device\":\"%02x%02x\","
			    "\"flash_size\":%u,\"vendor\":\"%s\"}\n", in->jedec & 0xFF,
			    (in->jedec >> 8) & 0xFF, (in->jedec >> 16) & 0xFF, in->flash_size,
			    in->vendor ? in->vendor : "");
		else {
			printf("Manufacturer: %02x (%s)\nDevice: %02x%02x\n", in->jedec & 0xFF,
			    in->vendor ? in->vendor : "vendor unknown", (in->jedec >> 8) & 0xFF,
			    (in->jedec >> 16) & 0xFF);
			if (in->flash_size)
				printf("Detected flash size: %u%s\n", in->flash_size >= 1u << 20 ?
				    in->flash_size >> 20 : in->flash_size >> 10,
				    in->flash_size >= 1u << 20 ? "MB" : "KB");
			else
				printf("Detected flash size: unknown\n");
		}
		if (flasher_chip_jedec_dead(in->jedec)) {
			fflush(stdout);
			fl_fail(&c, "the flash chip is not answering (JEDEC id 0x%06x): check its 3.3 V "
			    "supply and the wiring between the ESP and the flash", in->jedec);
			return fl_close(&c, f, CLI_EXIT_FAIL);
		}
	}
	fflush(stdout);
	return fl_close(&c, f, CLI_EXIT_OK);
}

static int fl_chip_id(int argc, char **argv);
static int fl_read_mac(int argc, char **argv);
static int fl_flash_id(int argc, char **argv);

const struct cli_cmd cli_cmd_chip_id = { "chip-id", "[-p PORT] [options]",
	"print the chip id (as the SDK's system_get_chip_id())", FL_HELP_CONN, fl_chip_id };
const struct cli_cmd cli_cmd_read_mac = { "read-mac", "[-p PORT] [options]",
	"print the Wi-Fi MAC address from the eFuses", FL_HELP_CONN, fl_read_mac };
const struct cli_cmd cli_cmd_flash_id = { "flash-id", "[-p PORT] [options]",
	"print the flash chip's JEDEC id, vendor and size", FL_HELP_CONN, fl_flash_id };

static int fl_chip_id(int argc, char **argv) { return fl_ident(&cli_cmd_chip_id, argc, argv, 0); }
static int fl_read_mac(int argc, char **argv) { return fl_ident(&cli_cmd_read_mac, argc, argv, 1); }
static int fl_flash_id(int argc, char **argv) { return fl_ident(&cli_cmd_flash_id, argc, argv, 2); }

/* --- read-flash ---------------------------------------------------------------------- */

struct rd_sink {
	FILE *fp;
	const char *path;
};

static int
rd_sink(void *arg, uint32_t addr, const uint8_t *data, size_t len)
{
	struct rd_sink *s = arg;

	(void)addr;
	if (fwrite(data, 1, len, s->fp) != len || fflush(s->fp) != 0)
		return -1;
	return 0;
}

static int
fsync_dir(const char *path)
{
	char *tmp = xstrdup(path);
	int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY), rc = 0;

	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(tmp);
	return rc;
}

static int
fl_read_flash(int argc, char **argv);
const struct cli_cmd cli_cmd_read_flash = { "read-flash",
	"[-p PORT] [options] OFFSET SIZE|all FILE",
	"back up flash to FILE (every 64 KB region checked by MD5; --resume continues)",
	FL_HELP_CONN "  --resume             continue an interrupted read from FILE.part\n"
	"  --store              also keep the dump in the backup store (`espdesk backups`),\n"
	"                       checked against the chip's MD5 of the whole flash (needs 0 all)\n",
	fl_read_flash };

/* read-flash --store: the file just written lands in the backup store, checked against the
 * device's MD5 of the whole flash (backup_commit refuses anything else). */
static int
fl_store(struct fl_ctx *c, struct flasher *f, const char *path)
{
	const struct flasher_info *in = flasher_info(f);
	struct backup_meta m;
	struct backup_save *save = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char *cause = NULL, *id = NULL;
	int rc;

	memset(&m, 0, sizeof m);
	snprintf(m.chip, sizeof m.chip, "%s", in->chip);
	m.esp8285 = in->esp8285;
	memcpy(m.mac, in->mac, 6);
	m.chip_id = in->chip_id;
	m.jedec = in->jedec;
	m.flash_size = in->flash_size;
	snprintf(m.port, sizeof m.port, "%s", c->o.port);
	m.baud = in->baud;
	if ((rc = afile_read(path, (size_t)in->flash_size, &data, &len, &cause)) == RC_OK &&
	    (rc = flasher_md5(f, 0, in->flash_size, m.md5, &cause)) == RC_OK &&
	    (rc = backup_begin(&m, &save, &cause)) == RC_OK &&
	    (rc = backup_append(save, data, len, &cause)) == RC_OK) {
		rc = backup_commit(save, &id, &cause);
		save = NULL;
	}
	backup_abort(save);
	free(data);
	if (rc != RC_OK) {
		fl_fail(c, "%s was written, but it is not in the backup store: %s", path,
		    cause ? cause : rc_str(rc));
		free(cause);
		return -1;
	}
	if (!cli_common.json)
		printf("Stored as backup %s (espdesk backups show %s)\n", id, id);
	free(id);
	return 0;
}

static int
fl_read_flash(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cli_cmd_read_flash;
	struct fl_ctx c;
	struct flasher *f = NULL;
	const struct flasher_info *in;
	uint32_t off, size = 0, have = 0;
	char *cause = NULL, *part, *meta, line[256], want_meta[256];
	struct rd_sink sink;
	int r, all, rc;
	int64_t t0;
	FILE *mf;

	if ((r = fl_parse(&c, cmd, argc, argv)) >= 0)
		return r;
	if (argc - optind != 3)
		return cli_usage_error(cmd, "needs OFFSET SIZE FILE (SIZE may be 'all')");
	if (cli_parse_size(argv[optind], &off, &cause) < 0) {
		r = cli_usage_error(cmd, "OFFSET: %s", cause);
		free(cause);
		return r;
	}
	if (c.o.no_stub)
		return fl_fail(&c, "read-flash needs the stub: the ESP8266 ROM cannot read flash "
		    "(drop --no-stub)");
	all = strcasecmp(argv[optind + 1], "all") == 0;
	if (!all && cli_parse_size(argv[optind + 1], &size, &cause) < 0) {
		r = cli_usage_error(cmd, "SIZE: %s", cause);
		free(cause);
		return r;
	}
	if (!all && size == 0)
		return cli_usage_error(cmd, "SIZE is 0: nothing to read");
	sink.path = argv[optind + 2];
	xasprintf(&part, "%s.part", sink.path);
	xasprintf(&meta, "%s.part.meta", sink.path);
	if (fl_open(&c, &f) < 0) {
		free(part);
		free(meta);
		return CLI_EXIT_FAIL;
	}
	in = flasher_info(f);
	if (all) {
		if (in->flash_size == 0) {
			fl_fail(&c, "cannot tell the flash size from JEDEC id 0x%06x; give SIZE instead of "
			    "'all' (for example 1MB or 4MB)", in->jedec);
			r = fl_close(&c, f, CLI_EXIT_FAIL);
			goto out;
		}
		if (off >= in->flash_size) {
			fl_fail(&c, "OFFSET 0x%x is past the end of the %u KB flash", off,
			    in->flash_size >> 10);
			r = fl_close(&c, f, CLI_EXIT_FAIL);
			goto out;
		}
		size = in->flash_size - off;
	}
	if (c.store && (off != 0 || size != in->flash_size)) {
		fl_fail(&c, "--store keeps whole-chip backups only: use OFFSET 0 and SIZE all (this "
		    "chip has %u KB)", in->flash_size >> 10);
		r = fl_close(&c, f, CLI_EXIT_FAIL);
		goto out;
	}
	snprintf(want_meta, sizeof want_meta, "espdesk read-flash offset=0x%x size=0x%x "
	    "mac=%02x:%02x:%02x:%02x:%02x:%02x\n", off, size, in->mac[0], in->mac[1], in->mac[2],
	    in->mac[3], in->mac[4], in->mac[5]);
	/* --resume: take the verified regions already in FILE.part, if they still match. */
	if (c.resume && (mf = fopen(meta, "r")) != NULL) {
		struct stat st;

		if (fgets(line, sizeof line, mf) != NULL && strcmp(line, want_meta) == 0 &&
		    stat(part, &st) == 0) {
			have = (uint32_t)((uint64_t)st.st_size / FLASHER_REGION * FLASHER_REGION);
			if (have > size)
				have = size;
		}
		fclose(mf);
		if (have > 0) {
			uint8_t dev[16], loc[16], *buf = xmalloc(have);
			FILE *pf = fopen(part, "rb");

			if (pf == NULL || fread(buf, 1, have, pf) != have)
				have = 0;
			if (pf != NULL)
				fclose(pf);
			if (have > 0 && flasher_md5(f, off, have, dev, &cause) == RC_OK) {
				flasher_md5_local(buf, have, loc);
				if (memcmp(dev, loc, 16) != 0)
					have = 0;
			} else {
				free(cause);
				cause = NULL;
				have = 0;
			}
			free(buf);
			if (have == 0)
				fl_event(&c, &(struct flasher_event){ FLASHER_PH_NOTICE, 0, 0, 0, 0, -1,
				    "the partial backup no longer matches the chip; starting over" });
			else {
				char msg[128];

				snprintf(msg, sizeof msg, "resuming: 0x%x of 0x%x bytes already read and "
				    "checked against the chip", have, size);
				fl_event(&c, &(struct flasher_event){ FLASHER_PH_NOTICE, 0, 0, 0, 0, -1, msg });
			}
		}
	} else if (c.resume)
		fl_event(&c, &(struct flasher_event){ FLASHER_PH_NOTICE, 0, 0, 0, 0, -1,
		    "nothing to resume (no FILE.part from an earlier read); reading from the start" });
	if ((mf = fopen(meta, "w")) == NULL || fputs(want_meta, mf) < 0 || fclose(mf) != 0) {
		fl_fail(&c, "cannot write %s: %s; check the directory", meta, strerror(errno));
		r = fl_close(&c, f, CLI_EXIT_FAIL);
		goto out;
	}
	if ((sink.fp = fopen(part, have > 0 ? "r+b" : "wb")) == NULL ||
	    (have > 0 && (fseek(sink.fp, (long)have, SEEK_SET) != 0 ||
	    ftruncate(fileno(sink.fp), have) != 0))) {
		fl_fail(&c, "cannot write %s: %s; check the directory and free space", part,
		    strerror(errno));
		if (sink.fp)
			fclose(sink.fp);
		r = fl_close(&c, f, CLI_EXIT_FAIL);
		goto out;
	}
	t0 = clock_now_ms();
	rc = flasher_read(f, off + have, size - have, rd_sink, &sink, &cause);
	if (rc == RC_OK && (fflush(sink.fp) != 0 || fsync(fileno(sink.fp)) != 0))
		rc = RC_ERR_IO, cause = xfmt("cannot save %s: %s", part, strerror(errno));
	fclose(sink.fp);
	if (rc < 0) {
		struct stat st;
		uint32_t kept = stat(part, &st) == 0 ? (uint32_t)st.st_size : 0;
		char *msg = xfmt("%s\n%u of %u bytes (0x%x..0x%x) are read, verified and kept in %s; "
		    "%s is not written. Run the same command with --resume to continue from there",
		    cause ? cause : rc_str(rc), kept, size, off, off + kept, part, sink.path);

		free(cause);
		r = fl_op_fail(&c, f, rc, msg);
		goto out;
	}
	if (rename(part, sink.path) != 0) {
		fl_fail(&c, "cannot rename %s to %s: %s", part, sink.path, strerror(errno));
		r = fl_close(&c, f, CLI_EXIT_FAIL);
		goto out;
	}
	fsync_dir(sink.path);
	unlink(meta);
	if (cli_common.json)
		printf("{\"event\":\"result\",\"file\":");
	if (cli_common.json) {
		json_str(stdout, sink.path);
		printf(",\"offset\":%u,\"size\":%u,\"seconds\":%.1f,\"verified\":true}\n", off, size,
		    (double)(clock_now_ms() - t0) / 1000);
	} else
		printf("Read %u bytes at 0x%08x in %.1f s into %s; every region verified by MD5\n",
		    size, off, (double)(clock_now_ms() - t0) / 1000, sink.path);
	fflush(stdout);
	if (c.store && fl_store(&c, f, sink.path) != 0) {
		r = fl_close(&c, f, CLI_EXIT_FAIL);
		goto out;
	}
	r = fl_close(&c, f, CLI_EXIT_OK);
out:
	free(part);
	free(meta);
	return r;
}

/* --- write-flash and verify-flash ---------------------------------------------------- */

struct wf_file {
	uint32_t off;
	const char *path;
	uint8_t *data;
	size_t len;
};

static void
wf_free(struct wf_file *files, size_t n)
{
	for (size_t i = 0; i < n && files != NULL; i++)
		free(files[i].data);
	free(files);
}

/* Parses the OFFSET FILE pairs after the options and loads every file (nothing that can be checked
 * without the chip is left for later). Returns the files (*n of them; free with wf_free()), or
 * NULL with the exit code in *r (the failure printed). */
static struct wf_file *
wf_load(struct fl_ctx *c, const struct cli_cmd *cmd, int argc, char **argv, size_t *n, int *r)
{
	struct wf_file *files;
	char *cause = NULL;
	size_t i;

	if (argc - optind < 2 || (argc - optind) % 2 != 0) {
		*r = cli_usage_error(cmd, "needs OFFSET FILE pairs");
		return NULL;
	}
	*n = (size_t)(argc - optind) / 2;
	files = xcalloc(*n, sizeof *files);
	for (i = 0; i < *n; i++) {
		struct wf_file *w = &files[i];

		w->path = argv[optind + 2 * i + 1];
		if (cli_parse_size(argv[optind + 2 * i], &w->off, &cause) < 0) {
			*r = cli_usage_error(cmd, "OFFSET: %s", cause);
			break;
		}
		/* 16 MB: the largest flash an ESP8266 can address. */
		if (afile_read(w->path, 16u << 20, &w->data, &w->len, &cause) != RC_OK) {
			*r = fl_fail(c, "%s; the device was not touched", cause);
			break;
		}
		if (w->len == 0) {
			*r = fl_fail(c, "%s is empty: there is nothing to write at 0x%x; check the file "
			    "name", w->path, w->off);
			break;
		}
	}
	free(cause);
	if (i < *n) {
		wf_free(files, *n);
		return NULL;
	}
	return files;
}

static int fl_write_flash(int argc, char **argv);
const struct cli_cmd cli_cmd_write_flash = { "write-flash",
	"[-p PORT] [options] OFFSET FILE [OFFSET FILE]...",
	"write files to flash (compressed, skipping sectors that already match, verified by MD5)",
	FL_HELP_CONN FL_HELP_HDR
	"  --force              write at 0x0 a file that is not a boot image (refused otherwise:\n"
	"                       the chip would not boot)\n", fl_write_flash };

static int
fl_write_flash(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cli_cmd_write_flash;
	struct fl_ctx c;
	struct flasher *f = NULL;
	struct wf_file *files;
	size_t nfiles, i;
	char *cause = NULL;
	int r, rc;

	if ((r = fl_parse(&c, cmd, argc, argv)) >= 0)
		return r;
	if ((files = wf_load(&c, cmd, argc, argv, &nfiles, &r)) == NULL)
		return r;
	for (i = 0; i < nfiles && !c.force; i++)
		if (flasher_plan_check_boot(files[i].off, files[i].data, files[i].len,
		    files[i].path, &cause) < 0) {
			r = fl_fail(&c, "%s; the device was not touched (--force writes it all the "
			    "same)", cause);
			free(cause);
			goto out;
		}
	if (fl_open(&c, &f) < 0) {
		r = CLI_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		if (flasher_plan_check_write(files[i].off, files[i].len, flasher_flash_size(f),
		    files[i].path, &cause) < 0) {
			fl_fail(&c, "%s; nothing was written", cause);
			free(cause);
			r = fl_close(&c, f, CLI_EXIT_FAIL);
			goto out;
		}
	for (i = 0; i < nfiles; i++) {
		struct flasher_write_result res;
		int64_t t0 = clock_now_ms();

		rc = flasher_write(f, files[i].off, files[i].data, files[i].len, &c.hdr, &res, &cause);
		if (rc < 0) {
			struct buf done = BUF_INIT;
			char *msg;

			for (size_t k = 0; k < i; k++) {
				char *s = xfmt("%s%s at 0x%x", k ? ", " : "", files[k].path, files[k].off);

				buf_add(&done, s, strlen(s));
				free(s);
			}
			buf_add_byte(&done, 0);
			if (rc == RC_ERR_GONE || rc == RC_ERR_TIMEOUT || rc == RC_ERR_CANCEL)
				msg = xfmt("%s\nDone and verified: %s. Not finished: %s at 0x%x (about %u of "
				    "%zu bytes written). Put the board back into download mode and run the "
				    "same command again: sectors that already match are skipped, so only the "
				    "rest is written.", cause ? cause : rc_str(rc), i ? (char *)done.data :
				    "none", files[i].path, files[i].off, res.written + res.skipped,
				    files[i].len);
			else
				msg = xfmt("%s (%s at 0x%x)", cause ? cause : rc_str(rc), files[i].path,
				    files[i].off);
			free(cause);
			buf_free(&done);
			r = fl_op_fail(&c, f, rc, msg);
			goto out;
		}
		if (cli_common.json) {
			printf("{\"event\":\"result\",\"file\":");
			json_str(stdout, files[i].path);
			printf(",\"offset\":%u,\"size\":%zu,\"written\":%u,\"skipped\":%u,"
			    "\"verified\":%s,\"seconds\":%.1f}\n", files[i].off, files[i].len,
			    res.written, res.skipped, res.verified ? "true" : "false",
			    (double)(clock_now_ms() - t0) / 1000);
		} else {
			printf("Wrote %s at 0x%08x: %zu bytes (%u written, %u already on the chip) in "
			    "%.1f s; ", files[i].path, files[i].off, files[i].len, res.written,
			    res.skipped, (double)(clock_now_ms() - t0) / 1000);
			if (res.verified)
				printf("verified by MD5\n");
			else
				printf("NOT verified: the ESP8266 ROM cannot compute an MD5 (run without "
				    "--no-stub to verify)\n");
		}
		fflush(stdout);
	}
	r = fl_close(&c, f, CLI_EXIT_OK);
out:
	wf_free(files, nfiles);
	return r;
}

static int fl_verify_flash(int argc, char **argv);
const struct cli_cmd cli_cmd_verify_flash = { "verify-flash",
	"[-p PORT] [options] OFFSET FILE [OFFSET FILE]...",
	"compare flash with files by the chip's MD5 (needs the stub)",
	FL_HELP_CONN FL_HELP_HDR, fl_verify_flash };

static int
fl_verify_flash(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cli_cmd_verify_flash;
	struct fl_ctx c;
	struct flasher *f = NULL;
	struct wf_file *files;
	size_t nfiles, i;
	char *cause = NULL;
	int r, rc, bad = 0;

	if ((r = fl_parse(&c, cmd, argc, argv)) >= 0)
		return r;
	if (c.o.no_stub)
		return fl_fail(&c, "verify-flash needs the stub: the ESP8266 ROM cannot compute an MD5 "
		    "(drop --no-stub). Nothing was verified");
	if ((files = wf_load(&c, cmd, argc, argv, &nfiles, &r)) == NULL)
		return r;
	if (fl_open(&c, &f) < 0) {
		r = CLI_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		rc = flasher_verify(f, files[i].off, files[i].data, files[i].len, &c.hdr, &cause);
		if (rc == RC_ERR_VERIFY) {
			bad++;
			if (cli_common.json) {
				printf("{\"event\":\"result\",\"file\":");
				json_str(stdout, files[i].path);
				printf(",\"offset\":%u,\"verified\":false,\"msg\":", files[i].off);
				json_str(stdout, cause);
				printf("}\n");
			} else
				printf("%s at 0x%08x: %s\n", files[i].path, files[i].off, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		if (rc < 0) {
			r = fl_op_fail(&c, f, rc, cause);
			goto out;
		}
		if (cli_common.json) {
			printf("{\"event\":\"result\",\"file\":");
			json_str(stdout, files[i].path);
			printf(",\"offset\":%u,\"verified\":true}\n", files[i].off);
		} else
			printf("%s at 0x%08x: verify OK (the chip's MD5 matches)\n", files[i].path,
			    files[i].off);
	}
	fflush(stdout);
	if (bad)
		fl_fail(&c, "%d of %zu files differ from the flash", bad, nfiles);
	r = fl_close(&c, f, bad ? CLI_EXIT_FAIL : CLI_EXIT_OK);
out:
	wf_free(files, nfiles);
	return r;
}

/* --- erase-flash, erase-region, run -------------------------------------------------- */

static int fl_erase_flash(int argc, char **argv);
static int fl_erase_region(int argc, char **argv);
static int fl_run(int argc, char **argv);
const struct cli_cmd cli_cmd_erase_flash = { "erase-flash", "[-p PORT] [options]",
	"erase the whole flash", FL_HELP_CONN, fl_erase_flash };
const struct cli_cmd cli_cmd_erase_region = { "erase-region",
	"[-p PORT] [options] OFFSET SIZE", "erase OFFSET..OFFSET+SIZE (multiples of 4096)",
	FL_HELP_CONN, fl_erase_region };
const struct cli_cmd cli_cmd_run = { "run", "[-p PORT] [options]",
	"leave the loader and run the firmware in flash", FL_HELP_CONN, fl_run };

static int
fl_erase(const struct cli_cmd *cmd, int argc, char **argv, int region)
{
	struct fl_ctx c;
	struct flasher *f = NULL;
	uint32_t off = 0, size = 0;
	char *cause = NULL;
	int r, rc;
	int64_t t0;

	if ((r = fl_parse(&c, cmd, argc, argv)) >= 0)
		return r;
	if (region) {
		if (argc - optind != 2)
			return cli_usage_error(cmd, "needs OFFSET SIZE");
		if (cli_parse_size(argv[optind], &off, &cause) < 0 ||
		    cli_parse_size(argv[optind + 1], &size, &cause) < 0) {
			r = cli_usage_error(cmd, "%s", cause);
			free(cause);
			return r;
		}
		if (off % 4096 || size % 4096 || size == 0)
			return cli_usage_error(cmd, "OFFSET and SIZE must be multiples of 4096 (0x1000) "
			    "and SIZE above 0");
	} else if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (fl_open(&c, &f) < 0)
		return CLI_EXIT_FAIL;
	t0 = clock_now_ms();
	rc = region ? flasher_erase_region(f, off, size, &cause) : flasher_erase_chip(f, &cause);
	if (rc < 0)
		return fl_op_fail(&c, f, rc, cause);
	if (!region)
		size = flasher_flash_size(f);
	if (cli_common.json)
		printf("{\"event\":\"result\",\"erased_offset\":%u,\"erased_size\":%u,\"seconds\":%.1f}\n",
		    off, size, (double)(clock_now_ms() - t0) / 1000);
	else
		printf("Erased 0x%08x..0x%08x in %.1f s\n", off, off + size - 1,
		    (double)(clock_now_ms() - t0) / 1000);
	fflush(stdout);
	return fl_close(&c, f, CLI_EXIT_OK);
}

static int fl_erase_flash(int argc, char **argv) { return fl_erase(&cli_cmd_erase_flash, argc, argv, 0); }
static int fl_erase_region(int argc, char **argv) { return fl_erase(&cli_cmd_erase_region, argc, argv, 1); }

static int
fl_run(int argc, char **argv)
{
	struct fl_ctx c;
	struct flasher *f = NULL;
	char *cause = NULL;
	int r;

	if ((r = fl_parse(&c, &cli_cmd_run, argc, argv)) >= 0)
		return r;
	if (optind != argc)
		return cli_usage_error(&cli_cmd_run, "unexpected argument '%s'", argv[optind]);
	if (fl_open(&c, &f) < 0)
		return CLI_EXIT_FAIL;
	if (flasher_run(f, &cause) < 0)
		return fl_op_fail(&c, f, RC_ERR_IO, cause);
	if (!cli_common.json)
		printf("The firmware is running\n");
	flasher_close(f);
	return CLI_EXIT_OK;
}
