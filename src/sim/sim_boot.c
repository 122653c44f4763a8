/*
 * sim_boot.c: the boot model of espdesk-sim (see sim_boot.h): boot ROM banner and strap modes,
 * the ROM's image loader (sim_image.c), the NONOS boot_v1.x 2nd stage, rBoot, Arduino's eboot, the
 * SDK's start-up checks and the application's log and crashes (sim_app.c).
 *
 * Every text comes from ../shared/reference/bootlog.md, protocol.md §11.5/§13 and the real logs
 * in tests/data/bootlogs/ (cited by number). The ROM's UART turns "\n" into "\r\n" (log 19 shows
 * the bytes), so every line ends in "\r\n" here. Where the sources are unsure the comment says so
 * and names what we picked.
 */
#include "config.h"

#include "sim/sim_boot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/xmalloc.h"
#include "sim/sim_app.h"
#include "sim/sim_image.h"

/* Delays between steps. Nothing asserts them; they only make a live session look like a chip. */
#define D_BANNER_US 2000u        /* reset to ROM banner */
#define D_STAGE_US 1000u         /* ROM jump to the 2nd stage */
#define D_SDK_US 60000u          /* SDK start-up before its first line */
#define D_RESTART_US 100000u     /* a crash dump to the software restart */
#define D_ROM_LOOP_US 1000u      /* the ROM's exception loop in an invalid strap mode */
#define DEFAULT_CRASH_MS 3000u   /* a scenario switched on without a time in the image */
#define MAX_UNROLL 1000          /* loop lines unrolled before a crash */

/* Defaults for a NONOS application that does not say: the SDK banner of log 01. */
#define DEFAULT_SDK "1.5.4.1(39cb9a32)"
#define DEFAULT_SDK_DATE "Jul  1 2016 20:04:35"

struct ctx {
	const struct sim_boot_env *env;
	struct sim_boot_plan *plan;
	struct sim_image_flash fl;
	uint32_t rom_baud;
	struct buf t;           /* text being composed */
};

/* ms as a step delay in µs, saturating (a script may ask for any time). */
static uint32_t
us(uint64_t ms)
{
	return ms * 1000u > UINT32_MAX ? UINT32_MAX : (uint32_t)(ms * 1000u);
}

static void
add_step(struct sim_step **list, size_t *n, uint32_t delay_us, uint32_t baud, const void *text,
    size_t len)
{
	struct sim_step *s;

	*list = xreallocarray(*list, *n + 1, sizeof **list);
	s = &(*list)[(*n)++];
	s->delay_us = delay_us;
	s->baud = baud;
	s->text = xmalloc(len + 1);
	if (len > 0)
		memcpy(s->text, text, len);
	s->text[len] = '\0';
	s->len = len;
}

/* Emits the composed text as one step (also when empty: a pure delay). */
static void
emit(struct ctx *c, uint32_t delay_us, uint32_t baud)
{
	add_step(&c->plan->steps, &c->plan->nsteps, delay_us, baud, buf_head(&c->t), buf_len(&c->t));
	buf_reset(&c->t);
}

static void ED_PRINTFLIKE(2, 3)
put(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = xvasprintf(&s, fmt, ap);
	va_end(ap);
	buf_add(&c->t, s, (size_t)n);
	free(s);
}

static void
finish(struct ctx *c, enum sim_boot_next next, enum sim_rst_cause cause)
{
	c->plan->next = next;
	c->plan->next_rst_cause = cause;
}

uint32_t
sim_boot_rom_baud(uint32_t xtal_hz)
{
	/* bootlog.md §1: the ROM's divider assumes 40 MHz; 115200 * 26/40 = 74880. */
	if (xtal_hz == 40000000u)
		return 115200;
	return (uint32_t)((uint64_t)115200 * (xtal_hz ? xtal_hz : 26000000u) / 40000000u);
}

/*
 * The second number of `boot mode:(x,y)`. bootlog.md §3: no primary source; it varies between
 * healthy boots. We pick what the real logs show most often for each case: power-on 7 (logs 05,
 * 29 shows 3; Sming#2366 and rboot-sample#7 show 7), external or watchdog reset 6 (logs 01, 10,
 * 19, 22, 25, 36; 02 and 27 show 7), SDIO 0 (log 13), GPIO2 low 0 (log 17; esp8266.com t=14162
 * shows 6).
 */
static int
boot_mode_y(const struct sim_boot_env *env, int x)
{
	if (x >= 4 || x == 0 || x == 2)
		return 0;
	return env->rst_cause == SIM_RST_POWERON ? 7 : 6;
}

