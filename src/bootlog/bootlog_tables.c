/*
 * bootlog_tables.c: what the numbers in an ESP8266 boot log mean. Every table is transcribed
 * from ../shared/reference/bootlog.md (section numbers in the comments) and protocol.md §12-13.
 */
#include "config.h"

#include "bootlog/bootlog.h"

#include <stdio.h>
#include <string.h>

#include "core/common.h"

/* bootlog.md §2 (Espressif's table 1-1; 3 only in the Arduino docs). */
static const char *const rst_causes[] = {
	"undefined",
	"power-on",
	"external reset (RST pin) or wake from deep sleep",
	"software reset (Arduino docs only; not in Espressif's table)",
	"hardware watchdog reset",
};

const char *
bootlog_rst_cause_str(int64_t n)
{
	if (n >= 0 && n < (int64_t)ARRAY_SIZE(rst_causes))
		return rst_causes[n];
	return "undocumented";
}

/* bootlog.md §3: x = (GPIO15 << 2) | (GPIO0 << 1) | GPIO2. */
static const char *const boot_modes[] = {
	"invalid (GPIO15, GPIO0 and GPIO2 low)",
	"UART download",
	"invalid (GPIO2 low)",
	"flash boot",
	"SDIO boot (GPIO15 high)",
	"SDIO boot (GPIO15 high)",
	"SDIO boot (GPIO15 high)",
	"SDIO boot (GPIO15 high)",
};

const char *
bootlog_boot_mode_str(int64_t x)
{
	if (x >= 0 && x < (int64_t)ARRAY_SIZE(boot_modes))
		return boot_modes[x];
	return "unknown";
}

/* bootlog.md §6, after the Xtensa ISA via esp8266/Arduino. */
static const struct {
	const char *name, *meaning;
} exccauses[40] = {
	[0] = { "IllegalInstructionCause", "illegal instruction" },
	[1] = { "SyscallCause", "SYSCALL instruction" },
	[2] = { "InstructionFetchErrorCause", "physical address or data error while fetching an instruction" },
	[3] = { "LoadStoreErrorCause", "physical address or data error on a load or store" },
	[4] = { "Level1InterruptCause", "level-1 interrupt" },
	[5] = { "AllocaCause", "MOVSP while the caller's registers are not in the register file" },
	[6] = { "IntegerDivideByZeroCause", "integer division by zero" },
	[8] = { "PrivilegedCause", "privileged operation with CRING != 0" },
	[9] = { "LoadStoreAlignmentCause", "load or store at an unaligned address" },
	[12] = { "InstrPIFDataErrorCause", "PIF data error on instruction fetch" },
	[13] = { "LoadStorePIFDataErrorCause", "synchronous PIF data error on a load or store" },
	[14] = { "InstrPIFAddrErrorCause", "PIF address error on instruction fetch" },
	[15] = { "LoadStorePIFAddrErrorCause", "synchronous PIF address error on a load or store" },
	[16] = { "InstTLBMissCause", "instruction TLB refill error" },
	[17] = { "InstTLBMultiHitCause", "several instruction TLB entries matched" },
	[18] = { "InstFetchPrivilegeCause", "instruction fetch from a page at a ring level below CRING" },
	[20] = { "InstFetchProhibitedCause", "instruction fetch from a page that forbids execution" },
	[24] = { "LoadStoreTLBMissCause", "TLB refill error on a load or store" },
	[25] = { "LoadStoreTLBMultiHitCause", "several TLB entries matched on a load or store" },
	[26] = { "LoadStorePrivilegeCause", "load or store to a page at a ring level below CRING" },
	[28] = { "LoadProhibitedCause", "load from a page that forbids loads" },
	[29] = { "StoreProhibitedCause", "store to a page that forbids stores" },
	[32] = { "Coprocessor0Disabled", "coprocessor 0 instruction while CP0 is disabled" },
	[33] = { "Coprocessor1Disabled", "coprocessor 1 instruction while CP1 is disabled" },
	[34] = { "Coprocessor2Disabled", "coprocessor 2 instruction while CP2 is disabled" },
	[35] = { "Coprocessor3Disabled", "coprocessor 3 instruction while CP3 is disabled" },
	[36] = { "Coprocessor4Disabled", "coprocessor 4 instruction while CP4 is disabled" },
	[37] = { "Coprocessor5Disabled", "coprocessor 5 instruction while CP5 is disabled" },
	[38] = { "Coprocessor6Disabled", "coprocessor 6 instruction while CP6 is disabled" },
	[39] = { "Coprocessor7Disabled", "coprocessor 7 instruction while CP7 is disabled" },
};

