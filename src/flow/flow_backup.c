/* flow_backup.c: back up a device: identify, match the profile, read the whole chip at its
 * JEDEC size, verify (device MD5 + second reads), store, show what the dump holds. */
#include "config.h"

#include "flow/flow_int.h"

static const struct flow_step steps[] = {
	{ "connect", "reset the chip into its download loader and sync",
	  "the ROM loader answers", FLOW_S_AGAIN, flow_st_connect },
	{ "identify", "read the chip, MAC, chip id and JEDEC id; match a device profile",
	  "the device is known by chip id and MAC", FLOW_S_AGAIN, flow_st_identify },
	{ "read", "read the whole flash at the size its JEDEC id gives",
	  "every 64 KB region arrived with a matching MD5", FLOW_S_AGAIN, flow_st_read },
	{ "verify", "compare the whole-chip MD5 and read sampled regions again",
	  "the dump equals the flash", FLOW_S_AGAIN, flow_st_verify_read },
	{ "store", "store the dump and its sidecar atomically in the backup store",
	  "a verified, read-only backup is in the store", 0, flow_st_store },
	{ "show", "explain the dump (firmware family, identity)",
	  "the dump was explained", FLOW_S_AGAIN, flow_st_show },
};

const struct flow_def flow_def_backup = { "backup", "Back up", steps, ARRAY_SIZE(steps) };
