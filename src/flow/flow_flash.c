/* flow_flash.c: flash new firmware: only over a verified backup of this very device (taken
 * first when missing), the image checked and its header set to the board's flash mode, written
 * with skip-unchanged, verified, and the boot watched. */
#include "config.h"

#include "flow/flow_int.h"

static const struct flow_step steps[] = {
	{ "connect", "reset the chip into its download loader and sync",
	  "the ROM loader answers", FLOW_S_AGAIN, flow_st_connect },
	{ "identify", "read the chip, MAC, chip id and JEDEC id; match a device profile",
	  "the device is known by chip id and MAC", FLOW_S_AGAIN, flow_st_identify },
	{ "need-backup", "look for a verified backup of this device",
	  "the device's firmware is safe or a backup is about to be taken", FLOW_S_AGAIN,
	  flow_st_need_backup },
	{ "read", "read the whole flash (no backup yet)",
	  "every 64 KB region arrived with a matching MD5", FLOW_S_AGAIN, flow_st_read },
	{ "verify-read", "compare the whole-chip MD5 and read sampled regions again",
	  "the dump equals the flash", FLOW_S_AGAIN, flow_st_verify_read },
	{ "store", "store the backup", "a verified backup of this device is in the store", 0,
	  flow_st_store },
	{ "check-image", "check the new image against the chip and the profile",
	  "the image fits and its header matches the board", FLOW_S_AGAIN, flow_st_check_image },
	{ "write", "write the image (sectors already equal are skipped)",
	  "every sector was written", 0, flow_st_write },
	{ "verify-write", "compare the flash with the image by device MD5",
	  "the flash holds the image", 0, flow_st_verify_write },
	{ "watch", "reset the device and follow its boot",
	  "the application is up", FLOW_S_AGAIN, flow_st_watch },
};

const struct flow_def flow_def_flash = { "flash", "Flash new firmware", steps, ARRAY_SIZE(steps) };
