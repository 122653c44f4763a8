/*
 * The boot-log decoder against ../shared/reference/bootlog.md: one case per message family with
 * the reference's own strings and tables, the UART bit model checked by hand, the baud detector
 * on real garbage and on text garbled by the simulator's independent UART model, line handling,
 * and the property that any chunking gives the same events.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bootlog/bootlog.h"
#include "bootlog/bootlog_fmt.h"
#include "core/buf.h"
#include "core/common.h"
#include "sim/sim_uart.h"
#include "tap.h"

struct rec {
	enum bootlog_kind kind;
	int64_t n[5];
	int baud, flags;
	uint64_t lineno, offset;
	size_t len, skip;
	char text[BOOTLOG_LINE_MAX + 1];
};

struct recs {
	struct rec r[256];
	size_t n;
};

static void
rec_cb(void *arg, const struct bootlog_event *ev)
{
	struct recs *rs = arg;
	struct rec *r;

	if (rs->n >= ARRAY_SIZE(rs->r))
		return;
	r = &rs->r[rs->n++];
	r->kind = ev->kind;
	memcpy(r->n, ev->n, sizeof r->n);
	r->baud = ev->baud;
	r->flags = ev->flags;
	r->lineno = ev->lineno;
	r->offset = ev->offset;
	r->len = ev->len;
	r->skip = ev->skip;
	memcpy(r->text, ev->text, ev->len);
	r->text[ev->len] = '\0';
}

/* Decodes s (a whole log) and returns the records. */
static struct recs *
decode(const char *s, size_t len)
{
	static struct recs rs;
	struct bootlog b;

	memset(&rs, 0, sizeof rs);
	bootlog_init(&b, rec_cb, &rs);
	bootlog_feed(&b, s, len);
	bootlog_flush(&b);
	return &rs;
}

/* Decodes one line and returns its single event. */
static struct rec *
one(const char *line)
{
	struct recs *rs = decode(line, strlen(line));

	return rs->n >= 1 ? &rs->r[0] : NULL;
}

#define KIND(line, k) do {                                                           \
	struct rec *r_ = one(line);                                                  \
	T_CHECK_(r_ != NULL && r_->kind == (k), "\"%s\": kind %s, expected %s", line, \
	    r_ ? bootlog_kind_name(r_->kind) : "(none)", bootlog_kind_name(k));      \
} while (0)

static void
test_rom_banner_rst_causes(void)
{
	/* bootlog.md §2: 1 power-on, 2 external reset or deep-sleep wake, 4 hardware watchdog;
	 * 5 and 6 undocumented. */
	static const struct { int n; const char *word; } t[] = {
		{ 0, "undefined" }, { 1, "power" }, { 2, "external reset" }, { 2, "deep sleep" },
		{ 4, "watchdog" }, { 5, "undocumented" }, { 6, "undocumented" },
	};
	char line[96], note[512];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct rec *r;
		struct bootlog_event ev;

		snprintf(line, sizeof line, " ets Jan  8 2013,rst cause:%d, boot mode:(3,6)\r\n", t[i].n);
		r = one(line);
		T_EQ_INT(r->kind, BL_ROM_BANNER);
		T_EQ_INT(r->n[0], t[i].n);
		T_EQ_INT(r->n[1], 3);
		T_EQ_INT(r->n[2], 6);
		T_CONTAINS(bootlog_rst_cause_str(t[i].n), t[i].word);
		memset(&ev, 0, sizeof ev);
		ev.kind = BL_ROM_BANNER;
		ev.n[0] = t[i].n;
		ev.n[1] = 3;
		bootlog_describe(&ev, note, sizeof note);
		T_CONTAINS(note, t[i].word);
	}
	/* The single-space date seen in some logs (05, 17). */
	T_EQ_INT(one("ets Jan 8 2013,rst cause:1, boot mode:(3,7)")->n[0], 1);
}

static void
test_rom_banner_boot_modes(void)
{
	/* bootlog.md §3 table: x, GPIO15, GPIO0, GPIO2 and the mode. */
	static const struct { int x, g15, g0, g2; const char *mode; } t[] = {
		{ 0, 0, 0, 0, "invalid" }, { 1, 0, 0, 1, "UART download" }, { 2, 0, 1, 0, "invalid" },
		{ 3, 0, 1, 1, "flash" }, { 4, 1, 0, 0, "SDIO" }, { 5, 1, 0, 1, "SDIO" },
		{ 6, 1, 1, 0, "SDIO" }, { 7, 1, 1, 1, "SDIO" },
	};
	char line[96];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct rec *r;

		snprintf(line, sizeof line, "ets Jan  8 2013,rst cause:2, boot mode:(%d,7)", t[i].x);
		r = one(line);
		T_EQ_INT(r->kind, BL_ROM_BANNER);
		T_EQ_INT(r->n[1], t[i].x);
		T_EQ_INT(bootlog_strap_gpio15(r->n[1]), t[i].g15);
		T_EQ_INT(bootlog_strap_gpio0(r->n[1]), t[i].g0);
		T_EQ_INT(bootlog_strap_gpio2(r->n[1]), t[i].g2);
		T_CONTAINS(bootlog_boot_mode_str(r->n[1]), t[i].mode);
	}
}