const char *
bootlog_exccause_name(int64_t code)
{
	if (code < 0 || code >= (int64_t)ARRAY_SIZE(exccauses))
		return "unknown";
	return exccauses[code].name != NULL ? exccauses[code].name : "reserved";
}

const char *
bootlog_exccause_meaning(int64_t code)
{
	if (code < 0 || code >= (int64_t)ARRAY_SIZE(exccauses))
		return "not an Xtensa exception cause";
	return exccauses[code].meaning != NULL ? exccauses[code].meaning : "reserved cause";
}

/* bootlog.md §6 "What the common ones usually mean on ESP8266". */
const char *
bootlog_exccause_hint(int64_t code)
{
	switch (code) {
	case 0:
		return "executing garbage: corrupted image or wrong flash mode, code not in IRAM while "
		    "the cache is off, a wild function pointer, or a strap fault";
		/* NOTREACHED */
	case 2:
	case 20:
		return "jump to a non-code address: stack smash or bad function pointer";
	case 3:
		return "byte or halfword access to IRAM or flash (PROGMEM data read without pgm_read_*)";
	case 6:
		return "division by zero";
	case 9:
		return "unaligned pointer; also illegal work in an ISR or a flash size set larger than the chip";
	case 28:
	case 29:
		return "NULL or wild pointer: a small excvaddr is a NULL struct member, a random one an "
		    "uninitialised pointer";
	}
	return NULL;
}

/* protocol.md §12.2 (esptool's MEMORY_MAP) and bootlog.md §4, §6. */
const char *
bootlog_region(uint32_t addr)
{
	if (addr < 0x1000)
		return "NULL page";
	if (addr >= 0x3ff00000 && addr < 0x3ff10000)
		return "peripheral registers";
	if (addr >= 0x3ffe8000 && addr < 0x40000000)
		return "DRAM";
	if (addr >= 0x40000000 && addr < 0x40010000)
		return "ROM";
	if (addr >= 0x40100000 && addr < 0x40110000)
		return "IRAM";
	if (addr >= 0x40200000 && addr < 0x40300000)
		return "flash-mapped code";
	return "unmapped";
}

const char *
bootlog_spi_mode_str(int64_t mode)
{
	static const char *const modes[] = { "QIO", "QOUT", "DIO", "DOUT" };

	if (mode >= 0 && mode < 4)
		return modes[mode];
	return "?";
}

/* protocol.md §12.1: the SDK's SPI_SIZE_MAP (= header size nibble) to bytes. */
uint32_t
bootlog_size_map_bytes(int64_t map)
{
	static const uint32_t kb[] = { 512, 256, 1024, 2048, 4096, 2048, 4096, 0, 8192, 16384 };

	if (map < 0 || map >= (int64_t)ARRAY_SIZE(kb))
		return 0;
	return kb[map] * 1024;
}

/* bootlog.md §9. */
const char *
bootlog_eboot_cp_str(int64_t n)
{
	static const char *const r[] = {
		"OK", "source or destination not sector-aligned", "erase failed", "read failed",
		"write failed", "gzip header error", "decompression error",
	};

	if (n >= 0 && n < (int64_t)ARRAY_SIZE(r))
		return r[n];
	return "unknown result";
}

const char *
bootlog_eboot_err_str(int64_t n)
{
	static const char *const r[] = {
		"?", "image header read failed", "section header read failed", "section read failed",
	};

	if (n >= 1 && n < (int64_t)ARRAY_SIZE(r))
		return r[n];
	return "unknown failure";
}

/* bootlog.md §5 (struct rst_info reason; not the ROM's rst cause). */
const char *
bootlog_sdk_reason_str(int64_t n)
{
	static const char *const r[] = {
		"power-on", "hardware watchdog reset", "exception reset", "software watchdog reset",
		"software restart", "wake from deep sleep", "external system reset",
	};

	if (n >= 0 && n < (int64_t)ARRAY_SIZE(r))
		return r[n];
	return "unknown reason";
}