/* The SDK's names for EXCCAUSE (bootlog.md §6), as `Fatal exception N(Name):` prints them. */
static const char *
exc_name(unsigned cause)
{
	static const char *const names[30] = {
		"IllegalInstructionCause", "SyscallCause", "InstructionFetchErrorCause",
		"LoadStoreErrorCause", "Level1InterruptCause", "AllocaCause",
		"IntegerDivideByZeroCause", NULL, "PrivilegedCause", "LoadStoreAlignmentCause",
		NULL, NULL, "InstrPIFDataErrorCause", "LoadStorePIFDataErrorCause",
		"InstrPIFAddrErrorCause", "LoadStorePIFAddrErrorCause", "InstTLBMissCause",
		"InstTLBMultiHitCause", "InstFetchPrivilegeCause", NULL, "InstFetchProhibitedCause",
		NULL, NULL, NULL, "LoadStoreTLBMissCause", "LoadStoreTLBMultiHitCause",
		"LoadStorePrivilegeCause", NULL, "LoadProhibitedCause", "StoreProhibitedCause",
	};

	return cause < 30 ? names[cause] : NULL;
}

/* The stack words of log 32 (sp 3fff1840 + offset 01a0 = 3fff19e0). The log stops at 3fff1aa0,
 * so our dump ends there too (end 3fff1ab0) rather than making up the rest. */
static const uint32_t log32_stack[13][4] = {
	{ 0x62755362, 0x65696c43, 0x205d746e, 0x65747441 },
	{ 0x6974706d, 0x4d20676e, 0x20545451, 0x402122b0 },
	{ 0x3fff1a40, 0x3fff0740, 0x00000000, 0x4020f931 },
	{ 0xc025c177, 0x3fff1a70, 0x3fff0688, 0x3ffe93c8 },
	{ 0x3fff3104, 0x3ffea930, 0x3fff3104, 0x00000000 },
	{ 0x3fff1dbc, 0x000004c8, 0x000004c8, 0x3ffe93c8 },
	{ 0x3fff0a74, 0x3fff0740, 0x3fff09c4, 0x4020fab0 },
	{ 0x00000000, 0x00000000, 0x3fff0a9c, 0x402022bc },
	{ 0x3fff0a74, 0x3fff0740, 0x3fff09c4, 0x40213f84 },
	{ 0x00000000, 0x00000000, 0x00000000, 0x40217be4 },
	{ 0x3fff0a74, 0x3fff09c4, 0x3fff0740, 0x40214420 },
	{ 0x3ffe93c8, 0x00000000, 0x000003e8, 0x00000000 },
	{ 0x3fff608c, 0x3fff60cc, 0x3ffe93c8, 0x00000000 },
};

/* Log 34 (Soft WDT): complete, sp 3ffef1d0 + 01b0 = 3ffef380 up to end 3ffef3d0. */
static const uint32_t log34_stack[5][4] = {
	{ 0x3ffe8430, 0xfeefeffe, 0x3ffef360, 0x3ffef390 },
	{ 0x40106af0, 0x00000338, 0x00000000, 0x3ffee39c },
	{ 0x3fffdad0, 0x00000000, 0x00000338, 0x40201c55 },
	{ 0xfeefeffe, 0xfeefeffe, 0x3ffee394, 0x40202138 },
	{ 0xfeefeffe, 0xfeefeffe, 0x3ffee3b0, 0x40100114 },
};

/* The SDK's own fatal-exception report (bootlog.md §7; log 32's first two lines). Older SDKs
 * print `Fatal exception (N):` instead; which version changed is not in the sources, so we use
 * the newer form, falling back to the older one for causes without a name. */
static void
sdk_exception(struct ctx *c, unsigned cause, uint32_t epc1, uint32_t excvaddr)
{
	const char *name = exc_name(cause);

	if (name != NULL)
		put(c, "Fatal exception %u(%s):\r\n", cause, name);
	else
		put(c, "Fatal exception (%u):\r\n", cause);
	put(c, "epc1=0x%08x, epc2=0x00000000, epc3=0x00000000, excvaddr=0x%08x, depc=0x00000000\r\n",
	    (unsigned)epc1, (unsigned)excvaddr);
}

/* The Arduino core's post-mortem for an exception (log 32, the format without the CUT HERE
 * frame of core >= 2.6). */
static void
arduino_exception(struct ctx *c, const struct sim_app *app, unsigned cause, uint32_t epc1,
    uint32_t excvaddr)
{
	if (app->sdk_debug) {
		sdk_exception(c, cause, epc1, excvaddr);
		put(c, "\r\n");
	}
	put(c, "Exception (%u):\r\n", cause);
	put(c, "epc1=0x%08x epc2=0x00000000 epc3=0x00000000 excvaddr=0x%08x depc=0x00000000\r\n\r\n",
	    (unsigned)epc1, (unsigned)excvaddr);
	put(c, "ctx: cont\r\nsp: 3fff1840 end: 3fff1ab0 offset: 01a0\r\n\r\n>>>stack>>>\r\n");
	for (size_t i = 0; i < ARRAY_SIZE(log32_stack); i++)
		put(c, "%08x:  %08x %08x %08x %08x\r\n", 0x3fff19e0u + 16u * (unsigned)i,
		    (unsigned)log32_stack[i][0], (unsigned)log32_stack[i][1],
		    (unsigned)log32_stack[i][2], (unsigned)log32_stack[i][3]);
	put(c, "<<<stack<<<\r\n");
}