static void
test_rom_loader_lines(void)
{
	struct rec *r;

	/* bootlog.md §4 and protocol.md §11.5. */
	r = one("load 0x40100000, len 1856, room 16");
	T_EQ_INT(r->kind, BL_ROM_LOAD);
	T_EQ_HEX(r->n[0], 0x40100000);
	T_EQ_INT(r->n[1], 1856);
	T_EQ_INT(r->n[2], 16);
	r = one("load 0x4010f000, len 1384, room 16 ");
	T_EQ_HEX(r->n[0], 0x4010f000);
	r = one("load 0x00000000, len 0, room 16");
	T_EQ_INT(r->kind, BL_ROM_LOAD);
	T_EQ_INT(r->n[0], 0);
	T_EQ_INT(r->n[1], 0);
	r = one("tail 12");
	T_EQ_INT(r->kind, BL_ROM_TAIL);
	T_EQ_INT(r->n[0], 12);
	r = one("ho 0 tail 12 room 4");
	T_EQ_INT(r->kind, BL_ROM_HO);
	T_EQ_INT(r->n[1], 12);
	T_EQ_INT(r->n[2], 4);
	r = one("chksum 0xef");
	T_EQ_INT(r->kind, BL_ROM_CHKSUM);
	T_EQ_HEX(r->n[0], 0xef);
	r = one("csum 0x79");
	T_EQ_INT(r->kind, BL_ROM_CSUM);
	T_EQ_HEX(r->n[0], 0x79);
	KIND("csum err", BL_ROM_CSUM_ERR);
	KIND("ets_main.c ", BL_ROM_ETS_MAIN);
	KIND("user code done", BL_ROM_USER_CODE_DONE);
	KIND("waiting for host", BL_ROM_WAITING_HOST);
	KIND("wdt reset", BL_ROM_WDT_RESET);
}

