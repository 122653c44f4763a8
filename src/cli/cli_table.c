/* The subcommand table: one line per subcommand, in the order `espdesk --help` lists them. */
#include "config.h"

#include "cli/cli.h"



const struct cli_cmd *const cli_table[] = {

	NULL
};