/* The Arduino core's Soft WDT report, byte for byte as log 34 (that core version left trailing
 * spaces after `ctx: cont` and after each stack line). */
static void
arduino_soft_wdt(struct ctx *c)
{
	put(c, "Soft WDT reset\r\n\r\nctx: cont \r\nsp: 3ffef1d0 end: 3ffef3d0 offset: 01b0\r\n\r\n"
	    ">>>stack>>>\r\n");
	for (size_t i = 0; i < ARRAY_SIZE(log34_stack); i++)
		put(c, "%08x:  %08x %08x %08x %08x  \r\n", 0x3ffef380u + 16u * (unsigned)i,
		    (unsigned)log34_stack[i][0], (unsigned)log34_stack[i][1],
		    (unsigned)log34_stack[i][2], (unsigned)log34_stack[i][3]);
	put(c, "<<<stack<<<\r\n");
}

/* Loads the bytes of ranges and looks for an app script in them (doc/sim-firmware.md). */
static void
find_script(struct ctx *c, const struct sim_image_seg *r, size_t n, struct sim_app *app)
{
	/* A script starts within the first 64 KB of a segment (the firmware builder puts it at the
	 * start); with the overall budget this bounds the work for any flash. */
	uint32_t budget = 0x40000;

	for (size_t i = 0; i < n && !app->found && budget > 0; i++) {
		uint32_t len = r[i].len > 0x10000u ? 0x10000u : r[i].len;

		if (len > budget)
			len = budget;
		uint8_t *b;

		if (len == 0)
			continue;
		budget -= len;
		b = xmalloc(len);
		sim_image_read(&c->fl, r[i].flash_off, b, len);
		sim_app_find(b, len, app);
		free(b);
	}
}

/* SDK major.minor as a number (2.1 -> 201); unparsable versions count as 0. */
static unsigned
sdk_level(const char *v)
{
	unsigned major = 0, minor = 0;

	if (sscanf(v, "%u.%u", &major, &minor) < 1)
		return 0;
	return major * 100 + (minor > 99 ? 99 : minor);
}

/*
 * The application: SDK checks and banner (NONOS), its own start-up lines, then its loop or its
 * crash. ranges are its code/data, where a script may live.
 */