static void
test_boot_v1x(void)
{
	/* protocol.md §13.2: speeds, modes and the map strings of boot_v1.x. */
	static const struct { const char *s; int64_t khz; } speeds[] = {
		{ "40MHz", 40000 }, { "26.7MHz", 26700 }, { "20MHz", 20000 }, { "80MHz", 80000 },
	};
	static const char *const modes[] = { "QIO", "QOUT", "DIO", "DOUT" };
	static const struct { const char *s; int mbit, map; } maps[] = {
		{ "4Mbit(256KB+256KB)", 4, 0 }, { "2Mbit", 2, -1 }, { "8Mbit(512KB+512KB)", 8, 2 },
		{ "16Mbit(512KB+512KB)", 16, 3 }, { "32Mbit(512KB+512KB)", 32, 4 },
		{ "16Mbit(1024KB+1024KB)", 16, 5 }, { "32Mbit(1024KB+1024KB)", 32, 6 },
		{ "64Mbit(1024KB+1024KB)", 64, 8 }, { "128Mbit(1024KB+1024KB)", 128, 9 },
	};
	char line[128];
	struct rec *r;

	r = one("2nd boot version : 1.6");
	T_EQ_INT(r->kind, BL_BOOT_VERSION);
	T_EQ_INT(r->n[0], 1);
	T_EQ_INT(r->n[1], 6);
	r = one("2nd boot version : 1.7(5d6f877)");
	T_EQ_INT(r->n[1], 7);
	for (size_t i = 0; i < ARRAY_SIZE(speeds); i++) {
		snprintf(line, sizeof line, "  SPI Speed      : %s", speeds[i].s);
		r = one(line);
		T_EQ_INT(r->kind, BL_BOOT_SPI_SPEED);
		T_EQ_INT(r->n[0], speeds[i].khz);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof line, "SPI Mode : %s", modes[i]);
		r = one(line);
		T_EQ_INT(r->kind, BL_BOOT_SPI_MODE);
		T_EQ_INT(r->n[0], i);
		T_EQ_STR(bootlog_spi_mode_str(i), modes[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		snprintf(line, sizeof line, "  SPI Flash Size & Map: %s", maps[i].s);
		r = one(line);
		T_EQ_INT(r->kind, BL_BOOT_SPI_SIZE);
		T_EQ_INT(r->n[0], maps[i].mbit);
		T_EQ_INT(r->n[1], maps[i].map);
		if (maps[i].map >= 0)
			T_EQ_INT(bootlog_size_map_bytes(maps[i].map), maps[i].mbit * 131072);
	}
	r = one("SPI Flash Size : 4Mbit");
	T_EQ_INT(r->n[0], 4);
	T_EQ_INT(r->n[1], -1);
	r = one("jump to run user1 @ 1000");
	T_EQ_INT(r->kind, BL_BOOT_JUMP);
	T_EQ_INT(r->n[0], 1);
	T_EQ_HEX(r->n[1], 0x1000);
	r = one("jump to run user2 @ 81000");
	T_EQ_INT(r->n[0], 2);
	T_EQ_HEX(r->n[1], 0x81000);
	r = one("jump to run user2 @ 101000");
	T_EQ_HEX(r->n[1], 0x101000);
	r = one("jump to run user1");
	T_EQ_INT(r->n[0], 1);
	T_EQ_INT(r->n[1], -1);
	r = one("jump to run bin @ 7c000");
	T_EQ_INT(r->n[0], 0);
	T_EQ_HEX(r->n[1], 0x7c000);
	KIND("error magic!", BL_BOOT_ERROR_MAGIC);
	KIND("backup boot failed.", BL_BOOT_BACKUP_FAILED);
	KIND("first boot failed, reboot to try backup bin", BL_BOOT_FIRST_FAILED);
	r = one("error user bin flag, flag = 3");
	T_EQ_INT(r->kind, BL_BOOT_FLAG_ERROR);
	T_EQ_INT(r->n[0], 3);
	KIND("flash map not support", BL_BOOT_SPI_SIZE);
}

static void
test_eboot(void)
{
	struct rec *r;

	/* bootlog.md §9. */
	r = one("v09f0c112");
	T_EQ_INT(r->kind, BL_EBOOT_VERSION);
	T_EQ_HEX(r->n[0], 0x09f0c112);
	KIND("~ld", BL_EBOOT_LOAD);
	KIND("ld", BL_EBOOT_LOAD);
	r = one("@cp:0");
	T_EQ_INT(r->kind, BL_EBOOT_COPY);
	T_EQ_INT(r->n[0], 0);
	r = one("cp:2");
	T_EQ_INT(r->n[0], 2);
	T_CONTAINS(bootlog_eboot_cp_str(2), "erase");
	T_CONTAINS(bootlog_eboot_cp_str(6), "decompression");
	r = one("e:2");
	T_EQ_INT(r->kind, BL_EBOOT_ERROR);
	T_EQ_INT(r->n[0], 2);
	T_CONTAINS(bootlog_eboot_err_str(3), "section read");
	/* Not eboot: a word that only looks like one. */
	KIND("v1.2.3", BL_TEXT);
}

static void
test_rboot(void)
{
	struct rec *r;

	/* bootlog.md §10. */
	KIND("rBoot v1.2.1 - richardaburton@gmail.com", BL_RBOOT_BANNER);
	r = one("Flash Size:   32 Mbit");
	T_EQ_INT(r->kind, BL_RBOOT_FLASH_SIZE);
	T_EQ_INT(r->n[0], 32);
	r = one("Flash Mode:   DIO");
	T_EQ_INT(r->kind, BL_RBOOT_FLASH_MODE);
	T_EQ_INT(r->n[0], 2);
	r = one("Flash Speed:  80 MHz");
	T_EQ_INT(r->kind, BL_RBOOT_FLASH_SPEED);
	T_EQ_INT(r->n[0], 80000);
	KIND("rBoot Option: Big flash", BL_RBOOT_OPTION);
	KIND("Writing default boot config.", BL_RBOOT_DEFAULT_CONFIG);
	KIND("Resetting boot config.", BL_RBOOT_DEFAULT_CONFIG);
	KIND("Invalid rom selected, defaulting to 0.", BL_RBOOT_INVALID_ROM);
	r = one("Rom 1 is bad.");
	T_EQ_INT(r->kind, BL_RBOOT_BAD);
	T_EQ_INT(r->n[0], 1);
	r = one("Rom 0 at 2000 is bad.");
	T_EQ_INT(r->kind, BL_RBOOT_BAD);
	T_EQ_INT(r->n[0], 0);
	KIND("No good rom available.", BL_RBOOT_NO_GOOD);
	r = one("Booting rom 2.");
	T_EQ_INT(r->kind, BL_RBOOT_BOOTING);
	T_EQ_INT(r->n[0], 2);
	r = one("Booting GPIO-selected.");
	T_EQ_INT(r->n[0], -1);
}

static void
test_idf_bootloader(void)
{
	/* bootlog.md §11. */
	KIND("I (49) boot: ESP-IDF v3.3 2nd stage bootloader", BL_IDF_BOOT);
	KIND("E (91) flash_parts: partition 0 invalid magic number 0x0", BL_IDF_PART_ERROR);
	KIND("E (97) boot: Failed to verify partition table", BL_IDF_PART_ERROR);
	KIND("load partition table error!", BL_IDF_PART_ERROR);
	KIND("E (120) boot: No bootable app partitions in the partition table", BL_IDF_PART_ERROR);
	KIND("I (60) boot: SPI Speed      : 40MHz", BL_TEXT);
}

static void
test_sdk_startup(void)
{
	struct rec *r;

	/* bootlog.md §8. */
	r = one("rf_cal[0] !=0x05,is 0xFF");
	T_EQ_INT(r->kind, BL_SDK_RF_CAL);
	T_EQ_HEX(r->n[0], 0xff);
	T_EQ_HEX(one("rf_cal[0] !=0x05,is 0x00")->n[0], 0);
	T_EQ_HEX(one("rf_cal[0] !=0x05,is 0x04")->n[0], 4);
	KIND("system param error, use last saved param!", BL_SDK_SYS_PARAM);
	KIND("system param error", BL_SDK_SYS_PARAM);
	r = one("mismatch map 4,spi_size_map 2");
	T_EQ_INT(r->kind, BL_SDK_MISMATCH_MAP);
	T_EQ_INT(r->n[0], 4);
	T_EQ_INT(r->n[1], 2);
	r = one("rf cal sector: 1017");
	T_EQ_INT(r->kind, BL_SDK_RF_CAL_SECTOR);
	T_EQ_INT(r->n[0], 1017);
	KIND("SDK ver: 2.2.1(6ab97e9) compiled @ Jun  7 2018 13:59:14", BL_SDK_VERSION);
	r = one("system_partition_table_regist 5 fail");
	T_EQ_INT(r->kind, BL_SDK_PARTITION);
	T_EQ_INT(r->n[0], 1);
}

static void
test_exceptions(void)
{
	/* bootlog.md §6: the EXCCAUSE names of the codes the reference marks as common. */
	static const struct { int code; const char *name; } t[] = {
		{ 0, "IllegalInstructionCause" }, { 2, "InstructionFetchErrorCause" },
		{ 3, "LoadStoreErrorCause" }, { 6, "IntegerDivideByZeroCause" },
		{ 9, "LoadStoreAlignmentCause" }, { 20, "InstFetchProhibitedCause" },
		{ 28, "LoadProhibitedCause" }, { 29, "StoreProhibitedCause" },
	};
	char line[96];
	struct rec *r;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		T_EQ_STR(bootlog_exccause_name(t[i].code), t[i].name);
		snprintf(line, sizeof line, "Fatal exception (%d):", t[i].code);
		r = one(line);
		T_EQ_INT(r->kind, BL_EXCEPTION);
		T_EQ_INT(r->n[0], t[i].code);
		T_EQ_INT(r->n[1], 0);
		snprintf(line, sizeof line, "Fatal exception %d(%s):", t[i].code, t[i].name);
		T_EQ_INT(one(line)->n[0], t[i].code);
		snprintf(line, sizeof line, "Exception (%d):", t[i].code);
		r = one(line);
		T_EQ_INT(r->kind, BL_EXCEPTION);
		T_EQ_INT(r->n[1], 1);
	}
	T_EQ_STR(bootlog_exccause_name(7), "reserved");
	T_CONTAINS(bootlog_exccause_name(33), "Coprocessor1Disabled");
	/* ESP.getResetInfo() describes the last reset; it is not a crash (§5). */
	KIND("Fatal exception:0 flag:4 (SOFT_RESTART) epc1:0x00000000", BL_TEXT);

	r = one("epc1=0x40100000, epc2=0x00000000, epc3=0x00000000, excvaddr=0x00000004, depc=0x00000000");
	T_EQ_INT(r->kind, BL_EXC_REGS);
	T_EQ_HEX(r->n[0], 0x40100000);
	T_EQ_HEX(r->n[3], 0x4);
	r = one("epc1=0x4020bb67 epc2=0x00000001 epc3=0x00000002 excvaddr=0x007e8008 depc=0x00000003");
	T_EQ_HEX(r->n[0], 0x4020bb67);
	T_EQ_HEX(r->n[1], 1);
	T_EQ_HEX(r->n[2], 2);
	T_EQ_HEX(r->n[3], 0x007e8008);
	T_EQ_HEX(r->n[4], 3);
	T_EQ_INT(one("ctx: cont")->n[0], 0);
	T_EQ_INT(one("ctx: sys")->n[0], 1);
	r = one("sp: 3ffef1d0 end: 3ffef3d0 offset: 01b0");
	T_EQ_INT(r->kind, BL_EXC_SP);
	T_EQ_HEX(r->n[2], 0x1b0);
	KIND("Soft WDT reset", BL_SOFT_WDT);
	KIND("User exception (panic/abort/assert)", BL_PANIC);
	KIND("Abort called", BL_PANIC);
	KIND("ISR not in IRAM!", BL_PANIC);
	/* ESP8266_RTOS_SDK v3 (bootlog.md §11: IDF-style). */
	KIND("Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.", BL_PANIC);
	KIND("abort() was called at PC 0x40221a5c on core 0", BL_PANIC);
	KIND("Task watchdog got triggered.", BL_SOFT_WDT);
	KIND("Restarting...", BL_RESTART);
}

