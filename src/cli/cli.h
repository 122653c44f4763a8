/*
 * cli.h: subcommand dispatch and the options every subcommand shares.
 *
 * A subcommand is a const struct cli_cmd in its own file (src/cli/cli_<name>.c or inside its
 * module's cli file), listed once in cli_table.c. Its run() gets argv with argv[0] set to the
 * subcommand name, parses its options with getopt_long (adding CLI_COMMON_LONGOPTS and
 * CLI_COMMON_SHORTOPTS and passing unknown letters to cli_common_opt()), and returns an exit code:
 * CLI_EXIT_OK, CLI_EXIT_FAIL (the operation failed) or CLI_EXIT_USAGE (bad invocation).
 * The CLI layer may print and may call fatal(); the modules below it may not.
 */
#ifndef ESPDESK_CLI_H
#define ESPDESK_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "core/common.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

struct cli_cmd {
	const char *name;
	const char *synopsis;  /* arguments after the name, e.g. "[-p PORT] OFFSET SIZE FILE" */
	const char *summary;   /* one line for `espdesk --help` */
	const char *help;      /* the option list for `espdesk NAME --help`, may be NULL */
	int (*run)(int argc, char **argv);
};

/* The table, NULL-terminated, in the order `espdesk --help` shows. */
extern const struct cli_cmd *const cli_table[];

/* Options common to every subcommand. Filled by cli_common_opt(); read by the commands. */
struct cli_common {
	const char *port;   /* -p/--port, NULL when not given */
	int baud;           /* -b/--baud, 0 when not given */
	int json;           /* --json */
	const char *debug_log; /* -v / --debug-log FILE */
};
extern struct cli_common cli_common;

#define CLI_OPT_DEBUG_LOG 0x1000
#define CLI_OPT_JSON 0x1001
#define CLI_OPT_HELP 0x1002
#define CLI_COMMON_SHORTOPTS "p:b:vh"
#define CLI_COMMON_LONGOPTS                                           \
	{ "port", required_argument, NULL, 'p' },                     \
	{ "baud", required_argument, NULL, 'b' },                     \
	{ "verbose", no_argument, NULL, 'v' },                        \
	{ "debug-log", required_argument, NULL, CLI_OPT_DEBUG_LOG },  \
	{ "json", no_argument, NULL, CLI_OPT_JSON },                  \
	{ "help", no_argument, NULL, 'h' }

/*
 * Handles one common option returned by getopt_long. Returns 1 if it was one (and applied it),
 * 0 if it was not a common option, or -1 after printing a usage error. 'h' prints the command's
 * help and exits 0.
 */
int cli_common_opt(const struct cli_cmd *cmd, int c, const char *arg);
/* Prints "espdesk NAME: msg" and the hint to use --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...) ED_PRINTFLIKE(2, 3);
void cli_print_help(const struct cli_cmd *cmd, FILE *f);

/*
 * Parses an offset or a size: decimal ("4096"), hex ("0x1000"), or with a unit ("1MB", "4M",
 * "512KB", "512k"; binary units: 1MB = 1048576). Returns RC_OK, or RC_ERR_ARG with *cause set
 * (caller frees) saying what was wrong with s.
 */
int cli_parse_size(const char *s, uint32_t *out, char **cause);

/* Runs the program: global options, then the subcommand. Returns the exit code. */
int cli_main(int argc, char **argv);

#endif