static void
run_app(struct ctx *c, const struct sim_image_seg *ranges, size_t nranges, enum sim_app_core kind)
{
	const struct sim_boot_env *env = c->env;
	uint8_t hdr3 = sim_image_rd8(&c->fl, 3);
	unsigned map = hdr3 >> 4;
	uint32_t e = sim_image_flash_bytes(map), baud;
	uint64_t t_ms = 0, crash_ms = 0;
	enum sim_scenario scn;
	struct sim_app app;
	size_t unrolled = 0;
	int has_lines;

	sim_app_init(&app);
	find_script(c, ranges, nranges, &app);
	if (app.core != SIM_APP_CORE_DEFAULT)
		kind = app.core;
	if (e == 0)
		e = env->flash_size;
	baud = app.baud ? app.baud : (app.found || kind == SIM_APP_CORE_ARDUINO ? 115200 : c->rom_baud);
	scn = env->scenario != SIM_SCN_NONE ? env->scenario : app.crash;
	if (scn != SIM_SCN_NONE && scn != SIM_SCN_BROWNOUT)
		crash_ms = scn == app.crash ? app.crash_after_ms : DEFAULT_CRASH_MS;

	if (kind == SIM_APP_CORE_NONOS) {
		const char *sdk = app.sdk ? app.sdk : DEFAULT_SDK;
		uint8_t init[128];

		/* bootlog.md §8, log 25: the SDK refuses a size map it does not support (8 and 9 need
		 * SDK >= 2.1, protocol.md §12.1), says so, and carries on with the saved parameters. The
		 * ets_task line is log 25's SDK debug output, kept as the real chip printed it. */
		if (map == 7 || map > 9 || (map >= 8 && sdk_level(sdk) < 201))
			put(c, "system param error, use last saved param!\r\n"
			    "#0 ets_task(40209c10, 31, 3ffe9020, 4)\r\n");
		/* esp_init_data_default at E - 0x4000 must start with 0x05 (protocol.md §13.1,
		 * log 22); otherwise the SDK stops and the chip restarts. A software restart keeps
		 * the ROM's last hardware reset cause (bootlog.md §2; logs 22 and 25 loop with
		 * `rst cause:2`). */
		sim_image_read(&c->fl, e - 0x4000u, init, sizeof init);
		if (init[0] != 0x05) {
			put(c, "rf_cal[0] !=0x05,is 0x%02X\r\n", init[0]);
			emit(c, D_SDK_US, c->rom_baud);
			finish(c, SIM_NEXT_RESET, env->rst_cause);
			sim_app_free(&app);
			return;
		}
		/* Log 01: the SDK banner, still at the ROM's baud. `rf cal sector` is what
		 * user_rf_cal_sector_set() returns; the SDK's default is E - 0x5000 (§13.1). The
		 * `phy ver` line is log 01's (SDK 1.5.4.1); other SDKs print other numbers. */
		if (!app.sdk_banner_off) {
			put(c, "rf cal sector: %u\r\nrf[112] : %02x\r\nrf[113] : %02x\r\n"
			    "rf[114] : %02x\r\n\r\n", (unsigned)((e - 0x5000u) / 0x1000u), init[112],
			    init[113], init[114]);
			put(c, "SDK ver: %s compiled @ %s\r\nphy ver: 972, pp ver: 10.1\r\n\r\n", sdk,
			    app.sdk_date ? app.sdk_date : DEFAULT_SDK_DATE);
		}
		if (scn == SIM_SCN_BROWNOUT) {
			/* The supply dips when the radio starts calibrating: the chip resets in the
			 * middle of the banner, with no crash text. A dip below the reset threshold is
			 * a power-on reset for the ROM (cause 1); the reference has no brownout log,
			 * bootlog.md §7 only lists a supply dip as a hardware-WDT cause. */
			c->t.len /= 2;
			emit(c, D_SDK_US, c->rom_baud);
			finish(c, SIM_NEXT_RESET, SIM_RST_POWERON);
			sim_app_free(&app);
			return;
		}
		emit(c, D_SDK_US, c->rom_baud);
	}
	c->plan->app_baud = baud;

	if (scn == SIM_SCN_BROWNOUT) {
		/* Arduino: the reset comes in the middle of the first line (or right away). */
		if (app.nstart > 0) {
			buf_add(&c->t, app.start[0].text, app.start[0].len / 2);
			emit(c, D_SDK_US, baud);
		}
		finish(c, SIM_NEXT_RESET, SIM_RST_POWERON);
		sim_app_free(&app);
		return;
	}

	/* Start-up lines, then loop lines, up to the crash time when there is one. */
	has_lines = app.nstart > 0;
	for (size_t i = 0; i < app.nstart; i++) {
		if (scn != SIM_SCN_NONE && t_ms + app.start[i].delay_ms > crash_ms)
			break;
		t_ms += app.start[i].delay_ms;
		buf_add(&c->t, app.start[i].text, app.start[i].len);
		buf_add(&c->t, "\r\n", 2);
		emit(c, i == 0 ? us((uint64_t)app.start[i].delay_ms + D_SDK_US / 1000) : us(app.start[i].delay_ms),
		    baud);
	}
	if (scn == SIM_SCN_NONE) {
		for (size_t i = 0; i < app.nloop; i++) {
			buf_add(&c->t, app.loop[i].text, app.loop[i].len);
			buf_add(&c->t, "\r\n", 2);
			add_step(&c->plan->loop, &c->plan->nloop, us(app.loop[i].delay_ms), baud,
			    buf_head(&c->t), buf_len(&c->t));
			buf_reset(&c->t);
		}
		finish(c, SIM_NEXT_APP_LOOP, env->rst_cause);
		sim_app_free(&app);
		return;
	}
	for (size_t k = 0; app.nloop > 0 && unrolled < MAX_UNROLL; k++) {
		const struct sim_app_line *l = &app.loop[k % app.nloop];

		if (t_ms + l->delay_ms > crash_ms)
			break;
		t_ms += l->delay_ms;
		buf_add(&c->t, l->text, l->len);
		buf_add(&c->t, "\r\n", 2);
		emit(c, us(l->delay_ms), baud);
		unrolled++;
		has_lines = 1;
	}
	switch (scn) {
	case SIM_SCN_EXCEPTION: {
		unsigned cause = app.crash == SIM_SCN_EXCEPTION ? app.exccause : 28;
		uint32_t epc1 = app.crash == SIM_SCN_EXCEPTION ? app.epc1 : 0x4020bb67;
		uint32_t vaddr = app.crash == SIM_SCN_EXCEPTION ? app.excvaddr : 0x007e8008;

		if (kind == SIM_APP_CORE_ARDUINO)
			arduino_exception(c, &app, cause, epc1, vaddr);
		else
			sdk_exception(c, cause, epc1, vaddr);
		emit(c, us(crash_ms - t_ms + (has_lines ? 0 : D_SDK_US / 1000)), baud);
		emit(c, D_RESTART_US, baud);
		finish(c, SIM_NEXT_RESET, env->rst_cause);
		break;
	}
	case SIM_SCN_SOFT_WDT:
		/* The NONOS SDK has no post-mortem printer of its own; what it prints on a soft WDT
		 * is not in the sources, so a NONOS app just restarts. */
		if (kind == SIM_APP_CORE_ARDUINO)
			arduino_soft_wdt(c);
		emit(c, us(crash_ms - t_ms + (has_lines ? 0 : D_SDK_US / 1000)), baud);
		emit(c, D_RESTART_US, baud);
		finish(c, SIM_NEXT_RESET, env->rst_cause);
		break;
	default:
		/* Hardware WDT: no dump at all; the next thing is the ROM banner with rst cause 4
		 * and `wdt reset` (bootlog.md §7, log 36). An empty step is the silent wait. */
		emit(c, us(crash_ms - t_ms + (has_lines ? 0 : D_SDK_US / 1000)), baud);
		finish(c, SIM_NEXT_RESET, SIM_RST_WDT);
		break;
	}
	sim_app_free(&app);
}

