/* espdesk decode: explain a saved boot log (raw bytes or pasted text) and name the cause. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "bootlog/bootlog_fmt.h"
#include "cli/cli.h"
#include "core/buf.h"

extern const struct cli_cmd cli_cmd_decode;

enum { OPT_FORMAT = 0x2000, OPT_CHIP, OPT_FLASH_SIZE, OPT_FLASH_MODE, OPT_HDR_MODE, OPT_HDR_SIZE,
	OPT_APP_BAUD, OPT_READ_BAUD, OPT_FOREIGN };

struct decode_out {
	struct bootlog_diag diag;
	struct buf text;     /* the annotated listing (text format) */
	struct buf events;   /* comma-separated JSON events (json format) */
	int json;
	size_t nevents;
};

static void
decode_cb(void *arg, const struct bootlog_event *ev)
{
	struct decode_out *o = arg;

	bootlog_diag_event(&o->diag, ev, -1);
	if (o->json) {
		if (o->nevents++ > 0)
			buf_add(&o->events, ", ", 2);
		bootlog_fmt_json_event(&o->events, ev);
	} else {
		bootlog_fmt_line(&o->text, ev, BOOTLOG_FMT_LINENO);
		/* Keep memory flat on big logs: print as we go. */
		if (buf_len(&o->text) > 65536) {
			fwrite(buf_head(&o->text), 1, buf_len(&o->text), stdout);
			buf_reset(&o->text);
		}
	}
}

static int
parse_mode(const char *s)
{
	static const char *const modes[] = { "qio", "qout", "dio", "dout" };

	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, modes[i]) == 0)
			return i;
	return -1;
}