static void
test_stack_dump(void)
{
	static const char log[] =
	    ">>>stack>>>\r\n"
	    "3ffef380:  3ffe8430 feefeffe 3ffef360 3ffef390  \r\n"
	    "<<<stack<<<\r\n"
	    "3ffef380:  3ffe8430 feefeffe 3ffef360 3ffef390\r\n";
	struct recs *rs = decode(log, sizeof log - 1);

	T_EQ_INT(rs->n, 4);
	T_EQ_INT(rs->r[0].kind, BL_STACK_BEGIN);
	T_EQ_INT(rs->r[1].kind, BL_STACK_LINE);
	T_EQ_HEX(rs->r[1].n[0], 0x3ffef380);
	T_EQ_INT(rs->r[2].kind, BL_STACK_END);
	/* Outside a dump, a hex line is just text. */
	T_EQ_INT(rs->r[3].kind, BL_TEXT);
}

static void
test_regions(void)
{
	/* bootlog.md §4/§6 and protocol.md §12.2 (esptool's memory map); 0x40003924 is the ROM's
	 * uart_baudrate_detect (protocol.md §1). */
	T_EQ_STR(bootlog_region(0x40100000), "IRAM");
	T_EQ_STR(bootlog_region(0x4010f000), "IRAM");
	T_EQ_STR(bootlog_region(0x3ffe8000), "DRAM");
	T_EQ_STR(bootlog_region(0x3fff1840), "DRAM");
	T_EQ_STR(bootlog_region(0x40201010), "flash-mapped code");
	T_EQ_STR(bootlog_region(0x4020bb67), "flash-mapped code");
	T_EQ_STR(bootlog_region(0x40003924), "ROM");
	T_EQ_STR(bootlog_region(0x00000004), "NULL page");
	T_EQ_STR(bootlog_region(0x007e8008), "unmapped");
	T_EQ_STR(bootlog_region(0x3ff00050), "peripheral registers");
}

