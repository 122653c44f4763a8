#include "config.h"

#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

struct cli_common cli_common;

void
cli_print_help(const struct cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: espdesk %s %s\n\n%s\n", cmd->name, cmd->synopsis, cmd->summary);
	if (cmd->help != NULL)
		fprintf(f, "\n%s", cmd->help);
	fprintf(f, "\ncommon options:\n"
	    "  -p, --port PORT      serial port (/dev/ttyUSB0, a pty, or rfc2217://HOST:PORT)\n"
	    "  -b, --baud BAUD      baud rate (a cap for the flasher's baud ladder)\n"
	    "  -v, --verbose        debug log to ./espdesk.log\n"
	    "      --debug-log FILE debug log to FILE\n"
	    "      --json           machine-readable output, one JSON object per line\n"
	    "  -h, --help           this help\n");
}

int
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "espdesk %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'espdesk %s --help'.\n", cmd->name);
	return CLI_EXIT_USAGE;
}

static int
cli_open_log(const char *path)
{
	if (log_open(path) != RC_OK) {
		fprintf(stderr, "espdesk: cannot open debug log %s: %s\n", path, strerror(errno));
		return -1;
	}
	log_debug("espdesk %s started", PACKAGE_VERSION);
	return 0;
}

int
cli_common_opt(const struct cli_cmd *cmd, int c, const char *arg)
{
	char *end;
	long v;

	switch (c) {
	case 'p':
		cli_common.port = arg;
		return 1;
	case 'b':
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno != 0 || *end != '\0' || v < 300 || v > 4000000) {
			cli_usage_error(cmd, "invalid baud rate '%s' (expected a number such as 115200)", arg);
			return -1;
		}
		cli_common.baud = (int)v;
		return 1;
	case 'v':
		cli_common.debug_log = "espdesk.log";
		return cli_open_log(cli_common.debug_log) == 0 ? 1 : -1;
	case CLI_OPT_DEBUG_LOG:
		cli_common.debug_log = arg;
		return cli_open_log(arg) == 0 ? 1 : -1;
	case CLI_OPT_JSON:
		cli_common.json = 1;
		return 1;
	case 'h':
		cli_print_help(cmd, stdout);
		exit(CLI_EXIT_OK);
	case '?':
		fprintf(stderr, "Try 'espdesk %s --help'.\n", cmd->name);
		return -1;
	case ':':
		return -1;
	}
	return 0;
}

int
cli_parse_size(const char *s, uint32_t *out, char **cause)
{
	unsigned long long v, mul = 1;
	char *end;

	*cause = NULL;
	if (s == NULL || *s == '\0' || *s == '-' || isspace((unsigned char)*s)) {
		*cause = xfmt("'%s' is not a size or offset", s ? s : "");
		return RC_ERR_ARG;
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s) {
		*cause = xfmt("'%s' is not a number (use 4096, 0x1000 or 1MB)", s);
		return RC_ERR_ARG;
	}
	if (*end != '\0') {
		if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0 || strcasecmp(end, "kib") == 0)
			mul = 1024;
		else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0 || strcasecmp(end, "mib") == 0)
			mul = 1024 * 1024;
		else {
			*cause = xfmt("'%s' has an unknown unit '%s' (use KB or MB)", s, end);
			return RC_ERR_ARG;
		}
	}
	if (v > 0xffffffffULL / mul) {
		*cause = xfmt("'%s' is larger than 4 GB", s);
		return RC_ERR_ARG;
	}
	*out = (uint32_t)(v * mul);
	return RC_OK;
}

static void
cli_print_usage(FILE *f)
{
	fprintf(f, "usage: espdesk [--version] [--help] [-v] SUBCOMMAND [options]\n\n"
	    "A terminal workstation for ESP8266/ESP8285 (Sonoff) devices.\n\nsubcommands:\n");
	for (size_t i = 0; cli_table[i] != NULL; i++)
		fprintf(f, "  %-14s %s\n", cli_table[i]->name, cli_table[i]->summary);
	fprintf(f, "\n'espdesk SUBCOMMAND --help' shows the options of one subcommand.\n"
	    "Exit status: 0 success, 1 the operation failed, 2 usage error.\n");
}

int
cli_main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("espdesk %s\n", PACKAGE_VERSION);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cli_print_usage(stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "-v") == 0) {
			if (cli_open_log("espdesk.log") != 0)
				return CLI_EXIT_FAIL;
			cli_common.debug_log = "espdesk.log";
		} else if (strcmp(argv[i], "--debug-log") == 0 && i + 1 < argc) {
			if (cli_open_log(argv[++i]) != 0)
				return CLI_EXIT_FAIL;
			cli_common.debug_log = argv[i];
		} else
			break;
	}
	if (i >= argc) {
		cli_print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (size_t k = 0; cli_table[k] != NULL; k++) {
		if (strcmp(cli_table[k]->name, argv[i]) == 0) {
			optind = 0; /* reset getopt for the subcommand */
			return cli_table[k]->run(argc - i, argv + i);
		}
	}
	fprintf(stderr, "espdesk: unknown subcommand or option '%s'\nTry 'espdesk --help'.\n", argv[i]);
	return CLI_EXIT_USAGE;
}