static int
decode_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "chip", required_argument, NULL, OPT_CHIP },
		{ "flash-size", required_argument, NULL, OPT_FLASH_SIZE },
		{ "flash-mode", required_argument, NULL, OPT_FLASH_MODE },
		{ "header-mode", required_argument, NULL, OPT_HDR_MODE },
		{ "header-size", required_argument, NULL, OPT_HDR_SIZE },
		{ "app-baud", required_argument, NULL, OPT_APP_BAUD },
		{ "read-baud", required_argument, NULL, OPT_READ_BAUD },
		{ "foreign-dump", no_argument, NULL, OPT_FOREIGN },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *cmd = &cli_cmd_decode;
	struct bootlog_facts facts;
	struct bootlog_verdict v;
	struct decode_out *o;
	struct bootlog dec;
	const char *path = "-";
	char *cause = NULL;
	uint32_t size;
	FILE *f;
	int c, r, app_baud = 0, read_baud = 0, rc = CLI_EXIT_OK;
	static uint8_t chunk[65536];
	size_t n;

	bootlog_facts_init(&facts);
	o = calloc(1, sizeof *o);
	if (o == NULL) {
		fprintf(stderr, "espdesk decode: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	o->json = cli_common.json;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0)
				o->json = 1;
			else if (strcmp(optarg, "text") == 0)
				o->json = 0;
			else {
				free(o);
				return cli_usage_error(cmd, "unknown format '%s' (use text or json)", optarg);
			}
			break;
		case OPT_CHIP:
			if (strcasecmp(optarg, "esp8285") == 0)
				facts.chip = BL_CHIP_ESP8285;
			else if (strcasecmp(optarg, "esp8266") == 0)
				facts.chip = BL_CHIP_ESP8266;
			else {
				free(o);
				return cli_usage_error(cmd, "unknown chip '%s' (use esp8266 or esp8285)", optarg);
			}
			break;
		case OPT_FLASH_MODE:
		case OPT_HDR_MODE:
			if ((r = parse_mode(optarg)) < 0) {
				free(o);
				return cli_usage_error(cmd, "unknown flash mode '%s' (use qio, qout, dio or dout)",
				    optarg);
			}
			if (c == OPT_FLASH_MODE)
				facts.flash_mode = r;
			else
				facts.hdr_mode = r;
			break;
		case OPT_FLASH_SIZE:
		case OPT_HDR_SIZE:
			if (cli_parse_size(optarg, &size, &cause) != RC_OK) {
				r = cli_usage_error(cmd, "%s", cause);
				free(cause);
				free(o);
				return r;
			}
			if (c == OPT_FLASH_SIZE)
				facts.flash_size = size;
			else
				facts.hdr_size = size;
			break;
		case OPT_FOREIGN:
			facts.foreign_dump = 1;
			break;
		case OPT_APP_BAUD:
		case OPT_READ_BAUD:
			r = atoi(optarg);
			if (r < 300 || r > 4000000) {
				free(o);
				return cli_usage_error(cmd, "invalid baud rate '%s'", optarg);
			}
			if (c == OPT_APP_BAUD)
				app_baud = r;
			else
				read_baud = r;
			break;
		default:
			if ((r = cli_common_opt(cmd, c, optarg)) == 1)
				break;
			free(o);
			return r == 0 ? cli_usage_error(cmd, "unexpected option") : CLI_EXIT_USAGE;
		}
	}
	if (cli_common.json)
		o->json = 1;
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc) {
		free(o);
		return cli_usage_error(cmd, "one log at a time ('%s' is extra)", argv[optind]);
	}
	if (strcmp(path, "-") == 0) {
		f = stdin;
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "espdesk decode: reading the log from the terminal; paste it, then "
			    "press Ctrl-D\n");
	} else if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "espdesk decode: cannot open %s: %s; give the path of a saved log, or - "
		    "for standard input\n", path, strerror(errno));
		free(o);
		return CLI_EXIT_FAIL;
	}

	bootlog_diag_init(&o->diag);
	bootlog_init(&dec, decode_cb, o);
	if (app_baud)
		bootlog_set_app_baud(&dec, app_baud);
	if (read_baud)
		bootlog_set_read_baud(&dec, read_baud);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		bootlog_feed(&dec, chunk, n);
	if (ferror(f)) {
		fprintf(stderr, "espdesk decode: error reading %s: %s\n", path, strerror(errno));
		rc = CLI_EXIT_FAIL;
	}
	bootlog_flush(&dec);
	if (f != stdin)
		fclose(f);

	bootlog_diag_verdict(&o->diag, &facts, &v);
	if (o->json) {
		struct buf out = BUF_INIT;

		bootlog_fmt_json_report(&out, &v, buf_head(&o->events), buf_len(&o->events));
		fwrite(buf_head(&out), 1, buf_len(&out), stdout);
		buf_free(&out);
	} else {
		if (o->diag.lines == 0)
			buf_add(&o->text, "(the log is empty)\n", 19);
		buf_add(&o->text, "\n", 1);
		bootlog_fmt_verdict(&o->text, &v);
		fwrite(buf_head(&o->text), 1, buf_len(&o->text), stdout);
	}
	buf_free(&o->text);
	buf_free(&o->events);
	free(o);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "espdesk decode: cannot write the output: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return rc;
}

const struct cli_cmd cli_cmd_decode = {
	.name = "decode",
	.synopsis = "[--format text|json] [--chip esp8266|esp8285] [--flash-size SIZE] "
	    "[--header-mode MODE] [FILE|-]",
	.summary = "explain a saved boot log and name the cause of the trouble",
	.help =
	    "Reads a boot log (raw serial bytes or text pasted from a terminal or a forum) from FILE\n"
	    "or standard input, prints every line with what it means, then the diagnosis: one cause\n"
	    "with the lines that prove it and the advice that fixes it.\n"
	    "\n"
	    "  --format text|json   text (default) or one JSON object {cause, confidence, evidence,\n"
	    "                       advice, boots, events, ...}\n"
	    "  --chip CHIP          esp8266 or esp8285 (ESP8285 flash is DOUT only)\n"
	    "  --flash-size SIZE    the chip's real flash size (1MB, 4MB, ...)\n"
	    "  --flash-mode MODE    the fastest mode the board supports (qio, qout, dio, dout)\n"
	    "  --header-mode MODE   the flash mode in the image header at 0x0\n"
	    "  --header-size SIZE   the flash size in the image header at 0x0\n"
	    "  --app-baud BAUD      the application's baud (default 115200)\n"
	    "  --read-baud BAUD     the baud the log was captured at, if known\n"
	    "  --foreign-dump       the flash was restored from another unit's dump\n",
	.run = decode_run,
};