static void
test_paste_prefixes(void)
{
	static const char *const lines[] = {
		" ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
		"> ets Jan 8 2013,rst cause:2, boot mode:(3,6)",
		"RX: ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
		"[12:34:56.789] ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
		"12:34:56.789 -> ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
		"[2024-01-02 10:11:12] ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
		"\xef\xbb\xbf ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
		"rst cause:2, boot mode:(3,6)",
		"> 2017.07.27, 13:20:14.814, ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
		"2024-01-02T10:11:12.345Z | ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
	};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		struct rec *r = one(lines[i]);

		T_CHECK_(r->kind == BL_ROM_BANNER && r->n[0] == 2 && r->n[1] == 3,
		    "prefix %zu: %s", i, lines[i]);
	}
	/* The skipped prefix is reported, the text is kept whole. */
	T_EQ_INT(one("RX: csum 0x79")->skip, 4);
	T_EQ_INT(one("RX: csum 0x79")->len, 13);
	/* A stamp is not a stack line, and a stack line is not a stamp. */
	T_EQ_INT(one("12:03:44.153 -> 3ffffe80:  3fffdad0 00000000 3ffee6a4 40201062")->skip, 16);
	T_EQ_INT(one("40106000:  00000000 12345678 00000000 40201062")->skip, 0);
	T_EQ_INT(one("00:00:01 CFG: Loaded from flash")->skip, 9);
	/* Terminals that print control bytes as text (file 19). */
	T_EQ_INT(one("csum 0xb1<\\r><\\n>")->kind, BL_ROM_CSUM);
}

static void
test_line_endings(void)
{
	static const char *const eol[] = { "\n", "\r\n", "\r", "\n\r" };
	size_t base_n = 0;
	struct rec base[8];

	for (size_t e = 0; e < ARRAY_SIZE(eol); e++) {
		char log[256];
		struct recs *rs;

		snprintf(log, sizeof log, "csum 0x79%s%s2nd boot version : 1.5%s", eol[e], eol[e], eol[e]);
		rs = decode(log, strlen(log));
		if (e == 0) {
			base_n = rs->n;
			memcpy(base, rs->r, sizeof base);
			T_EQ_INT(base_n, 3);
			T_EQ_INT(base[1].kind, BL_TEXT);
			T_EQ_INT(base[1].len, 0);
			continue;
		}
		T_EQ_INT(rs->n, base_n);
		for (size_t i = 0; i < base_n && i < rs->n; i++) {
			T_EQ_INT(rs->r[i].kind, base[i].kind);
			T_EQ_STR(rs->r[i].text, base[i].text);
		}
	}
	/* CR CR LF: a line, then an empty line ended by CRLF. */
	T_EQ_INT(decode("a\r\r\nb\n", 6)->n, 3);
}

static void
test_long_line_split(void)
{
	static char log[1024 + 2];
	struct recs *rs;

	memset(log, 'x', 1000);
	memcpy(log + 1000, "\r\n", 2);
	rs = decode(log, 1002);
	T_EQ_INT(rs->n, 4);
	T_EQ_INT(rs->r[0].len, BOOTLOG_LINE_MAX);
	T_EQ_INT(rs->r[0].flags & BOOTLOG_F_SPLIT, BOOTLOG_F_SPLIT);
	T_EQ_INT(rs->r[3].flags & BOOTLOG_F_SPLIT, 0);
	T_EQ_INT(rs->r[3].len, 1000 - 3 * BOOTLOG_LINE_MAX);
	T_EQ_INT(rs->r[2].offset, 2 * BOOTLOG_LINE_MAX);
	/* Exactly one buffer: the terminator ends it without an empty line after. */
	memset(log, 'y', BOOTLOG_LINE_MAX);
	memcpy(log + BOOTLOG_LINE_MAX, "\nz\n", 3);
	rs = decode(log, BOOTLOG_LINE_MAX + 3);
	T_EQ_INT(rs->n, 2);
	T_EQ_STR(rs->r[1].text, "z");
}

static void
test_banner_cuts_line(void)
{
	static const char log[] = "Connecting to WiFi..... ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n";
	struct recs *rs = decode(log, sizeof log - 1);

	T_EQ_INT(rs->n, 2);
	T_EQ_INT(rs->r[0].flags & BOOTLOG_F_CUT, BOOTLOG_F_CUT);
	T_EQ_STR(rs->r[0].text, "Connecting to WiFi..... ");
	T_EQ_INT(rs->r[1].kind, BL_ROM_BANNER);
	T_EQ_INT(rs->r[1].offset, 24);
	T_EQ_INT(rs->r[1].lineno, 2);
}