/* "2nd boot version : X" inside the loaded segments: 1 and X in ver (maybe empty) if found. */
static int
find_version_text(struct ctx *c, const struct sim_image_rom *rom, char *ver, size_t vsize)
{
	static const char key[] = "2nd boot version : ";
	const size_t klen = sizeof key - 1;

	for (unsigned i = 0; i < rom->nseg; i++) {
		uint32_t len = rom->seg[i].len;
		uint8_t *b;
		int found = 0;

		if (len < klen)
			continue;
		b = xmalloc(len);
		sim_image_read(&c->fl, rom->seg[i].flash_off, b, len);
		for (uint32_t k = 0; k + klen <= len && !found; k++) {
			size_t n = 0;

			if (b[k] != '2' || memcmp(b + k, key, klen) != 0)
				continue;
			found = 1;
			for (uint32_t j = k + (uint32_t)klen; j < len && n + 1 < vsize; j++) {
				int ch = b[j];

				if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
				    (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '(' || ch == ')'))
					break;
				ver[n++] = (char)ch;
			}
			ver[n] = '\0';
		}
		free(b);
		if (found)
			return 1;
	}
	return 0;
}

/*
 * Espressif's boot_v1.x as the ROM sees it: segment lengths (bootlog.md §4, logs 01, 02, 04, 27
 * and bbs.espressif.com t=1896) and entry points (protocol.md §12.1). A real boot.bin restored
 * from a device's backup is recognised by these even when its version text cannot be read.
 */
static const struct {
	uint32_t len[3];
	uint32_t entry;
	const char *version;
} known_boots[] = {
	{ { 612, 788, 264 }, 0, "1.1" },
	{ { 816, 788, 288 }, 0x401000C0, "1.2" },
	{ { 1856, 776, 552 }, 0, "1.5" },
	{ { 2408, 776, 632 }, 0x40100438, "1.6" },
	{ { 2592, 764, 676 }, 0x4010057C, "1.7(5d6f877)" },
};

static const char *
known_boot(const struct sim_image_rom *rom)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_boots); i++) {
		if (rom->nseg == 3 && rom->seg[0].len == known_boots[i].len[0] &&
		    rom->seg[1].len == known_boots[i].len[1] && rom->seg[2].len == known_boots[i].len[2])
			return known_boots[i].version;
	}
	for (size_t i = 0; i < ARRAY_SIZE(known_boots); i++)
		if (rom->nseg == 3 && known_boots[i].entry != 0 && rom->entry == known_boots[i].entry)
			return known_boots[i].version;
	return NULL;
}

/*
 * Is the loaded code boot_v1.x? Yes when a segment holds "2nd boot version : " (the version is
 * what follows) or when it is a known boot.bin; ver gets the version text.
 */
static int
find_2nd_stage(struct ctx *c, const struct sim_image_rom *rom, char *ver, size_t vsize)
{
	const char *known = known_boot(rom);

	if (find_version_text(c, rom, ver, vsize) && ver[0] != '\0')
		return 1;
	if (known == NULL)
		return 0;
	snprintf(ver, vsize, "%s", known);
	return 1;
}
/*
 * boot_v1.x (bootlog.md §8, protocol.md §13.2, logs 01, 02, 04, 27). It decodes speed, mode and
 * map from the header at 0x0 (its own header: esptool's -fm/-fs patch only that one, and log 02
 * changed its `SPI Mode` by re-flashing with -fm dio; bootlog.md §8 names the header at 0x1000,
 * which an SDK user1.bin fills with 0 and the app number, protocol.md §12.6, so it cannot be).
 * It picks the slot from the system parameter area at the end of the flash the header claims
 * (E - 0x3000 or E - 0x2000, chosen by byte 0 of the flag sector E - 0x1000; the boot byte's low
 * nibble is 1 for user2). That layout is not in the reference (protocol.md §13.1 says so); we
 * follow the reverse-engineered SDK structures in pvvx/esp8266web. Blank parameters mean user1.
 */
