/* flow_erase.c: erase the chip, only over a verified backup of this device or with an
 * explicit --no-backup that accepts losing its firmware. */
#include "config.h"

#include "flow/flow_int.h"

static const struct flow_step steps[] = {
	{ "connect", "reset the chip into its download loader and sync",
	  "the ROM loader answers", FLOW_S_AGAIN, flow_st_connect },
	{ "identify", "read the chip, MAC, chip id and JEDEC id; match a device profile",
	  "the device is known by chip id and MAC", FLOW_S_AGAIN, flow_st_identify },
	{ "need-backup", "look for a verified backup of this device",
	  "the device's firmware is safe (or its loss was accepted)", FLOW_S_AGAIN,
	  flow_st_need_backup },
	{ "erase", "erase the whole chip", "the chip is blank", 0, flow_st_erase },
};

const struct flow_def flow_def_erase = { "erase", "Erase the chip", steps, ARRAY_SIZE(steps) };