static void
test_uart_model_by_hand(void)
{
	uint8_t out[8];
	size_t n;

	/*
	 * 'U' (0x55) sent at 74880, sampled at 115200 from its falling edge: one receive bit is
	 * 0.65 send bits, so the receive samples at 1.5..8.5 land in send bits 0,1,2,2,3,4,4,5
	 * (start, d0, d1, d1, d2, d3, d3, d4) = 0,1,0,0,1,0,0,1 -> 0x92, and the stop sample (6.2)
	 * hits d5 = 0, a framing error. The line is still low, so a new frame starts at once and
	 * samples d6, d6, d7, stop, stop, then idle: 1,1,0,1,1,1,1,1 -> 0xFB.
	 */
	n = bootlog_baud_garble((const uint8_t *)"U", 1, 74880, 115200, 0, out, sizeof out);
	T_EQ_INT(n, 2);
	T_EQ_HEX(out[0], 0x92);
	T_EQ_HEX(out[1], 0xfb);
	/*
	 * 'U' sent at 115200, sampled at 74880: one receive bit is 1.54 send bits; samples at
	 * 2.3, 3.8, 5.4, 6.9, 8.5, 10, 11.5, 13.1 hit d1, d2, d4, d5, d7, then stop/idle:
	 * 0,1,1,0,0,1,1,1 -> 0xE6.
	 */
	n = bootlog_baud_garble((const uint8_t *)"U", 1, 115200, 74880, 0, out, sizeof out);
	T_EQ_INT(n, 1);
	T_EQ_HEX(out[0], 0xe6);
	/* Same baud: the bytes pass unchanged. */
	n = bootlog_baud_garble((const uint8_t *)"ok", 2, 115200, 115200, 0, out, sizeof out);
	T_EQ_INT(n, 2);
	T_EQ_MEM(out, "ok", 2);
}

/* Text garbled by the simulator's UART model (src/sim/sim_uart.c, written independently of
 * ours) must be recognised as garbage with the right sender baud. */
static void
test_garbage_from_independent_model(void)
{
	static const char *const texts[] = {
		" ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n",
		"load 0x40100000, len 28780, room 16 \r\ntail 12\r\nchksum 0x00\r\n",
		"WiFi connecting to Sonoff-Setup, attempt 3 of 10\r\n",
		"MQTT publish stat/sonoff/POWER = ON\r\n",
		"Temperature 22.75C Humidity 41.00%\r\n",
	};
	int hits = 0, total = 0;

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		for (int dir = 0; dir < 2; dir++) {
			struct buf g = BUF_INIT;
			struct bootlog b;
			struct recs rs;
			uint32_t tx = dir ? 115200 : 74880, rx = dir ? 74880 : 115200;
			int garbage = 0, right = 1;

			memset(&rs, 0, sizeof rs);
			sim_uart_resample((const uint8_t *)texts[i], strlen(texts[i]), tx, rx, &g);
			bootlog_init(&b, rec_cb, &rs);
			bootlog_feed(&b, buf_head(&g), buf_len(&g));
			bootlog_flush(&b);
			for (size_t k = 0; k < rs.n; k++) {
				if (rs.r[k].kind == BL_GARBAGE) {
					garbage++;
					right &= rs.r[k].baud == (int)tx;
				}
				/* Garbled bytes must never pass for a known message. */
				T_CHECK_(rs.r[k].kind == BL_TEXT || rs.r[k].kind == BL_GARBAGE,
				    "text %zu dir %d line %zu decoded as %s", i, dir, k,
				    bootlog_kind_name(rs.r[k].kind));
			}
			total++;
			if (garbage > 0 && right)
				hits++;
			else
				printf("# text %zu sent at %u read at %u: %d garbage lines, baud right %d\n",
				    i, tx, rx, garbage, right);
			buf_free(&g);
		}
	}
	/* Every sample is long enough to decide; allow none to slip. */
	T_EQ_INT(hits, total);
}

static void
test_garbage_real_samples(void)
{
	struct rec *r;

	/* bootlog.md §1: the ROM's output read at 115200, as collected logs show it: raw bytes
	 * (here the Latin-1 bytes behind "c_ÇrSöfêÿ") and the same pasted as UTF-8. */
	r = one("c_\xc7rS\xf6" "f\xea\xff\x8c\x9c\xe2\xfc\xe0\x1c\x8c\x92\xdc");
	T_EQ_INT(r->kind, BL_GARBAGE);
	r = one("c_\xc3\x87rS\xc3\xb6" "f\xc3\xaa\xc3\xbf\xc3\x9c\xc3\xa0");
	T_EQ_INT(r->kind, BL_GARBAGE);
	/* File 41 (INDEX: ROM output read at 115200): the suggestion is the ROM's 74880. */
	r = one("RX: \?<\?\?\?\?\? b\?\?>~\?n\?\?\? r\?\?#\?n\?\?rnr\?\?\?;\?\? \?\?\?rp\?n\?\?\?");
	T_EQ_INT(r->kind, BL_GARBAGE);
	T_EQ_INT(r->baud, 74880);
	/* When the bytes alone cannot tell the direction (a paste that turned every byte into
	 * '?'), the suggestion is the baud not in use. */
	{
		struct recs rs;
		struct bootlog b;
		static const char junk[] = "\?\?\?\?\?\?\r\n";

		memset(&rs, 0, sizeof rs);
		bootlog_init(&b, rec_cb, &rs);
		bootlog_set_read_baud(&b, 74880);
		bootlog_set_app_baud(&b, 57600);
		bootlog_feed(&b, junk, sizeof junk - 1);
		T_EQ_INT(rs.r[0].kind, BL_GARBAGE);
		T_EQ_INT(rs.r[0].baud, 57600);
		bootlog_set_read_baud(&b, 57600);
		bootlog_feed(&b, junk, sizeof junk - 1);
		T_EQ_INT(rs.r[1].kind, BL_GARBAGE);
		T_EQ_INT(rs.r[1].baud, 74880);
		/* Both suggest a change: neither is marked stale. */
		T_EQ_INT(rs.r[0].flags & BOOTLOG_F_STALE, 0);
		T_EQ_INT(rs.r[1].flags & BOOTLOG_F_STALE, 0);
	}
	/* Application text still read at 74880 after a viewer switched to 115200 (bytes queued
	 * before the switch): the suggestion is 115200, so the viewer stays. */
	{
		static const char app[] = "00:00:03 WIF: Connected to espdesk-lab\r\n";
		struct buf g = BUF_INIT;
		struct recs rs;
		struct bootlog b;

		memset(&rs, 0, sizeof rs);
		sim_uart_resample((const uint8_t *)app, sizeof app - 1, 115200, 74880, &g);
		bootlog_init(&b, rec_cb, &rs);
		bootlog_set_read_baud(&b, 115200);
		bootlog_feed(&b, buf_head(&g), buf_len(&g));
		bootlog_flush(&b);
		T_EQ_INT(rs.r[0].kind, BL_GARBAGE);
		T_EQ_INT(rs.r[0].baud, 115200);
		/* ...and it is marked stale, so no viewer tells the user to go to the baud they are at. */
		T_TRUE(rs.r[0].flags & BOOTLOG_F_STALE);
		{
			struct bootlog_event ev;
			struct buf line = BUF_INIT;

			memset(&ev, 0, sizeof ev);
			ev.kind = BL_GARBAGE;
			ev.baud = 115200;
			ev.flags = BOOTLOG_F_STALE;
			ev.text = buf_head(&g);
			ev.len = buf_len(&g);
			bootlog_fmt_line(&line, &ev, BOOTLOG_FMT_HIDE_GARBAGE);
			buf_add_byte(&line, 0);
			T_CONTAINS((const char *)buf_head(&line), "read before the port was at 115200 baud");
			T_TRUE(strstr((const char *)buf_head(&line), "another baud") == NULL);
			buf_free(&line);
		}
		buf_free(&g);
	}
	/* Ordinary text with one UTF-8 sign is not garbage. */
	KIND("Temperature: 21.5\xc2\xb0" "C, humidity 40%", BL_TEXT);
	KIND("rf[112] : 00", BL_TEXT);
	KIND("r", BL_TEXT);
}

