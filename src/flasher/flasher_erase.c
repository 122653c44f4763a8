/*
 * flasher_erase.c: erasing. The stub has ERASE_FLASH and ERASE_REGION; the ROM alone erases
 * only through FLASH_BEGIN (with esptool's compensation for its erase bug, §7), which is how
 * espdesk erases without the stub.
 */
#include "config.h"

#include "flasher/flasher_int.h"

#include <stdlib.h>

#include "core/xmalloc.h"

static int
erase_fail(struct flasher *f, int rc, char *dc, uint32_t off, uint32_t len, char **cause)
{
	if (rc == RC_ERR_DEVICE && dc != NULL)
		*cause = xfmt("%s: %s while erasing 0x%x..0x%x; that area may be partly erased. "
		    "Power-cycle the board into download mode and erase again; if it fails again the "
		    "flash may be write-protected or faulty", f->o.port, dc, off, off + len - 1);
	else if (rc == RC_ERR_TIMEOUT)
		*cause = xfmt("%s: the chip stopped answering while erasing 0x%x..0x%x (power lost, or "
		    "a reset); that area may be partly erased. Power-cycle the board into download "
		    "mode and erase again", f->o.port, off, off + len - 1);
	else
		*cause = flasher_io_cause(f, rc, "erasing");
	free(dc);
	return rc;
}

static int
do_erase(struct flasher *f, uint32_t off, uint32_t len, int chip, char **cause)
{
	char *dc = NULL;
	int rc;

	if (flasher_chip_jedec_dead(f->info.jedec)) {
		*cause = xfmt("%s: the flash chip is not answering (JEDEC id 0x%06x): check its 3.3 V "
		    "supply and wiring; nothing was erased", f->o.port, f->info.jedec);
		return RC_ERR_DEVICE;
	}
	flasher_phase_start(f, FLASHER_PH_ERASE);
	flasher_emit(f, FLASHER_PH_ERASE, 0, len, off, NULL);
	if (f->info.stub && chip)
		rc = flasher_io_cmd(f, ROM_OP_ERASE_FLASH, NULL, 0, 240000, NULL, &dc);
	else if (f->info.stub) {
		uint32_t w[2] = { off, len };

		rc = flasher_io_cmd(f, ROM_OP_ERASE_REGION, w, 2, flasher_t_per_mb(40000, len), NULL,
		    &dc);
	} else {
		uint32_t w[4] = { flasher_plan_rom_erase_size(off, len), 0, ROM_FLASH_BLOCK, off };

		rc = flasher_io_cmd(f, ROM_OP_FLASH_BEGIN, w, 4, flasher_t_per_mb(40000, len), NULL, &dc);
	}
	if (rc < 0)
		return erase_fail(f, rc, dc, off, len, cause);
	flasher_emit(f, FLASHER_PH_ERASE, len, len, off, NULL);
	return RC_OK;
}

int
flasher_erase_chip(struct flasher *f, char **cause)
{
	*cause = NULL;
	return do_erase(f, 0, flasher_flash_size(f), 1, cause);
}

int
flasher_erase_region(struct flasher *f, uint32_t off, uint32_t len, char **cause)
{
	*cause = NULL;
	if (len == 0 || off % 4096 != 0 || len % 4096 != 0) {
		*cause = xfmt("erase-region needs an offset and a size that are multiples of 4096 "
		    "(a sector) and a size above 0; got 0x%x and 0x%x", off, len);
		return RC_ERR_ARG;
	}
	if ((uint64_t)off + len > flasher_flash_size(f)) {
		*cause = xfmt("0x%x..0x%llx runs past the end of the %u KB flash", off,
		    (unsigned long long)off + len - 1, flasher_flash_size(f) / 1024);
		return RC_ERR_ARG;
	}
	if (!f->info.stub && flasher_plan_rom_erased(off, flasher_plan_rom_erase_size(off, len)) != len) {
		uint32_t real = flasher_plan_rom_erased(off, flasher_plan_rom_erase_size(off, len));

		*cause = xfmt("without the stub the ROM's erase (FLASH_BEGIN) cannot erase exactly "
		    "0x%x..0x%x: its erase bug would also wipe 0x%x..0x%x. Run without --no-stub, or "
		    "erase an even number of sectors (for example size 0x%x)", off, off + len - 1,
		    off + len, off + real - 1, len + 0x1000);
		return RC_ERR_NOTSUP;
	}
	return do_erase(f, off, len, 0, cause);
}
