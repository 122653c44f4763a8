/* espdesk tui / espdesk --demo: the ncurses workstation (src/ui/). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "serial/ser.h"
#include "ui/ui.h"

extern const struct cli_cmd cli_cmd_tui;

enum { OPT_PROFILE = 0x2200, OPT_DEMO, OPT_MAX_LINES, OPT_APP_BAUD };

/* Without -p: offer the ports list-ports finds. Returns a heap path or NULL. */
static char *
tui_pick_port(void)
{
	struct ser_info *l = NULL;
	size_t n = 0;
	char *cause = NULL, line[64], *pick = NULL;
	unsigned long k;

	if (ser_list(&l, &n, &cause) != RC_OK || n == 0) {
		fprintf(stderr, "espdesk tui: no serial ports found%s%s; plug in the adapter and give "
		    "-p PORT, or try 'espdesk --demo' (a simulated board)\n", cause ? ": " : "",
		    cause ? cause : "");
		free(cause);
		ser_list_free(l, n);
		return NULL;
	}
	if (n == 1) {
		pick = strdup(l[0].path);
		ser_list_free(l, n);
		return pick;
	}
	printf("Serial ports:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %zu) %s  %s\n", i + 1, l[i].path, l[i].bridge ? l[i].bridge :
		    l[i].description ? l[i].description : "");
	printf("Which one (1-%zu)? ", n);
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) != NULL && (k = strtoul(line, NULL, 10)) >= 1 && k <= n)
		pick = strdup(l[k - 1].path);
	else
		fprintf(stderr, "espdesk tui: no port chosen; give -p PORT\n");
	ser_list_free(l, n);
	return pick;
}

static int
tui_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "demo", no_argument, NULL, OPT_DEMO },
		{ "max-lines", required_argument, NULL, OPT_MAX_LINES },
		{ "app-baud", required_argument, NULL, OPT_APP_BAUD },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *cmd = &cli_cmd_tui;
	struct ui_opts o;
	char *cause = NULL, *end, *picked = NULL;
	int c, r;

	memset(&o, 0, sizeof o);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE:
			o.profile = optarg;
			break;
		case OPT_DEMO:
			o.demo = 1;
			break;
		case OPT_MAX_LINES:
			o.max_lines = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o.max_lines < 100)
				return cli_usage_error(cmd, "--max-lines wants a number of lines (100 or "
				    "more), not '%s'", optarg);
			break;
		case OPT_APP_BAUD:
			o.app_baud = atoi(optarg);
			if (o.app_baud < 300 || o.app_baud > 4000000)
				return cli_usage_error(cmd, "invalid baud rate '%s'", optarg);
			break;
		default:
			if ((r = cli_common_opt(cmd, c, optarg)) == 1)
				break;
			return r == 0 ? cli_usage_error(cmd, "unexpected option") : CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	o.port = cli_common.port;
	o.baud = cli_common.baud;
	if (o.port == NULL && !o.demo) {
		if ((picked = tui_pick_port()) == NULL)
			return CLI_EXIT_FAIL;
		o.port = picked;
	}
	r = ui_run(&o, &cause);
	free(picked);
	if (r != RC_OK) {
		fprintf(stderr, "espdesk: %s\n", cause != NULL ? cause : rc_str(r));
		free(cause);
		return r == RC_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_tui = {
	.name = "tui",
	.synopsis = "[-p PORT] [--profile NAME] [--demo]",
	.summary = "the workstation: live log, device, diagnosis and flasher in one screen; "
	    "--demo runs it on a simulated Sonoff",
	.help =
	    "Opens the ncurses workstation on PORT (without -p: the ports list-ports finds).\n"
	    "F1 inside lists every key. 'espdesk --demo' is 'espdesk tui --demo'.\n"
	    "\n"
	    "  --profile NAME       the board's profile (download-mode help, contradictions)\n"
	    "  --demo               start espdesk-sim with a demo firmware and open it, with keys\n"
	    "                       for the GPIO0 button, power and failure scenarios\n"
	    "  --max-lines N        scrollback lines (default 100000)\n"
	    "  --app-baud BAUD      the application's baud (default: the profile's or 115200)\n"
	    "  -b BAUD              pin the log at BAUD instead of following the device\n",
	.run = tui_run,
};