/* No line of the real logs is called garbage, except file 41's garbled one. */
static void
test_no_false_garbage_in_real_logs(void)
{
	static const char *const logs[] = {
		"01-healthy-at-stock-boot15-user1-1000.log", "02-healthy-boot16-dio-user1-after-dio-fix.log",
		"04-healthy-at-rst-old-sdk-wdt-boot11.log", "05-healthy-nonos-nonota-app-at-74880.log",
		"10-restart-after-serial-flash-stuck-uart-mode.log", "17-boot-mode-2-0-fatal28-strapping.log",
		"19-csum-err-qio-arduino164-esp07.log", "25-flash-size-16mb-unsupported-system-param-error.log",
		"27-boot17-user2-81000-error-magic.log", "29-rboot-rom1-bad-fallback-rom0.log",
		"32-exception28-uninitialized-pointer-io_ctx.log", "34-soft-wdt-busy-loop-delaymicroseconds.log",
		"36-hw-wdt-blocked-websocket-example.log",
	};

	for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
		char rel[256], data[16384];
		FILE *f;
		size_t n;
		struct recs *rs;

		snprintf(rel, sizeof rel, "bootlogs/%s", logs[i]);
		f = fopen(t_data(rel), "rb");
		T_CHECK_(f != NULL, "missing %s", rel);
		if (f == NULL)
			continue;
		n = fread(data, 1, sizeof data, f);
		fclose(f);
		rs = decode(data, n);
		for (size_t k = 0; k < rs->n; k++)
			T_CHECK_(rs->r[k].kind != BL_GARBAGE, "%s line %llu called garbage: %s", logs[i],
			    (unsigned long long)rs->r[k].lineno, rs->r[k].text);
	}
}

/* ---- property: chunking does not change the events ---- */

struct sig {
	uint64_t h;
	size_t n;
};

static void
sig_cb(void *arg, const struct bootlog_event *ev)
{
	struct sig *s = arg;
	uint64_t h = s->h;

#define MIX(v) do { h ^= (uint64_t)(v); h *= 0x100000001b3ULL; } while (0)
	MIX(ev->kind);
	MIX(ev->lineno);
	MIX(ev->offset);
	MIX(ev->len);
	MIX(ev->skip);
	MIX(ev->baud);
	MIX(ev->flags);
	for (int i = 0; i < 5; i++)
		MIX(ev->n[i]);
	for (size_t i = 0; i < ev->len; i++)
		MIX(ev->text[i]);
#undef MIX
	s->h = h;
	s->n++;
}

static struct sig
sig_of(const uint8_t *data, size_t len, uint32_t seed)
{
	struct sig s = { 0xcbf29ce484222325ULL, 0 };
	struct bootlog b;
	size_t off = 0;
	uint32_t x = seed;

	bootlog_init(&b, sig_cb, &s);
	while (off < len) {
		size_t chunk = len - off;

		if (seed != 0) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* Mostly tiny chunks (1-8 bytes) to hit every boundary, sometimes big ones. */
			chunk = (x % 4 == 0) ? x % 97 + 1 : x % 8 + 1;
			if (chunk > len - off)
				chunk = len - off;
		}
		bootlog_feed(&b, data + off, chunk);
		off += chunk;
	}
	bootlog_flush(&b);
	return s;
}

