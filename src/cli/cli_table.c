/* The subcommand table: one line per subcommand, in the order `espdesk --help` lists them. */
#include "config.h"

#include "cli/cli.h"

extern const struct cli_cmd cli_cmd_list_ports;



const struct cli_cmd *const cli_table[] = {
	&cli_cmd_list_ports,

	NULL
};
