/* flow_restore.c: restore a backup: this device's (or another unit's with an explicit yes),
 * relaid out when sizes differ, then erase, write, verify, watch. */
#include "config.h"

#include "flow/flow_int.h"

static const struct flow_step steps[] = {
	{ "connect", "reset the chip into its download loader and sync",
	  "the ROM loader answers", FLOW_S_AGAIN, flow_st_connect },
	{ "identify", "read the chip, MAC, chip id and JEDEC id; match a device profile",
	  "the device is known by chip id and MAC", FLOW_S_AGAIN, flow_st_identify },
	{ "choose", "choose the backup, check its hash, owner and size",
	  "the backup is intact and fits this device", FLOW_S_AGAIN, flow_st_choose_backup },
	{ "erase", "erase the whole chip", "the chip is blank", 0, flow_st_erase },
	{ "write", "write the backup (sectors already equal are skipped)",
	  "every sector was written", 0, flow_st_write },
	{ "verify-write", "compare the flash with the backup by device MD5",
	  "the flash holds the backup", 0, flow_st_verify_write },
	{ "watch", "reset the device and follow its boot",
	  "the application is up", FLOW_S_AGAIN, flow_st_watch },
};

const struct flow_def flow_def_restore = { "restore", "Restore a backup", steps,
	ARRAY_SIZE(steps) };