static void
nonos_boot(struct ctx *c, const char *verstr)
{
	uint8_t mode = sim_image_rd8(&c->fl, 2), sf = sim_image_rd8(&c->fl, 3);
	unsigned map = sf >> 4, major = 1, minor = 6;
	uint32_t e = sim_image_flash_bytes(map), params, slot_addr[3];
	int slot, old;
	struct sim_image_seg r[20];
	size_t nr;

	if (verstr[0] == '\0' || sscanf(verstr, "%u.%u", &major, &minor) != 2) {
		/* A version we cannot read: print what is there and behave like 1.6. */
		major = 1;
		minor = 6;
	}
	if (major > 1)
		minor = 7;
	old = minor <= 3;
	put(c, "\r\n2nd boot version : %s\r\n", verstr);
	if (minor >= 7)
		put(c, "SPI Speed : %s\r\nSPI Mode : %s\r\nSPI Flash Size & Map: %s\r\n",
		    sim_image_speed_str(sf), sim_image_mode_str(mode), sim_image_map_str(map, 1));
	else if (minor >= 4)
		put(c, "  SPI Speed      : %s\r\n  SPI Mode       : %s\r\n  SPI Flash Size & Map: %s\r\n",
		    sim_image_speed_str(sf), sim_image_mode_str(mode), sim_image_map_str(map, 0));
	else if (minor >= 2)
		put(c, "  SPI Speed      : %s\r\n  SPI Mode       : %s\r\n  SPI Flash Size : %s\r\n",
		    sim_image_speed_str(sf), sim_image_mode_str(mode), sim_image_size_str(map));
	else /* boot_v1.1, log 04 */
		put(c, "SPI Speed : %s\r\nSPI Mode : %s\r\nSPI Flash Size : %s\r\n",
		    sim_image_speed_str(sf), sim_image_mode_str(mode), sim_image_size_str(map));
	if (e == 0) {
		/* A map the loader does not know: it has no layout to boot from. What follows is
		 * not in the sources; we stop here. */
		emit(c, D_STAGE_US, c->rom_baud);
		finish(c, SIM_NEXT_HALT, c->env->rst_cause);
		return;
	}
	params = sim_image_rd8(&c->fl, e - 0x1000u) == 1 ? e - 0x2000u : e - 0x3000u;
	slot = (sim_image_rd8(&c->fl, params) & 0x0F) == 1 ? 2 : 1;
	slot_addr[1] = 0x1000;
	slot_addr[2] = sim_image_user2_addr(map);
	if (slot == 2 && slot_addr[2] == 0)
		slot = 1;
	if (old)
		put(c, "jump to run user%d\r\n\r\n", slot);
	else
		put(c, "jump to run user%d @ %x\r\n\r\n", slot, (unsigned)slot_addr[slot]);
	if (!sim_image_slot_valid(&c->fl, slot_addr[slot])) {
		int other = slot == 1 ? 2 : 1;

		put(c, "error magic!\r\n");
		/* boot_v1.6+ try the other slot (log 27: `backup boot failed.` when it is bad too).
		 * What they print when the backup is good is not in the sources: nothing. */
		if (minor >= 6 && slot_addr[other] != 0 && sim_image_slot_valid(&c->fl, slot_addr[other]))
			slot = other;
		else {
			if (minor >= 6)
				put(c, "backup boot failed.\r\n");
			/* The 2nd stage returns to the ROM (bootlog.md §4, log 27). */
			put(c, "\r\nuser code done\r\n");
			emit(c, D_STAGE_US, c->rom_baud);
			finish(c, SIM_NEXT_HALT, c->env->rst_cause);
			return;
		}
	}
	emit(c, D_STAGE_US, c->rom_baud);
	nr = sim_image_app_ranges(&c->fl, slot_addr[slot], r, ARRAY_SIZE(r));
	run_app(c, r, nr, SIM_APP_CORE_NONOS);
}

/*
 * Arduino's eboot (bootlog.md §9, log 36): `v%08x` (a word from the application image: the first
 * word of its first segment's data), `~` (no command in RTC memory; the simulator keeps none),
 * `ld`, then the sketch at 0x1000. eboot's load failure is `e:N` and a software reset; an image
 * at 0x1000 without the 0xE9 magic fails at the header (e:1).
 */
static void
eboot(struct ctx *c)
{
	struct sim_image_seg r[20];
	size_t nr;

	put(c, "v%08x\r\n~ld\r\n", (unsigned)sim_image_rd32(&c->fl, 0x1000 + 16));
	if (sim_image_rd8(&c->fl, 0x1000) != SIM_IMAGE_MAGIC_V1) {
		put(c, "e:1\r\n");
		emit(c, D_STAGE_US, c->rom_baud);
		finish(c, SIM_NEXT_RESET, c->env->rst_cause);
		return;
	}
	emit(c, D_STAGE_US, c->rom_baud);
	nr = sim_image_app_ranges(&c->fl, 0x1000, r, ARRAY_SIZE(r));
	run_app(c, r, nr, SIM_APP_CORE_ARDUINO);
}

/*
 * rBoot (bootlog.md §10, log 29; raburton/rboot): its banner from the header at 0x0, its config
 * in sector 1 (magic 0xE1, version 1, mode, current_rom, gpio_rom, count, 2 unused bytes, then
 * up to 4 ROM addresses), then the first good ROM from current_rom backwards. The line layout
 * is log 29's (v1.2.1). A boot model cannot write the flash, so an invalid config is reported
 * (`Writing default boot config.`) on every boot instead of being written once. GPIO16 ROM
 * selection is not modelled.
 */