static const char *const kind_names[BL_KIND_COUNT] = {
	[BL_TEXT] = "text",
	[BL_GARBAGE] = "garbage",
	[BL_ROM_BANNER] = "rom-banner",
	[BL_ROM_WDT_RESET] = "rom-wdt-reset",
	[BL_ROM_LOAD] = "rom-load",
	[BL_ROM_TAIL] = "rom-tail",
	[BL_ROM_HO] = "rom-ho",
	[BL_ROM_CHKSUM] = "rom-chksum",
	[BL_ROM_CSUM] = "rom-csum",
	[BL_ROM_CSUM_ERR] = "rom-csum-err",
	[BL_ROM_ETS_MAIN] = "rom-ets-main",
	[BL_ROM_USER_CODE_DONE] = "rom-user-code-done",
	[BL_ROM_WAITING_HOST] = "rom-waiting-host",
	[BL_BOOT_VERSION] = "boot-version",
	[BL_BOOT_SPI_SPEED] = "boot-spi-speed",
	[BL_BOOT_SPI_MODE] = "boot-spi-mode",
	[BL_BOOT_SPI_SIZE] = "boot-spi-size",
	[BL_BOOT_JUMP] = "boot-jump",
	[BL_BOOT_ERROR_MAGIC] = "boot-error-magic",
	[BL_BOOT_FIRST_FAILED] = "boot-first-failed",
	[BL_BOOT_BACKUP_FAILED] = "boot-backup-failed",
	[BL_BOOT_FLAG_ERROR] = "boot-flag-error",
	[BL_EBOOT_VERSION] = "eboot-version",
	[BL_EBOOT_LOAD] = "eboot-load",
	[BL_EBOOT_COPY] = "eboot-copy",
	[BL_EBOOT_ERROR] = "eboot-error",
	[BL_RBOOT_BANNER] = "rboot-banner",
	[BL_RBOOT_FLASH_SIZE] = "rboot-flash-size",
	[BL_RBOOT_FLASH_MODE] = "rboot-flash-mode",
	[BL_RBOOT_FLASH_SPEED] = "rboot-flash-speed",
	[BL_RBOOT_OPTION] = "rboot-option",
	[BL_RBOOT_DEFAULT_CONFIG] = "rboot-default-config",
	[BL_RBOOT_INVALID_ROM] = "rboot-invalid-rom",
	[BL_RBOOT_BAD] = "rboot-bad",
	[BL_RBOOT_NO_GOOD] = "rboot-no-good",
	[BL_RBOOT_BOOTING] = "rboot-booting",
	[BL_IDF_BOOT] = "idf-boot",
	[BL_IDF_PART_ERROR] = "idf-partition-error",
	[BL_SDK_RF_CAL] = "sdk-rf-cal",
	[BL_SDK_SYS_PARAM] = "sdk-system-param-error",
	[BL_SDK_MISMATCH_MAP] = "sdk-mismatch-map",
	[BL_SDK_RF_CAL_SECTOR] = "sdk-rf-cal-sector",
	[BL_SDK_VERSION] = "sdk-version",
	[BL_SDK_PARTITION] = "sdk-partition",
	[BL_EXCEPTION] = "exception",
	[BL_EXC_REGS] = "exception-registers",
	[BL_EXC_CTX] = "exception-ctx",
	[BL_EXC_SP] = "exception-sp",
	[BL_STACK_BEGIN] = "stack-begin",
	[BL_STACK_LINE] = "stack",
	[BL_STACK_END] = "stack-end",
	[BL_SOFT_WDT] = "soft-wdt",
	[BL_PANIC] = "panic",
	[BL_RESTART] = "restart",
};

const char *
bootlog_kind_name(enum bootlog_kind k)
{
	if ((unsigned)k < BL_KIND_COUNT && kind_names[k] != NULL)
		return kind_names[k];
	return "unknown";
}

/* snprintf that never lets a truncated write confuse the caller. */
#define DESC(...) snprintf(dst, size, __VA_ARGS__)

static const char *
spi_speed_str(int64_t khz)
{
	switch (khz) {
	case 40000: return "40 MHz (header code 0x0)";
	case 26700: return "26.7 MHz (header code 0x1)";
	case 20000: return "20 MHz (header code 0x2)";
	case 80000: return "80 MHz (header code 0xF)";
	}
	return "unusual speed";
}

