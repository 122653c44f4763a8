/*
 * flow_cli.c: `espdesk backup`, `espdesk flash FILE`, `espdesk restore [BACKUP]`,
 * `espdesk erase` and `espdesk flow status|resume|abort`. Interactive on a terminal; --yes
 * answers ordinary questions, and the ones that risk the only backup need their own flag
 * (--no-backup, --other-unit).
 */
#include "config.h"

#include "flow/flow.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/sig.h"

enum {
	OPT_YES = 0x2100, OPT_NO_BACKUP, OPT_OTHER_UNIT, OPT_RELAYOUT, OPT_MANUAL, OPT_WATCH,
	OPT_NO_WATCH, OPT_BEFORE, OPT_PROFILE,
};

#define FLOW_HELP                                                                            \
	"  -p PORT            the serial port (or rfc2217://host:port)\n"                        \
	"  -b BAUD            highest baud to use (default 921600)\n"                            \
	"  --manual           the board has no auto-reset (Sonoff): you will be told when to\n"  \
	"                     hold the button and power it; espdesk detects download mode\n"     \
	"                     (also --before manual, as for the flasher commands). Without\n"    \
	"                     it espdesk resets through DTR/RTS and, if that does nothing,\n"    \
	"                     tells you the same and waits (--before default-reset: it never\n"  \
	"                     waits)\n"                                                          \
	"  --profile NAME     the board (`espdesk profiles`): its wiring, mains warning and way\n" \
	"                     into download mode are shown first, and the chip must fit it\n"   \
	"  --yes              answer ordinary questions yes (scripts)\n"                          \
	"  --watch S          watch the boot for S seconds (default 6); --no-watch skips it\n"

static int flow_cli_backup(int argc, char **argv);
static int flow_cli_flash(int argc, char **argv);
static int flow_cli_restore(int argc, char **argv);
static int flow_cli_erase(int argc, char **argv);
static int flow_cli_flow(int argc, char **argv);

const struct cli_cmd cli_cmd_backup = {
	"backup", "-p PORT [--manual] [--yes]",
	"guided: back up a device's whole flash into the backup store, verified",
	FLOW_HELP, flow_cli_backup,
};
const struct cli_cmd cli_cmd_flash = {
	"flash", "-p PORT [--manual] [--yes] FILE",
	"guided: flash new firmware over a verified backup, then watch the boot",
	FLOW_HELP, flow_cli_flash,
};
const struct cli_cmd cli_cmd_restore = {
	"restore", "-p PORT [--other-unit] [--relayout] [BACKUP]",
	"guided: restore a backup (this device's newest by default), then watch the boot",
	FLOW_HELP
	"  --other-unit       restore a backup taken from another unit (its eWeLink id comes along)\n"
	"  --relayout         restore a smaller dump moved to this chip's size\n",
	flow_cli_restore,
};
const struct cli_cmd cli_cmd_erase = {
	"erase", "-p PORT [--no-backup]",
	"guided: erase the chip, only over a verified backup of this device",
	FLOW_HELP
	"  --no-backup        erase without a backup: the firmware on the chip is lost\n",
	flow_cli_erase,
};
const struct cli_cmd cli_cmd_flow = {
	"flow", "status | resume [-p PORT] | abort",
	"show, resume or forget a guided flow that stopped (cable, power, Ctrl-C)",
	FLOW_HELP, flow_cli_flow,
};