static void
rboot(struct ctx *c, const char *ver)
{
	static const char *const sizes[5] = { "4 Mbit", "2 Mbit", "8 Mbit", "16 Mbit", "32 Mbit" };
	uint8_t mode = sim_image_rd8(&c->fl, 2), sf = sim_image_rd8(&c->fl, 3), cfg[24];
	unsigned nib = sf >> 4, count, cur, n;
	uint32_t fsize = nib < 5 ? sim_image_flash_bytes(nib) : 0x80000u, roms[4];
	struct sim_image_seg r[20];
	size_t nr;

	put(c, "\r\nrBoot v%s - richardaburton@gmail.com\r\n", ver);
	put(c, "Flash Size:   %s\r\n", nib < 5 ? sizes[nib] : "unknown");
	put(c, "Flash Mode:   %s\r\n", mode < 4 ? sim_image_mode_str(mode) : "unknown");
	switch (sf & 15) {
	case 0: put(c, "Flash Speed:  40 MHz\r\n"); break;
	case 1: put(c, "Flash Speed:  26.7 MHz\r\n"); break;
	case 2: put(c, "Flash Speed:  20 MHz\r\n"); break;
	case 15: put(c, "Flash Speed:  80 MHz\r\n"); break;
	default: put(c, "Flash Speed:  unknown\r\n"); break;
	}
	put(c, "rBoot Option: Big flash\r\n\r\n");
	sim_image_read(&c->fl, 0x1000, cfg, sizeof cfg);
	if (cfg[0] != 0xE1 || cfg[1] != 0x01) {
		put(c, "Writing default boot config.\r\n");
		cur = 0;
		count = 2;
		roms[0] = 0x2000;
		roms[1] = fsize / 2 + 0x2000;
	} else {
		cur = cfg[3];
		count = cfg[5] > 4 ? 4 : cfg[5];
		for (unsigned i = 0; i < 4; i++)
			roms[i] = rd_le32(cfg + 8 + 4 * i);
	}
	if (count == 0) {
		put(c, "No good rom available.\r\n\r\nuser code done\r\n");
		emit(c, D_STAGE_US, c->rom_baud);
		finish(c, SIM_NEXT_HALT, c->env->rst_cause);
		return;
	}
	if (cur >= count) {
		put(c, "Invalid rom selected, defaulting to 0.\r\n");
		cur = 0;
	}
	n = cur;
	while (!sim_image_rboot_ok(&c->fl, roms[n])) {
		put(c, "Rom %u is bad.\r\n\r\n", n);
		n = n == 0 ? count - 1 : n - 1;
		if (n == cur) {
			/* rBoot returns to the ROM (bootlog.md §10). */
			put(c, "No good rom available.\r\n\r\nuser code done\r\n");
			emit(c, D_STAGE_US, c->rom_baud);
			finish(c, SIM_NEXT_HALT, c->env->rst_cause);
			return;
		}
	}
	put(c, "Booting rom %u.\r\n\r\n", n);
	emit(c, D_STAGE_US, c->rom_baud);
	nr = sim_image_app_ranges(&c->fl, roms[n], r, ARRAY_SIZE(r));
	run_app(c, r, nr, SIM_APP_CORE_NONOS);
}

/* "rBoot v" in a loaded segment: 1 and the version (up to the next space) in ver. */
static int
find_rboot(struct ctx *c, const struct sim_image_rom *rom, char *ver, size_t vsize)
{
	static const char key[] = "rBoot v";
	const size_t klen = sizeof key - 1;
	int found = 0;

	for (unsigned i = 0; i < rom->nseg && !found; i++) {
		uint32_t len = rom->seg[i].len;
		uint8_t *b;

		if (len < klen)
			continue;
		b = xmalloc(len);
		sim_image_read(&c->fl, rom->seg[i].flash_off, b, len);
		for (uint32_t k = 0; k + klen <= len && !found; k++) {
			size_t n = 0;

			if (b[k] != 'r' || memcmp(b + k, key, klen) != 0)
				continue;
			for (uint32_t j = k + (uint32_t)klen; j < len && n + 1 < vsize; j++) {
				if (!((b[j] >= '0' && b[j] <= '9') || b[j] == '.'))
					break;
				ver[n++] = (char)b[j];
			}
			ver[n] = '\0';
			found = n > 0;
		}
		free(b);
	}
	return found;
}