static void
describe_regs(const struct bootlog_event *ev, char *dst, size_t size)
{
	static const char *const names[] = { "epc1", "epc2", "epc3", "excvaddr", "depc" };
	size_t o = 0;

	dst[0] = '\0';
	for (int i = 0; i < 5 && o + 1 < size; i++) {
		uint32_t v = (uint32_t)ev->n[i];
		int w;

		if (v == 0 && i != 0 && i != 3)
			continue;
		w = snprintf(dst + o, size - o, "%s%s 0x%08x in %s", o ? ", " : "", names[i], v,
		    bootlog_region(v));
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

char *
bootlog_describe(const struct bootlog_event *ev, char *dst, size_t size)
{
	int64_t a = ev->n[0], b = ev->n[1];

	if (size == 0)
		return dst;
	dst[0] = '\0';
	switch (ev->kind) {
	case BL_TEXT:
	case BL_KIND_COUNT:
		break;
	case BL_GARBAGE:
		if (ev->flags & BOOTLOG_F_STALE)
			DESC("text read before the port was at %d baud", ev->baud);
		else
			DESC("text at another baud, likely %d", ev->baud);
		break;
	case BL_ROM_BANNER:
		if (b >= 0)
			DESC("boot ROM: rst cause %lld = %s; boot mode %lld = %s (GPIO15=%d GPIO0=%d GPIO2=%d)",
			    (long long)a, bootlog_rst_cause_str(a), (long long)b, bootlog_boot_mode_str(b),
			    bootlog_strap_gpio15(b), bootlog_strap_gpio0(b), bootlog_strap_gpio2(b));
		else
			DESC("boot ROM: rst cause %lld = %s", (long long)a, bootlog_rst_cause_str(a));
		break;
	case BL_ROM_WDT_RESET:
		DESC("the hardware watchdog reset the chip");
		break;
	case BL_ROM_LOAD:
		if (a == 0 && b == 0)
			DESC("segment header read as zeros: header at 0x0 unreadable or absent");
		else
			DESC("ROM loads a segment of %lld bytes to 0x%08llx (%s)", (long long)b,
			    (unsigned long long)a, bootlog_region((uint32_t)a));
		break;
	case BL_ROM_TAIL:
	case BL_ROM_HO:
		DESC("ROM read-buffer bookkeeping (not diagnostic)");
		break;
	case BL_ROM_CHKSUM:
		if (a == 0xef)
			DESC("running checksum 0xef: the segment XORed to zero (blank or unreadable flash)");
		else
			DESC("running checksum 0x%02llx after the segment", (unsigned long long)a);
		break;
	case BL_ROM_CSUM:
		DESC("final checksum 0x%02llx; the ROM jumps to the loaded code if it matches",
		    (unsigned long long)a);
		break;
	case BL_ROM_CSUM_ERR:
		DESC("checksum mismatch: the image at 0x0 was read wrongly (flash mode) or is corrupt");
		break;
	case BL_ROM_ETS_MAIN:
		DESC("the ROM stopped; nothing more follows until a reset");
		break;
	case BL_ROM_USER_CODE_DONE:
		DESC("the loaded code returned to the ROM: the 2nd stage gave up");
		break;
	case BL_ROM_WAITING_HOST:
		DESC("SDIO boot: the ROM waits for an SDIO host (GPIO15 high at reset)");
		break;
	case BL_BOOT_VERSION:
		DESC("NONOS SDK 2nd-stage bootloader boot_v%lld.%lld", (long long)a, (long long)b);
		break;
	case BL_BOOT_SPI_SPEED:
	case BL_RBOOT_FLASH_SPEED:
		DESC("flash clock from the image header: %s", spi_speed_str(a));
		break;
	case BL_BOOT_SPI_MODE:
	case BL_RBOOT_FLASH_MODE:
		DESC("flash mode from the image header: %s (byte 2 = %lld)", bootlog_spi_mode_str(a),
		    (long long)a);
		break;
	case BL_BOOT_SPI_SIZE:
		if (a < 0)
			DESC("the header's flash size/map is not supported by this bootloader");
		else if (b >= 0)
			DESC("flash size from the image header: %lld Mbit, SDK map %lld", (long long)a,
			    (long long)b);
		else
			DESC("flash size from the image header: %lld Mbit", (long long)a);
		break;
	case BL_RBOOT_FLASH_SIZE:
		DESC("flash size from the image header: %lld Mbit", (long long)a);
		break;
	case BL_BOOT_JUMP:
		if (b >= 0)
			DESC("boots OTA slot user%lld at flash 0x%llx", (long long)a, (unsigned long long)b);
		else
			DESC("boots OTA slot user%lld", (long long)a);
		break;
	case BL_BOOT_ERROR_MAGIC:
		DESC("the selected slot does not start with a valid image header (0xE9 or 0xEA 0x04)");
		break;
	case BL_BOOT_FIRST_FAILED:
		DESC("the selected slot failed; trying the other one");
		break;
	case BL_BOOT_BACKUP_FAILED:
		DESC("the other OTA slot is not valid either");
		break;
	case BL_BOOT_FLAG_ERROR:
		DESC("the boot configuration's user-bin flag is invalid");
		break;
	case BL_EBOOT_VERSION:
		DESC("Arduino eboot, application marker 0x%08llx", (unsigned long long)a);
		break;
	case BL_EBOOT_LOAD:
		DESC("eboot loads the application (next output at the sketch's baud)");
		break;
	case BL_EBOOT_COPY:
		DESC("eboot copied an OTA image: %s", bootlog_eboot_cp_str(a));
		break;
	case BL_EBOOT_ERROR:
		DESC("eboot could not load the application: %s", bootlog_eboot_err_str(a));
		break;
	case BL_RBOOT_BANNER:
		DESC("rBoot 2nd-stage bootloader");
		break;
	case BL_RBOOT_OPTION:
		DESC("rBoot compile-time options");
		break;
	case BL_RBOOT_DEFAULT_CONFIG:
		DESC("rBoot config sector was invalid; default written (normal on a first boot)");
		break;
	case BL_RBOOT_INVALID_ROM:
		DESC("rBoot: the selected ROM number is out of range");
		break;
	case BL_RBOOT_BAD:
		DESC("rBoot: ROM slot %lld failed the magic/checksum test", (long long)a);
		break;
	case BL_RBOOT_NO_GOOD:
		DESC("rBoot: no slot holds a valid image");
		break;
	case BL_RBOOT_BOOTING:
		if (a >= 0)
			DESC("rBoot boots ROM slot %lld", (long long)a);
		else
			DESC("rBoot boots the GPIO-selected ROM");
		break;
	case BL_IDF_BOOT:
		DESC("ESP8266_RTOS_SDK v3 (IDF-style) 2nd-stage bootloader");
		break;
	case BL_IDF_PART_ERROR:
		DESC("partition table missing or wrong (expected at 0x8000) or no app partition");
		break;
	case BL_SDK_RF_CAL:
		if (a == 0xff)
			DESC("esp_init_data (RF init sector) is erased: flash esp_init_data_default.bin");
		else
			DESC("esp_init_data first byte 0x%02llx, expected 0x05: stale or wrong sector for "
			    "this flash size", (unsigned long long)a);
		break;
	case BL_SDK_SYS_PARAM:
		DESC("system parameter area invalid (wrong flash size in the header, or erased)");
		break;
	case BL_SDK_MISMATCH_MAP:
		DESC("the app was built for flash map %lld but the header says %lld", (long long)a,
		    (long long)b);
		break;
	case BL_SDK_RF_CAL_SECTOR:
		DESC("RF calibration sector %lld (flash 0x%llx)", (long long)a, (unsigned long long)a * 4096);
		break;
	case BL_SDK_VERSION:
		DESC("SDK version banner: the application started");
		break;
	case BL_SDK_PARTITION:
		DESC(a ? "SDK partition table registration failed" : "SDK partition table registered");
		break;
	case BL_EXCEPTION: {
		const char *hint = bootlog_exccause_hint(a);

		DESC("%s exception %lld %s: %s%s%s", b ? "Arduino core" : "SDK", (long long)a,
		    bootlog_exccause_name(a), bootlog_exccause_meaning(a), hint ? "; usually " : "",
		    hint ? hint : "");
		break;
	}
	case BL_EXC_REGS:
		describe_regs(ev, dst, size);
		break;
	case BL_EXC_CTX:
		DESC(a == 0 ? "crashed in the sketch (setup/loop context)" :
		    a == 1 ? "crashed in an SDK/system callback or an ISR" : "crash context");
		break;
	case BL_EXC_SP:
		DESC("stack pointer 0x%08llx, stack end 0x%08llx", (unsigned long long)a,
		    (unsigned long long)b);
		break;
	case BL_STACK_BEGIN:
		DESC("stack dump (decode with the ELF: EspExceptionDecoder / addr2line)");
		break;
	case BL_STACK_LINE:
	case BL_STACK_END:
		break;
	case BL_SOFT_WDT:
		DESC("software watchdog: the sketch did not yield for a few seconds");
		break;
	case BL_PANIC:
		DESC("the application aborted (panic, assert or an ISR outside IRAM)");
		break;
	case BL_RESTART:
		DESC("a restart was requested");
		break;
	}
	return dst;
}