static void
test_chunking_property(void)
{
	static const char *const logs[] = {
		"01-healthy-at-stock-boot15-user1-1000.log", "02-healthy-boot16-dio-user1-after-dio-fix.log",
		"04-healthy-at-rst-old-sdk-wdt-boot11.log", "05-healthy-nonos-nonota-app-at-74880.log",
		"08-download-mode-gpio0-low-1-7.log", "10-restart-after-serial-flash-stuck-uart-mode.log",
		"13-sdio-mode-7-0-gpio15-0v5.log", "17-boot-mode-2-0-fatal28-strapping.log",
		"19-csum-err-qio-arduino164-esp07.log", "22-rf-cal-0xff-missing-init-data.log",
		"25-flash-size-16mb-unsupported-system-param-error.log", "27-boot17-user2-81000-error-magic.log",
		"29-rboot-rom1-bad-fallback-rom0.log", "32-exception28-uninitialized-pointer-io_ctx.log",
		"34-soft-wdt-busy-loop-delaymicroseconds.log", "36-hw-wdt-blocked-websocket-example.log",
		"41-at-boot15-viewed-at-115200-rom-garbage.log",
	};
	size_t checked = 0;

	for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
		char rel[256];
		static uint8_t data[16384], crlf[32768];
		FILE *f;
		size_t n, m = 0;
		struct sig whole;

		snprintf(rel, sizeof rel, "bootlogs/%s", logs[i]);
		f = fopen(t_data(rel), "rb");
		T_CHECK_(f != NULL, "missing %s", rel);
		if (f == NULL)
			continue;
		n = fread(data, 1, sizeof data, f);
		fclose(f);
		/* The same log as the device sends it (CRLF), to put CR/LF pairs across cuts. */
		for (size_t k = 0; k < n; k++) {
			if (data[k] == '\n')
				crlf[m++] = '\r';
			crlf[m++] = data[k];
		}
		whole = sig_of(data, n, 0);
		for (uint32_t seed = 1; seed <= 300; seed++) {
			struct sig cut = sig_of(data, n, seed * 2654435761u);

			T_CHECK_(cut.h == whole.h && cut.n == whole.n, "%s seed %u: %zu events vs %zu",
			    logs[i], seed, cut.n, whole.n);
			checked++;
		}
		whole = sig_of(crlf, m, 0);
		for (uint32_t seed = 1; seed <= 100; seed++) {
			struct sig cut = sig_of(crlf, m, seed * 40503u + 7);

			T_CHECK_(cut.h == whole.h && cut.n == whole.n, "%s (CRLF) seed %u", logs[i], seed);
		}
	}
	printf("# %zu chunkings compared\n", checked);
}

static void
test_json_escaping(void)
{
	struct buf out = BUF_INIT;
	static const char raw[] = "a\"b\\c\x01\x1b\xff\t";
	char *s;

	/* Bytes are first escaped as esc.h says (\x01, \e, \xff; tab kept), then for JSON. */
	bootlog_fmt_json_str(&out, raw, sizeof raw - 1);
	buf_add_byte(&out, 0);
	s = (char *)buf_head(&out);
	T_EQ_STR(s, "\"a\\\"b\\\\c\\\\x01\\\\e\\\\xff\\t\"");
	buf_free(&out);
	/* Valid UTF-8 stays readable. */
	bootlog_fmt_json_str(&out, "21\xc2\xb0" "C", 5);
	buf_add_byte(&out, 0);
	T_EQ_STR((char *)buf_head(&out), "\"21\xc2\xb0" "C\"");
	buf_free(&out);
}

static void
test_annotation_escapes_device_bytes(void)
{
	struct buf out = BUF_INIT;
	struct bootlog_event ev;
	static const uint8_t line[] = { 'o', 'k', 0x1b, '[', '2', 'J', 0x07, 0x9b };

	memset(&ev, 0, sizeof ev);
	ev.kind = BL_TEXT;
	ev.lineno = 7;
	ev.text = line;
	ev.len = sizeof line;
	bootlog_fmt_line(&out, &ev, BOOTLOG_FMT_LINENO);
	buf_add_byte(&out, 0);
	T_EQ_STR((char *)buf_head(&out), "    7  ok\\e[2J\\x07\\x9b\n");
	for (size_t i = 0; i + 1 < buf_len(&out); i++)
		T_CHECK_(buf_head(&out)[i] >= 0x20 || buf_head(&out)[i] == '\n', "control byte at %zu", i);
	buf_free(&out);
}

int
main(void)
{
	T_RUN(test_rom_banner_rst_causes);
	T_RUN(test_rom_banner_boot_modes);
	T_RUN(test_rom_loader_lines);
	T_RUN(test_boot_v1x);
	T_RUN(test_eboot);
	T_RUN(test_rboot);
	T_RUN(test_idf_bootloader);
	T_RUN(test_sdk_startup);
	T_RUN(test_exceptions);
	T_RUN(test_stack_dump);
	T_RUN(test_regions);
	T_RUN(test_paste_prefixes);
	T_RUN(test_line_endings);
	T_RUN(test_long_line_split);
	T_RUN(test_banner_cuts_line);
	T_RUN(test_uart_model_by_hand);
	T_RUN(test_garbage_from_independent_model);
	T_RUN(test_garbage_real_samples);
	T_RUN(test_no_false_garbage_in_real_logs);
	T_RUN(test_chunking_property);
	T_RUN(test_json_escaping);
	T_RUN(test_annotation_escapes_device_bytes);
	return t_done();
}