static int
parse(const struct cli_cmd *cmd, int argc, char **argv, struct flow_opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "yes", no_argument, NULL, OPT_YES },
		{ "no-backup", no_argument, NULL, OPT_NO_BACKUP },
		{ "other-unit", no_argument, NULL, OPT_OTHER_UNIT },
		{ "relayout", no_argument, NULL, OPT_RELAYOUT },
		{ "manual", no_argument, NULL, OPT_MANUAL },
		{ "before", required_argument, NULL, OPT_BEFORE },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "watch", required_argument, NULL, OPT_WATCH },
		{ "no-watch", no_argument, NULL, OPT_NO_WATCH },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	o->out = stdout;
	o->cancel = &sig_stop;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r;

		switch (c) {
		case OPT_YES: o->yes = 1; break;
		case OPT_NO_BACKUP: o->no_backup = 1; break;
		case OPT_OTHER_UNIT: o->other_unit = 1; break;
		case OPT_RELAYOUT: o->relayout = 1; break;
		case OPT_MANUAL: o->manual = 1; break;
		case OPT_PROFILE: o->profile = optarg; break;
		case OPT_BEFORE:
			/* The flasher's option, for esptool habits and its own advice. */
			if (strcmp(optarg, "manual") == 0)
				o->manual = 1;
			else if (strcmp(optarg, "default-reset") == 0)
				o->manual = 0, o->reset_only = 1;
			else
				return cli_usage_error(cmd, "--before: a flow takes manual or "
				    "default-reset, not '%s'", optarg);
			break;
		case OPT_NO_WATCH: o->watch_ms = -1; break;
		case OPT_WATCH: {
			char *end;
			double s = strtod(optarg, &end);

			if (*end != '\0' || s <= 0 || s > 3600)
				return cli_usage_error(cmd, "--watch wants seconds (1 to 3600), not "
				    "'%s'", optarg);
			o->watch_ms = (int)(s * 1000);
			break;
		}
		default:
			r = cli_common_opt(cmd, c, optarg);
			if (r < 0)
				return CLI_EXIT_USAGE;
			if (r == 0)
				return cli_usage_error(cmd, "unknown option");
		}
	}
	o->port = cli_common.port;
	o->baud = cli_common.baud;

	return -1;
}

static int
finish(const char *name, int rc, char *cause)
{
	if (rc == RC_OK)
		return CLI_EXIT_OK;
	fprintf(stderr, "espdesk %s: %s\n", name, cause ? cause : rc_str(rc));
	free(cause);
	return CLI_EXIT_FAIL;
}

static int
start(const struct cli_cmd *cmd, int argc, char **argv, const char *flow, int nargs)
{
	struct flow_opts o;
	char *cause = NULL;
	int r = parse(cmd, argc, argv, &o);

	if (r >= 0)
		return r;
	if (argc - optind != nargs && !(nargs == 1 && strcmp(flow, "restore") == 0 &&
	    argc - optind == 0))
		return cli_usage_error(cmd, "wrong number of arguments");
	if (o.port == NULL)
		return cli_usage_error(cmd, "no port; give -p PORT");
	o.flow = flow;
	if (strcmp(flow, "flash") == 0)
		o.file = argv[optind];
	if (strcmp(flow, "restore") == 0)
		o.backup = optind < argc ? argv[optind] : "";
	sig_catch_stop(-1);
	r = flow_start(&o, &cause);
	return finish(cmd->name, r, cause);
}

static int
flow_cli_backup(int argc, char **argv)
{
	return start(&cli_cmd_backup, argc, argv, "backup", 0);
}

static int
flow_cli_flash(int argc, char **argv)
{
	return start(&cli_cmd_flash, argc, argv, "flash", 1);
}

static int
flow_cli_restore(int argc, char **argv)
{
	return start(&cli_cmd_restore, argc, argv, "restore", 1);
}

static int
flow_cli_erase(int argc, char **argv)
{
	return start(&cli_cmd_erase, argc, argv, "erase", 0);
}

static int
flow_cli_flow(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cli_cmd_flow;
	struct flow_opts o;
	char *cause = NULL;
	int r = parse(cmd, argc, argv, &o);
	const char *what;

	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return cli_usage_error(cmd, "expected status, resume or abort");
	what = argv[optind];
	if (strcmp(what, "status") == 0) {
		r = flow_status(stdout, &cause);
		return finish("flow", r, cause);
	}
	if (strcmp(what, "abort") == 0) {
		r = flow_abort(&cause);
		if (r == RC_OK)
			printf("the flow journal is gone; the backup store was not touched\n");
		return finish("flow", r, cause);
	}
	if (strcmp(what, "resume") == 0) {
		sig_catch_stop(-1);
		r = flow_resume(&o, &cause);
		return finish("flow", r, cause);
	}
	return cli_usage_error(cmd, "expected status, resume or abort, not '%s'", what);
}