static void
flash_boot(struct ctx *c)
{
	struct sim_image_rom *rom = xmalloc(sizeof *rom);
	uint32_t total = 0;
	char ver[40];

	/* bootlog.md §13, protocol.md §13.3 item 2, devices.md §3: the ESP8285's flash is wired
	 * for DOUT; a QIO/QOUT/DIO header makes the ROM read garbage after the first block. (Some
	 * ESP8285 Sonoffs are reported to run DIO images, devices.md §3; the issue asks for the
	 * stricter model.) */
	if (c->env->esp8285 && (sim_image_rd8(&c->fl, 2) & 3) != SIM_MODE_DOUT)
		c->fl.garble_at = 16;
	sim_image_rom_load(&c->fl, 0, &c->t, rom);
	for (unsigned i = 0; i < rom->nseg; i++)
		total += rom->seg[i].len;
	emit(c, D_BANNER_US + total / 4, c->rom_baud);
	c->fl.garble_at = UINT32_MAX;
	if (rom->status != SIM_ROM_LOADED) {
		/* `ets_main.c` or a wedged load: nothing more (bootlog.md §4). */
		finish(c, SIM_NEXT_HALT, c->env->rst_cause);
	} else if (find_2nd_stage(c, rom, ver, sizeof ver))
		nonos_boot(c, ver);
	else if (find_rboot(c, rom, ver, sizeof ver))
		rboot(c, ver);
	else if (rom->nseg == 1 && rom->seg[0].load_addr == 0x4010f000u)
		eboot(c);  /* bootlog.md §9: eboot is one segment at 0x4010f000 */
	else {
		/* Anything else is an application the ROM started directly (a non-OTA NONOS app,
		 * log 05). Its script, if any, lives in its segments. */
		struct sim_image_seg r[SIM_IMAGE_MAX_SEGS];
		size_t nr = sim_image_app_ranges(&c->fl, 0, r, ARRAY_SIZE(r));

		run_app(c, r, nr, SIM_APP_CORE_NONOS);
	}
	free(rom);
}

void
sim_boot_plan(const struct sim_boot_env *env, struct sim_boot_plan *plan)
{
	static const uint8_t blank = 0xFF;
	struct ctx c;
	int x;

	memset(plan, 0, sizeof *plan);
	memset(&c, 0, sizeof c);
	c.env = env;
	c.plan = plan;
	c.fl.data = env->flash != NULL && env->flash_size > 0 ? env->flash : &blank;
	c.fl.size = env->flash != NULL && env->flash_size > 0 ? env->flash_size : 1;
	c.fl.garble_at = UINT32_MAX;
	c.rom_baud = sim_boot_rom_baud(env->xtal_hz);
	buf_init(&c.t);

	/* bootlog.md §3: x = GPIO15 << 2 | GPIO0 << 1 | GPIO2. */
	x = (env->gpio15 ? 4 : 0) | (env->gpio0 ? 2 : 0) | (env->gpio2 ? 1 : 0);
	/* The banner and the empty line after it (logs 01, 10, 13, 17, 19, 22: "\r\n\r\n"; in
	 * log 10 the empty line also follows a download-mode banner). */
	put(&c, "\r\n ets Jan  8 2013,rst cause:%d, boot mode:(%d,%d)\r\n\r\n", (int)env->rst_cause, x,
	    boot_mode_y(env, x));
	/* bootlog.md §2: after a hardware watchdog reset the ROM adds `wdt reset` (logs 04, 10,
	 * 36), in every boot mode (log 10 shows it in UART mode). */
	if (env->rst_cause == SIM_RST_WDT)
		put(&c, "wdt reset\r\n");

	if (x >= 4) {
		/* GPIO15 high: SDIO boot (log 13). */
		put(&c, "waiting for host\r\n");
		emit(&c, D_BANNER_US, c.rom_baud);
		finish(&c, SIM_NEXT_HALT, env->rst_cause);
	} else if (x == 1) {
		/* GPIO0 low: UART download, silent (log 08). */
		emit(&c, D_BANNER_US, c.rom_baud);
		finish(&c, SIM_NEXT_DOWNLOAD, env->rst_cause);
	} else if (x == 0 || x == 2) {
		/* GPIO2 low (x = 2, or 0 with GPIO0 low too; bootlog.md §13): the ROM jumps into
		 * uninitialised IRAM and loops on a fatal exception (log 17, verbatim). */
		static const char fatal[] = "Fatal exception (28):\r\n"
		    "epc1=0x40100000, epc2=0x00000000, epc3=0x00000000, excvaddr=0x00000004, "
		    "depc=0x00000000\r\n";

		emit(&c, D_BANNER_US, c.rom_baud);
		add_step(&plan->loop, &plan->nloop, D_ROM_LOOP_US, c.rom_baud, fatal, sizeof fatal - 1);
		finish(&c, SIM_NEXT_APP_LOOP, env->rst_cause);
	} else {
		flash_boot(&c);
	}
	buf_free(&c.t);
}

void
sim_boot_plan_free(struct sim_boot_plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->nsteps; i++)
		free(plan->steps[i].text);
	for (size_t i = 0; i < plan->nloop; i++)
		free(plan->loop[i].text);
	free(plan->steps);
	free(plan->loop);
	memset(plan, 0, sizeof *plan);
}
