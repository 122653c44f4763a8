/* The subcommand table: one line per subcommand, in the order `espdesk --help` lists them. */
#include "config.h"

#include "cli/cli.h"

extern const struct cli_cmd cli_cmd_decode;
extern const struct cli_cmd cli_cmd_monitor;

extern const struct cli_cmd cli_cmd_list_ports;
extern const struct cli_cmd cli_cmd_chip_id;
extern const struct cli_cmd cli_cmd_read_mac;
extern const struct cli_cmd cli_cmd_flash_id;
extern const struct cli_cmd cli_cmd_read_flash;
extern const struct cli_cmd cli_cmd_write_flash;
extern const struct cli_cmd cli_cmd_erase_flash;
extern const struct cli_cmd cli_cmd_erase_region;
extern const struct cli_cmd cli_cmd_verify_flash;
extern const struct cli_cmd cli_cmd_run;
extern const struct cli_cmd cli_cmd_profiles;
extern const struct cli_cmd cli_cmd_tui;
extern const struct cli_cmd cli_cmd_image_info;
extern const struct cli_cmd cli_cmd_image_patch;
extern const struct cli_cmd cli_cmd_image_relayout;
extern const struct cli_cmd cli_cmd_backups;
extern const struct cli_cmd cli_cmd_backup;
extern const struct cli_cmd cli_cmd_flash;
extern const struct cli_cmd cli_cmd_restore;
extern const struct cli_cmd cli_cmd_erase;
extern const struct cli_cmd cli_cmd_flow;



const struct cli_cmd *const cli_table[] = {
	&cli_cmd_decode,
	&cli_cmd_monitor,
	&cli_cmd_list_ports,
	&cli_cmd_chip_id,
	&cli_cmd_read_mac,
	&cli_cmd_flash_id,
	&cli_cmd_read_flash,
	&cli_cmd_write_flash,
	&cli_cmd_erase_flash,
	&cli_cmd_erase_region,
	&cli_cmd_verify_flash,
	&cli_cmd_run,
	&cli_cmd_profiles,
	&cli_cmd_tui,
	&cli_cmd_image_info,
	&cli_cmd_image_patch,
	&cli_cmd_image_relayout,
	&cli_cmd_backup,
	&cli_cmd_flash,
	&cli_cmd_restore,
	&cli_cmd_erase,
	&cli_cmd_flow,
	&cli_cmd_backups,

	NULL
};
