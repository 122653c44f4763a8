/*
 * bootlog_diag.c: from events to one cause. The rules follow the boot order of the chip
 * (bootlog.md): the straps decide whether it boots from flash at all (§3), the ROM loader
 * whether the image at 0x0 reads back (§4), the 2nd stage whether an OTA slot is valid
 * (§8-§11), the SDK whether its system sectors sit where the header's flash size says (§8,
 * protocol.md §13.3), and only then can the application crash or starve a watchdog (§6-§7).
 * The first stage that fails explains everything after it, so the rules are tried in that order.
 */
#include "config.h"

#include "bootlog/bootlog_diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

/* Signals: each keeps the first line that showed it. */
enum sig {
	S_BANNER, S_BANNER_DL, S_BANNER_SDIO, S_BANNER_STRAP, S_BANNER_WDT, S_BANNER_POWERON,
	S_WDT_LINE, S_WAITING_HOST,
	S_CSUM_ERR, S_ETS_MAIN, S_LOAD_ZERO, S_CHKSUM_EF, S_CHKSUM_BAD, S_CSUM_OK,
	S_ERROR_MAGIC, S_BACKUP_FAILED, S_FIRST_FAILED, S_FLAG_ERROR, S_RBOOT_BAD, S_RBOOT_NO_GOOD,
	S_RBOOT_INVALID, S_USER_CODE_DONE, S_IDF_PART, S_EBOOT_ERR,
	S_RF_CAL, S_SYS_PARAM, S_MISMATCH_MAP, S_SDK_PART_FAIL,
	S_EXCEPTION, S_EXC_REGS, S_CTX, S_SOFT_WDT, S_PANIC, S_SP,
	S_RESTART, S_GARBAGE, S_SPI_MODE, S_SPI_SIZE, S_HANDOFF, S_APP, S_BANNER_CUT,
	S_COUNT
};

_Static_assert(S_COUNT <= BL_SIG_COUNT, "BL_SIG_COUNT too small");
_Static_assert(S_COUNT <= 64, "signals must fit the per-boot mask");

static const char *const cause_names[BL_CAUSE_COUNT] = {
	[BL_CAUSE_HEALTHY] = "healthy",
	[BL_CAUSE_DOWNLOAD_MODE] = "download-mode",
	[BL_CAUSE_SDIO_MODE] = "sdio-mode",
	[BL_CAUSE_STRAPPING_ERROR] = "strapping-error",
	[BL_CAUSE_FLASH_MODE_MISMATCH] = "flash-mode-mismatch",
	[BL_CAUSE_IMAGE_CORRUPT] = "image-corrupt",
	[BL_CAUSE_OTA_SLOT_INVALID] = "ota-slot-invalid",
	[BL_CAUSE_RF_INIT_DATA] = "rf-init-data",
	[BL_CAUSE_FLASH_SIZE_MISMATCH] = "flash-size-mismatch",
	[BL_CAUSE_HW_WATCHDOG] = "hw-watchdog",
	[BL_CAUSE_SOFT_WATCHDOG] = "soft-watchdog",
	[BL_CAUSE_EXCEPTION] = "exception",
	[BL_CAUSE_POWER_SUPPLY] = "power-supply",
	[BL_CAUSE_WRONG_BAUD] = "wrong-baud",
};

/* What fixes each cause (bootlog.md, protocol.md §13). */
static const char *const cause_advice[BL_CAUSE_COUNT] = {
	[BL_CAUSE_HEALTHY] = "Nothing to fix: the device boots normally.",
	[BL_CAUSE_DOWNLOAD_MODE] = "GPIO0 was low at reset, so the ROM waits for a flasher. Release "
	    "the button/GPIO0 and reset; after a serial upload power-cycle once, since a soft restart "
	    "keeps the download strap.",
	[BL_CAUSE_SDIO_MODE] = "GPIO15 was high at reset (SDIO boot). GPIO15 needs a pull-down "
	    "(about 10k to GND); check nothing on the board drives it high.",
	[BL_CAUSE_STRAPPING_ERROR] = "The boot straps are invalid: GPIO2 must be high (pull-up) and "
	    "GPIO15 low at reset. Check pull-ups/pull-downs and whatever is wired to GPIO0/2/15.",
	[BL_CAUSE_FLASH_MODE_MISMATCH] = "The image's flash mode does not suit this flash: rewrite it "
	    "with the mode the chip supports (ESP8285 and most Sonoff boards need DOUT, others DIO: "
	    "write-flash --flash-mode dout, or the guided flash, which takes it from the profile).",
	[BL_CAUSE_IMAGE_CORRUPT] = "The image in flash does not read back as written: erase and "
	    "rewrite it (bootloader at 0x0 included), then verify with an MD5 read-back.",
	[BL_CAUSE_OTA_SLOT_INVALID] = "The selected OTA slot holds no valid image: flash the missing "
	    "slot (user2/rom1) or reset the boot selection to the slot that is valid.",
	[BL_CAUSE_RF_INIT_DATA] = "The RF init data sector is missing or stale: write "
	    "esp_init_data_default.bin at flash size - 0x4000 (0xFC000 on 1 MB, 0x3FC000 on 4 MB) "
	    "and blank.bin at size - 0x2000.",
	[BL_CAUSE_FLASH_SIZE_MISMATCH] = "The flash size in the image header does not match the "
	    "chip or the firmware: rewrite with the right -fs (or keep the dump's own header) and "
	    "restore the system sectors at the end of that size.",
	[BL_CAUSE_HW_WATCHDOG] = "The hardware watchdog fired: code blocked with interrupts off or "
	    "starved the soft watchdog, flash pins GPIO6-11 were touched, or the supply dipped. Add "
	    "yield()/delay() in long loops and check the 3.3 V rail under Wi-Fi load.",
	[BL_CAUSE_SOFT_WATCHDOG] = "The sketch blocked loop() for seconds without yielding: add "
	    "yield() or delay(0) in long loops and avoid busy waits.",
	[BL_CAUSE_EXCEPTION] = "The application crashed: decode the stack dump against the ELF "
	    "(EspExceptionDecoder or addr2line with epc1) to find the faulting line.",
	[BL_CAUSE_POWER_SUPPLY] = "The chip resets without any crash report: the supply sags or EN/RST "
	    "is noisy. Use a 3.3 V source of at least 300-500 mA, add a 470 uF capacitor near the "
	    "module and check the EN and RST pull-ups.",
	[BL_CAUSE_WRONG_BAUD] = "The log was read at the wrong baud: the boot ROM prints at 74880, "
	    "most applications at 115200. Reopen the port at the suggested rate.",
};

const char *
bootlog_cause_name(enum bootlog_cause c)
{
	if (c >= 0 && c < BL_CAUSE_COUNT)
		return cause_names[c];
	return "none";
}

enum bootlog_cause
bootlog_cause_from_name(const char *s)
{
	for (int c = 0; c < BL_CAUSE_COUNT; c++)
		if (strcmp(cause_names[c], s) == 0)
			return (enum bootlog_cause)c;
	return BL_CAUSE_NONE;
}

void
bootlog_facts_init(struct bootlog_facts *f)
{
	memset(f, 0, sizeof *f);
	f->chip = BL_CHIP_UNKNOWN;
	f->flash_mode = -1;
	f->hdr_mode = -1;
	f->foreign_dump = -1;
}

static void
boot_reset(struct bootlog_boot *b)
{
	memset(b, 0, sizeof *b);
	b->time_ms = -1;
	b->rst_cause = b->mode = -1;
}

void
bootlog_diag_init(struct bootlog_diag *d)
{
	memset(d, 0, sizeof *d);
	boot_reset(&d->pre);
	d->first_ms = d->last_ms = -1;
	d->exc_cause = -1;
	d->spi_mode = d->spi_size_mbit = -1;
}

static struct bootlog_boot *
cur_boot(struct bootlog_diag *d)
{
	return d->boots ? &d->hist[(d->boots - 1) % BOOTLOG_DIAG_HISTORY] : &d->pre;
}

static const struct bootlog_boot *
boot_at(const struct bootlog_diag *d, unsigned back)
{
	if (back >= d->boots || back >= BOOTLOG_DIAG_HISTORY)
		return NULL;
	return &d->hist[(d->boots - 1 - back) % BOOTLOG_DIAG_HISTORY];
}

static void
sig(struct bootlog_diag *d, enum sig s, const struct bootlog_event *ev)
{
	struct bootlog_evidence *e = &d->sig[s];

	cur_boot(d)->sigs |= (uint64_t)1 << s;
	d->sig_count[s]++;
	if (e->lineno != 0)
		return;
	e->lineno = ev->lineno;
	e->len = ev->len - ev->skip < BOOTLOG_EVIDENCE_LEN ? ev->len - ev->skip : BOOTLOG_EVIDENCE_LEN;
	memcpy(e->text, ev->text + ev->skip, e->len);
	/* Trailing blanks carry nothing. */
	while (e->len > 0 && (e->text[e->len - 1] == ' ' || e->text[e->len - 1] == '\t'))
		e->len--;
}

/* The three boot_v1.x builds whose segments are known (bootlog.md §4, §13: lengths; the
 * checksums are those of the healthy boots in the log collection, files 01, 02 and 27). */
static const struct {
	int64_t len[3], chk[3];
} known_boot[] = {
	{ { 1856, 776, 552 }, { 0x63, 0x02, 0x79 } },  /* boot_v1.5 */
	{ { 2408, 776, 632 }, { 0xe5, 0x84, 0xd8 } },  /* boot_v1.6 */
	{ { 2592, 764, 676 }, { 0xf3, 0x92, 0x22 } },  /* boot_v1.7 */
};

/* A known bootloader whose segment checksums differ from the known-good ones. */
static int
bootloader_damaged(const struct bootlog_diag *d)
{
	if (d->seg_n != 3)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(known_boot); k++) {
		int same_len = 1, same_chk = 1;

		for (int i = 0; i < 3; i++) {
			same_len &= d->seg_len[i] == known_boot[k].len[i];
			same_chk &= d->seg_chk[i] == known_boot[k].chk[i];
		}
		if (same_len)
			return !same_chk;
	}
	return 0;
}

static int
nonempty(const struct bootlog_event *ev)
{
	for (size_t i = ev->skip; i < ev->len; i++)
		if (ev->text[i] != ' ' && ev->text[i] != '\t')
			return 1;
	return 0;
}

void
bootlog_diag_event(struct bootlog_diag *d, const struct bootlog_event *ev, int64_t now_ms)
{
	struct bootlog_boot *b = cur_boot(d);
	int cut = (ev->flags & BOOTLOG_F_CUT) != 0;

	d->lines++;
	if (nonempty(ev))
		d->nonempty_lines++;
	switch (ev->kind) {
	case BL_ROM_BANNER:
		b->ended_cut = d->last_cut;
		if (d->last_cut)
			sig(d, S_BANNER_CUT, ev);
		d->boots++;
		b = cur_boot(d);
		boot_reset(b);
		b->lineno = ev->lineno;
		b->time_ms = now_ms;
		b->rst_cause = (int)ev->n[0];
		b->mode = (int)ev->n[1];
		b->stage = BL_STAGE_ROM;
		b->requested = d->restart_pending;
		d->restart_pending = 0;
		d->seg_n = 0;
		if (now_ms >= 0) {
			if (d->first_ms < 0)
				d->first_ms = now_ms;
			d->last_ms = now_ms;
		}
		sig(d, S_BANNER, ev);
		if (ev->n[1] == 1)
			sig(d, S_BANNER_DL, ev);
		else if (ev->n[1] >= 4 && ev->n[1] <= 7)
			sig(d, S_BANNER_SDIO, ev);
		else if (ev->n[1] == 0 || ev->n[1] == 2)
			sig(d, S_BANNER_STRAP, ev);
		if (ev->n[0] == 4)
			sig(d, S_BANNER_WDT, ev);
		else if (ev->n[0] == 1)
			sig(d, S_BANNER_POWERON, ev);
		break;
	case BL_ROM_WDT_RESET:
		sig(d, S_WDT_LINE, ev);
		break;
	case BL_ROM_WAITING_HOST:
		sig(d, S_WAITING_HOST, ev);
		break;
	case BL_ROM_LOAD:
		if (ev->n[0] == 0 && ev->n[1] == 0)
			sig(d, S_LOAD_ZERO, ev);
		if (d->seg_n < 4)
			d->seg_len[d->seg_n] = ev->n[1];
		break;
	case BL_ROM_CHKSUM:
		if (d->seg_n < 4) {
			d->seg_chk[d->seg_n] = ev->n[0];
			if (ev->n[0] == 0xef && d->seg_len[d->seg_n] > 0)
				sig(d, S_CHKSUM_EF, ev);
		}
		d->seg_n++;
		break;
	case BL_ROM_CSUM:
		if (bootloader_damaged(d))
			sig(d, S_CHKSUM_BAD, ev);
		sig(d, S_CSUM_OK, ev);
		if (b->stage < BL_STAGE_LOADER)
			b->stage = BL_STAGE_LOADER;
		break;
	case BL_ROM_CSUM_ERR:
		sig(d, S_CSUM_ERR, ev);
		break;
	case BL_ROM_ETS_MAIN:
		sig(d, S_ETS_MAIN, ev);
		break;
	case BL_ROM_USER_CODE_DONE:
		sig(d, S_USER_CODE_DONE, ev);
		break;
	case BL_BOOT_SPI_MODE:
	case BL_RBOOT_FLASH_MODE:
		d->spi_mode = (int)ev->n[0];
		sig(d, S_SPI_MODE, ev);
		break;
	case BL_BOOT_SPI_SIZE:
	case BL_RBOOT_FLASH_SIZE:
		d->spi_size_mbit = (int)ev->n[0];
		sig(d, S_SPI_SIZE, ev);
		break;
	case BL_BOOT_VERSION:
	case BL_RBOOT_BANNER:
	case BL_IDF_BOOT:
	case BL_EBOOT_VERSION:
		if (b->stage < BL_STAGE_LOADER)
			b->stage = BL_STAGE_LOADER;
		break;
	case BL_BOOT_JUMP:
	case BL_EBOOT_LOAD:
	case BL_RBOOT_BOOTING:
		b->stage = BL_STAGE_APP;
		sig(d, S_HANDOFF, ev);
		break;
	case BL_BOOT_ERROR_MAGIC:
		sig(d, S_ERROR_MAGIC, ev);
		break;
	case BL_BOOT_BACKUP_FAILED:
		sig(d, S_BACKUP_FAILED, ev);
		break;
	case BL_BOOT_FIRST_FAILED:
		sig(d, S_FIRST_FAILED, ev);
		break;
	case BL_BOOT_FLAG_ERROR:
		sig(d, S_FLAG_ERROR, ev);
		break;
	case BL_RBOOT_BAD:
		sig(d, S_RBOOT_BAD, ev);
		break;
	case BL_RBOOT_NO_GOOD:
		sig(d, S_RBOOT_NO_GOOD, ev);
		break;
	case BL_RBOOT_INVALID_ROM:
		sig(d, S_RBOOT_INVALID, ev);
		break;
	case BL_IDF_PART_ERROR:
		sig(d, S_IDF_PART, ev);
		break;
	case BL_EBOOT_ERROR:
		sig(d, S_EBOOT_ERR, ev);
		break;
	case BL_SDK_RF_CAL:
		b->stage = BL_STAGE_APP;
		sig(d, S_RF_CAL, ev);
		break;
	case BL_SDK_SYS_PARAM:
		b->stage = BL_STAGE_APP;
		sig(d, S_SYS_PARAM, ev);
		break;
	case BL_SDK_MISMATCH_MAP:
		b->stage = BL_STAGE_APP;
		sig(d, S_MISMATCH_MAP, ev);
		break;
	case BL_SDK_PARTITION:
		b->stage = BL_STAGE_APP;
		if (ev->n[0])
			sig(d, S_SDK_PART_FAIL, ev);
		break;
	case BL_SDK_VERSION:
	case BL_SDK_RF_CAL_SECTOR:
		b->stage = BL_STAGE_APP;
		b->app_lines++;
		sig(d, S_APP, ev);
		break;
	case BL_EXCEPTION:
		if (d->exc_cause < 0) {
			d->exc_cause = (int)ev->n[0];
			d->exc_sdk = ev->n[1] == 0;
			d->exc_lines_after_start = b->app_lines;
		}
		b->stage = BL_STAGE_APP;
		sig(d, S_EXCEPTION, ev);
		break;
	case BL_EXC_REGS:
		if (!d->exc_regs) {
			d->exc_regs = 1;
			d->exc_epc1 = (uint32_t)ev->n[0];
			d->exc_vaddr = (uint32_t)ev->n[3];
		}
		sig(d, S_EXC_REGS, ev);
		break;
	case BL_EXC_CTX:
		if (d->sig[S_CTX].lineno == 0)
			d->exc_ctx = (int)ev->n[0];
		sig(d, S_CTX, ev);
		break;
	case BL_EXC_SP:
		sig(d, S_SP, ev);
		break;
	case BL_SOFT_WDT:
		b->stage = BL_STAGE_APP;
		sig(d, S_SOFT_WDT, ev);
		break;
	case BL_PANIC:
		sig(d, S_PANIC, ev);
		break;
	case BL_RESTART:
		d->restart_pending = 1;
		sig(d, S_RESTART, ev);
		break;
	case BL_GARBAGE:
		d->garbage_lines++;
		d->garbage_baud = ev->baud;
		sig(d, S_GARBAGE, ev);
		break;
	case BL_TEXT:
		if (nonempty(ev)) {
			d->readable_lines++;
			/* Readable text after the ROM handed over (or with no banner at all) is the
			 * application talking. */
			if (b->stage >= BL_STAGE_LOADER || d->boots == 0) {
				b->app_lines++;
				if (b->stage == BL_STAGE_LOADER && d->boots > 0)
					b->stage = BL_STAGE_APP;
				/* A stray byte or two is no proof that an application talks. */
				if (ev->len - ev->skip >= 4)
					sig(d, S_APP, ev);
			}
		}
		break;
	default:
		break;
	}
	d->last_cut = cut;
}

/* ---- verdict ---- */

struct vctx {
	const struct bootlog_diag *d;
	struct bootlog_verdict *v;
};

static void
add_ev(struct vctx *c, enum sig s)
{
	const struct bootlog_evidence *e = &c->d->sig[s];
	struct bootlog_verdict *v = c->v;

	if (e->lineno == 0 || v->nevidence >= BOOTLOG_EVIDENCE_MAX)
		return;
	for (size_t i = 0; i < v->nevidence; i++)
		if (v->evidence[i].lineno == e->lineno)
			return;
	v->evidence[v->nevidence++] = *e;
}

static void
set(struct vctx *c, enum bootlog_cause cause, double conf, enum bootlog_cause alt,
    const char *check, const char *summary)
{
	c->v->cause = cause;
	c->v->confidence = conf;
	c->v->alt = alt;
	c->v->check = check;
	snprintf(c->v->summary, sizeof c->v->summary, "%s", summary);
}

static int
has(const struct bootlog_diag *d, enum sig s)
{
	return d->sig[s].lineno != 0;
}

/* The mode the board's flash supports at best, from the facts; -1 unknown. */
static int
board_mode(const struct bootlog_facts *f)
{
	if (f == NULL)
		return -1;
	if (f->flash_mode >= 0)
		return f->flash_mode;
	if (f->chip == BL_CHIP_ESP8285)
		return 3; /* embedded flash wired for DOUT only (devices.md) */
	return -1;
}

/* 1: the header's mode is faster than the board supports; 0: it fits; -1: unknown.
 * Modes are ordered QIO 0 < QOUT 1 < DIO 2 < DOUT 3, from most to fewest data lines. */
static int
mode_mismatch(const struct bootlog_facts *f, int hdr_mode)
{
	int bm = board_mode(f);

	if (bm < 0 || hdr_mode < 0 || hdr_mode > 3)
		return -1;
	return hdr_mode < bm;
}

/* 1: the header's flash size exceeds the chip; 0: fits; -1: unknown. */
static int
size_mismatch(const struct bootlog_facts *f, const struct bootlog_diag *d)
{
	uint32_t hdr = 0;

	if (f == NULL || f->flash_size == 0)
		return -1;
	if (f->hdr_size != 0)
		hdr = f->hdr_size;
	else if (d->spi_size_mbit > 0)
		hdr = (uint32_t)d->spi_size_mbit * 131072u;
	if (hdr == 0)
		return -1;
	return hdr > f->flash_size;
}

static int
header_mode(const struct bootlog_facts *f, const struct bootlog_diag *d)
{
	if (f != NULL && f->hdr_mode >= 0)
		return f->hdr_mode;
	return d->spi_mode;
}

/* Boots that ended in the next banner without a word of why: no crash, no watchdog report, no
 * restart request. Counted over the history. */
static unsigned
silent_resets(const struct bootlog_diag *d)
{
	const uint64_t loud = ((uint64_t)1 << S_EXCEPTION) | ((uint64_t)1 << S_SOFT_WDT) |
	    ((uint64_t)1 << S_PANIC) | ((uint64_t)1 << S_RF_CAL) | ((uint64_t)1 << S_SYS_PARAM) |
	    ((uint64_t)1 << S_ETS_MAIN) | ((uint64_t)1 << S_USER_CODE_DONE) |
	    ((uint64_t)1 << S_MISMATCH_MAP) | ((uint64_t)1 << S_EBOOT_ERR);
	unsigned n = 0;

	for (unsigned back = 1; back < d->boots && back < BOOTLOG_DIAG_HISTORY; back++) {
		const struct bootlog_boot *b = boot_at(d, back), *next = boot_at(d, back - 1);

		if (b->mode != 3 || (b->sigs & loud) != 0 || next->requested)
			continue;
		if (next->rst_cause == 1 || next->rst_cause == 2 || b->ended_cut)
			n++;
	}
	return n;
}

static void
verdict_rules(struct vctx *c, const struct bootlog_facts *f)
{
	const struct bootlog_diag *d = c->d;
	const struct bootlog_boot *last = d->boots ? boot_at(d, 0) : &d->pre;
	int mode = last->mode;
	int hmode = header_mode(f, d), mm = mode_mismatch(f, hmode), sm = size_mismatch(f, d);
	int fault_after_jump;

	/* 1. Straps (§3): the last boot's mode decides whether the chip tried flash at all. */
	if (mode == 1) {
		set(c, BL_CAUSE_DOWNLOAD_MODE, 0.95, BL_CAUSE_NONE, NULL,
		    "boot mode 1 = UART download: GPIO0 was low at reset (or the strap latched during a "
		    "serial flash survived a soft restart), so the ROM waits for a flasher.");
		add_ev(c, S_BANNER_DL);
		add_ev(c, S_WDT_LINE);
		return;
	}
	if (mode >= 4 && mode <= 7) {
		set(c, BL_CAUSE_SDIO_MODE, 0.95, BL_CAUSE_NONE, NULL,
		    "boot mode 4-7 = SDIO boot: GPIO15 read high at reset.");
		add_ev(c, S_BANNER_SDIO);
		add_ev(c, S_WAITING_HOST);
		return;
	}
	if (mode == 0 || mode == 2) {
		set(c, BL_CAUSE_STRAPPING_ERROR, 0.9, BL_CAUSE_NONE, NULL,
		    mode == 2 ? "boot mode 2 = GPIO15 0, GPIO0 1, GPIO2 0: an invalid strap; the ROM "
		    "jumps into uninitialised IRAM and crashes." :
		    "boot mode 0 = GPIO15, GPIO0 and GPIO2 all low: an invalid strap.");
		add_ev(c, S_BANNER_STRAP);
		add_ev(c, S_EXCEPTION);
		add_ev(c, S_EXC_REGS);
		return;
	}

	/* 2. ROM loader (§4): the image at 0x0 did not read back. */
	if (has(d, S_CSUM_ERR) || has(d, S_LOAD_ZERO) || (has(d, S_ETS_MAIN) && !has(d, S_CSUM_OK))) {
		if (has(d, S_CHKSUM_BAD) && mm != 1) {
			set(c, BL_CAUSE_IMAGE_CORRUPT, 0.75, BL_CAUSE_FLASH_MODE_MISMATCH,
			    "Read back the first 4 KB and compare it with the boot_v1.x.bin you flashed.",
			    "A known boot_v1.x loaded with the right segment lengths but a checksum that "
			    "differs from the known-good one: the bootloader bytes in flash are damaged.");
			add_ev(c, S_CHKSUM_BAD);
		} else if (mm == 1) {
			set(c, BL_CAUSE_FLASH_MODE_MISMATCH, 0.95, BL_CAUSE_NONE, NULL,
			    "The ROM could not read the image back, and its header asks for a flash mode "
			    "this board does not support.");
		} else if (mm == 0) {
			set(c, BL_CAUSE_IMAGE_CORRUPT, 0.7, BL_CAUSE_NONE, NULL,
			    "The ROM could not read the image back although the header's flash mode suits "
			    "the board: the image at 0x0 is damaged or missing.");
		} else if (has(d, S_LOAD_ZERO)) {
			set(c, BL_CAUSE_FLASH_MODE_MISMATCH, 0.5, BL_CAUSE_IMAGE_CORRUPT,
			    "Read the first 16 bytes at 0x0: no 0xE9 magic means nothing valid was flashed "
			    "there; a valid header means the mode (byte 2) does not suit this flash.",
			    "The segment header at 0x0 read as zeros: the flash answered in the wrong mode, "
			    "or nothing valid is at 0x0.");
		} else {
			set(c, BL_CAUSE_FLASH_MODE_MISMATCH, 0.6, BL_CAUSE_IMAGE_CORRUPT,
			    "Check byte 2 of the image header (0 QIO, 1 QOUT, 2 DIO, 3 DOUT) against what "
			    "the board supports (ESP8285/Sonoff: DOUT); if it already fits, verify the "
			    "image with an MD5 read-back.",
			    "csum err: the ROM loaded the image but the checksum did not match. The usual "
			    "reason is a flash mode the flash cannot do (QIO/DIO on a DIO/DOUT part).");
		}
		add_ev(c, S_LOAD_ZERO);
		add_ev(c, S_CHKSUM_EF);
		add_ev(c, S_CSUM_ERR);
		add_ev(c, S_ETS_MAIN);
		add_ev(c, S_SPI_MODE);
		return;
	}

	/* 3. SDK map check and 2nd stage (§8-§11, protocol.md §13.3). */
	if (has(d, S_MISMATCH_MAP)) {
		set(c, BL_CAUSE_FLASH_SIZE_MISMATCH, 0.9, BL_CAUSE_NONE, NULL,
		    "The SDK reports that the flash map it was built for differs from the header's.");
		add_ev(c, S_MISMATCH_MAP);
		add_ev(c, S_SPI_SIZE);
		return;
	}
	if (has(d, S_ERROR_MAGIC) || has(d, S_BACKUP_FAILED) || has(d, S_FIRST_FAILED) ||
	    has(d, S_FLAG_ERROR) || has(d, S_RBOOT_BAD) || has(d, S_RBOOT_NO_GOOD) ||
	    has(d, S_RBOOT_INVALID) || has(d, S_EBOOT_ERR)) {
		if (sm == 1) {
			set(c, BL_CAUSE_FLASH_SIZE_MISMATCH, 0.85, BL_CAUSE_OTA_SLOT_INVALID,
			    "Compare the header's flash size (byte 3 at 0x0) with the chip's real size.",
			    "The 2nd stage found no valid image in the selected slot, and the header "
			    "declares more flash than the chip has: the boot selection is read from "
			    "sectors beyond the real end of flash.");
		} else if (has(d, S_RBOOT_BAD) && has(d, S_HANDOFF) && !has(d, S_RBOOT_NO_GOOD)) {
			set(c, BL_CAUSE_OTA_SLOT_INVALID, 0.8, BL_CAUSE_NONE, NULL,
			    "rBoot found the selected ROM slot invalid and fell back to another slot, "
			    "which booted: the slot it was asked to boot was never written.");
		} else if (has(d, S_EBOOT_ERR)) {
			set(c, BL_CAUSE_IMAGE_CORRUPT, 0.7, BL_CAUSE_NONE, NULL,
			    "eboot could not read the application image after the bootloader.");
		} else {
			set(c, BL_CAUSE_OTA_SLOT_INVALID, 0.85, BL_CAUSE_NONE, NULL,
			    "The 2nd-stage bootloader found no valid image (0xE9 / 0xEA 0x04 magic) in "
			    "the OTA slot it selected, and no valid fallback.");
		}
		add_ev(c, S_HANDOFF);
		add_ev(c, S_ERROR_MAGIC);
		add_ev(c, S_FIRST_FAILED);
		add_ev(c, S_BACKUP_FAILED);
		add_ev(c, S_FLAG_ERROR);
		add_ev(c, S_RBOOT_INVALID);
		add_ev(c, S_RBOOT_BAD);
		add_ev(c, S_RBOOT_NO_GOOD);
		add_ev(c, S_EBOOT_ERR);
		add_ev(c, S_USER_CODE_DONE);
		if (sm == 1)
			add_ev(c, S_SPI_SIZE);
		return;
	}
	if (has(d, S_IDF_PART) || has(d, S_SDK_PART_FAIL)) {
		set(c, BL_CAUSE_IMAGE_CORRUPT, 0.7, BL_CAUSE_FLASH_SIZE_MISMATCH,
		    "Read the partition table at 0x8000 and compare it with the build's; check the "
		    "header's flash size against the partition layout.",
		    "The bootloader or SDK found no valid partition table or app partition.");
		add_ev(c, S_IDF_PART);
		add_ev(c, S_SDK_PART_FAIL);
		add_ev(c, S_USER_CODE_DONE);
		return;
	}
	if (has(d, S_USER_CODE_DONE)) {
		set(c, BL_CAUSE_IMAGE_CORRUPT, 0.5, BL_CAUSE_OTA_SLOT_INVALID,
		    "Read the bootloader's lines before 'user code done' at 74880 baud: an 'error "
		    "magic' or 'is bad' line means an empty OTA slot.",
		    "The code the ROM started returned to it without booting an application.");
		add_ev(c, S_USER_CODE_DONE);
		return;
	}

	/* 4. SDK start-up (§8): system parameters and RF init data. A dump from another unit
	 * carries that unit's RF calibration and parameters (protocol.md §13.1 sectors). */
	if (f != NULL && f->foreign_dump == 1 && sm != 1 && (has(d, S_RF_CAL) || has(d, S_SYS_PARAM))) {
		set(c, BL_CAUSE_RF_INIT_DATA, 0.8, BL_CAUSE_FLASH_SIZE_MISMATCH,
		    "Check the header's flash size against the chip first; if it fits, the sectors "
		    "from the other unit are the problem.",
		    "The flash was restored from another unit's dump, and the SDK rejects the RF init "
		    "data or system parameters it found: they belong to that unit.");
		add_ev(c, S_SYS_PARAM);
		add_ev(c, S_RF_CAL);
		return;
	}
	if (has(d, S_SYS_PARAM) && (has(d, S_RF_CAL) || d->boots >= 2 || sm == 1)) {
		set(c, BL_CAUSE_FLASH_SIZE_MISMATCH, 0.8, sm == 1 ? BL_CAUSE_NONE : BL_CAUSE_RF_INIT_DATA,
		    sm == 1 ? NULL : "Compare the header's flash size (byte 3 at 0x0) with the chip and "
		    "with what the firmware's SDK supports; if they agree, rewrite "
		    "esp_init_data_default.bin at size - 0x4000.",
		    "The SDK finds neither valid system parameters nor RF init data where the "
		    "header's flash size puts them: that size does not match the chip or the firmware.");
		add_ev(c, S_SYS_PARAM);
		add_ev(c, S_RF_CAL);
		add_ev(c, S_SPI_SIZE);
		return;
	}
	if (has(d, S_RF_CAL)) {
		if (sm == 1) {
			set(c, BL_CAUSE_FLASH_SIZE_MISMATCH, 0.8, BL_CAUSE_RF_INIT_DATA,
			    "Compare the header's flash size with the chip's.",
			    "The RF init data is looked up at the end of the header's flash size, which is "
			    "larger than the chip.");
		} else {
			set(c, BL_CAUSE_RF_INIT_DATA, 0.9, BL_CAUSE_NONE, NULL,
			    memmem(d->sig[S_RF_CAL].text, d->sig[S_RF_CAL].len, "0xFF", 4) != NULL ||
			    memmem(d->sig[S_RF_CAL].text, d->sig[S_RF_CAL].len, "0xff", 4) != NULL ?
			    "rf_cal[0] is 0xFF: the RF init data sector is erased, so the SDK refuses to "
			    "start." :
			    "rf_cal[0] is not 0x05: the RF init data sector is stale or at the wrong place "
			    "for this flash size.");
		}
		add_ev(c, S_RF_CAL);
		add_ev(c, S_SPI_SIZE);
		return;
	}

	/* 5. Header facts against a failing boot with no message of its own. */
	/* bootlog.md §13: the SDK's "Fatal exception (0)" right after the hand-over. The Arduino
	 * core's "Exception (0)" post-mortem runs from flash itself, so the cache works there. */
	fault_after_jump = has(d, S_EXCEPTION) && d->exc_cause == 0 && d->exc_sdk && d->exc_regs &&
	    strcmp(bootlog_region(d->exc_epc1), "flash-mapped code") == 0 &&
	    d->exc_lines_after_start <= 2 && has(d, S_HANDOFF);
	if (mm == 1 && (has(d, S_EXCEPTION) || last->stage < BL_STAGE_APP || fault_after_jump)) {
		set(c, BL_CAUSE_FLASH_MODE_MISMATCH, 0.85, BL_CAUSE_NONE, NULL,
		    "The image header asks for a flash mode the board does not support, and the boot "
		    "fails as code is read from flash.");
		add_ev(c, S_SPI_MODE);
		add_ev(c, S_HANDOFF);
		add_ev(c, S_EXCEPTION);
		add_ev(c, S_EXC_REGS);
		return;
	}
	if (fault_after_jump) {
		set(c, BL_CAUSE_FLASH_MODE_MISMATCH, 0.55, BL_CAUSE_EXCEPTION,
		    "Rewrite the image with --flash-mode dout (or dio): if the crash goes away it was "
		    "the flash mode; if not, decode epc1 against the ELF.",
		    "Illegal instruction at a flash-mapped address right after the bootloader handed "
		    "over: the application code is read through the flash cache in a mode the flash "
		    "does not support.");
		add_ev(c, S_HANDOFF);
		add_ev(c, S_EXCEPTION);
		add_ev(c, S_EXC_REGS);
		return;
	}
	if (sm == 1 && (has(d, S_EXCEPTION) || has(d, S_SYS_PARAM) || d->boots >= 2)) {
		set(c, BL_CAUSE_FLASH_SIZE_MISMATCH, 0.75, has(d, S_EXCEPTION) ? BL_CAUSE_EXCEPTION :
		    BL_CAUSE_NONE, NULL,
		    "The header declares more flash than the chip has, so the SDK and the firmware "
		    "look for their sectors beyond the end of flash.");
		add_ev(c, S_SPI_SIZE);
		add_ev(c, S_SYS_PARAM);
		add_ev(c, S_EXCEPTION);
		return;
	}

	/* 6. The application (§6-§7). Newer Arduino cores follow "Soft WDT reset" with an
	 * "Exception (4)" (the level-1 interrupt that reports it): that is the watchdog, and so is
	 * any soft watchdog report that came before the first crash. */
	if (has(d, S_SOFT_WDT) && (!has(d, S_EXCEPTION) || d->exc_cause == 4 ||
	    d->sig[S_SOFT_WDT].lineno < d->sig[S_EXCEPTION].lineno)) {
		set(c, BL_CAUSE_SOFT_WATCHDOG, 0.9, BL_CAUSE_NONE, NULL,
		    "The core reports a software watchdog reset: the sketch ran for seconds without "
		    "yielding to the SDK.");
		add_ev(c, S_SOFT_WDT);
		add_ev(c, S_CTX);
		add_ev(c, S_SP);
		return;
	}
	if (has(d, S_EXCEPTION) || has(d, S_PANIC)) {
		static char why[320];

		if (has(d, S_EXCEPTION) && d->exc_regs)
			snprintf(why, sizeof why, "The application crashed with exception %d (%s): %s; "
			    "epc1 0x%08x is in %s, excvaddr 0x%08x in %s.", d->exc_cause,
			    bootlog_exccause_name(d->exc_cause), bootlog_exccause_meaning(d->exc_cause),
			    d->exc_epc1, bootlog_region(d->exc_epc1), d->exc_vaddr,
			    bootlog_region(d->exc_vaddr));
		else if (has(d, S_EXCEPTION))
			snprintf(why, sizeof why, "The application crashed with exception %d (%s): %s.",
			    d->exc_cause, bootlog_exccause_name(d->exc_cause),
			    bootlog_exccause_meaning(d->exc_cause));
		else
			snprintf(why, sizeof why, "The application aborted (panic, assert or an ISR "
			    "outside IRAM).");
		set(c, BL_CAUSE_EXCEPTION, 0.9, BL_CAUSE_NONE, NULL, why);
		add_ev(c, S_EXCEPTION);
		add_ev(c, S_EXC_REGS);
		add_ev(c, S_PANIC);
		add_ev(c, S_CTX);
		return;
	}
	/* 7. Resets without a report (§2, §7, §13). */
	if (has(d, S_BANNER_WDT)) {
		int unasked = 0;

		for (unsigned back = 0; back < d->boots && back < BOOTLOG_DIAG_HISTORY; back++) {
			const struct bootlog_boot *b = boot_at(d, back);

			if (b->rst_cause == 4 && !b->requested)
				unasked++;
		}
		if (unasked == 0) {
			set(c, BL_CAUSE_HEALTHY, 0.6, BL_CAUSE_HW_WATCHDOG,
			    "If the device keeps working after the reset, it was the requested restart.",
			    "A restart was requested just before the rst cause:4 banner; early SDKs restart "
			    "through the watchdog, so the ROM reports it as a watchdog reset.");
			add_ev(c, S_RESTART);
			add_ev(c, S_BANNER_WDT);
			add_ev(c, S_HANDOFF);
			return;
		}
		set(c, BL_CAUSE_HW_WATCHDOG, unasked >= 2 ? 0.85 : 0.8,
		    unasked >= 2 ? BL_CAUSE_POWER_SUPPLY : BL_CAUSE_NONE,
		    unasked >= 2 ? "Measure the 3.3 V rail while Wi-Fi starts; if it holds, look for "
		    "code that blocks with interrupts off or touches GPIO6-11." : NULL,
		    "rst cause:4 with 'wdt reset' and no crash dump: the hardware watchdog reset the "
		    "chip.");
		add_ev(c, S_BANNER_WDT);
		add_ev(c, S_WDT_LINE);
		return;
	}
	if (silent_resets(d) >= 1 && (d->boots >= 3 || has(d, S_BANNER_CUT))) {
		set(c, BL_CAUSE_POWER_SUPPLY, d->boots >= 3 ? 0.75 : 0.6, BL_CAUSE_NONE,
		    "Measure the supply at the module during boot and Wi-Fi start.",
		    "The chip resets again and again with no crash report, no watchdog report and no "
		    "restart request, mid-output: a brown-out or a noisy EN/RST line.");
		add_ev(c, S_BANNER_CUT);
		add_ev(c, S_BANNER_POWERON);
		add_ev(c, S_BANNER);
		return;
	}

	/* 8. Nothing failed: healthy, or only the baud was wrong. */
	if (d->garbage_lines > 0 && d->readable_lines == 0 && !has(d, S_BANNER) && !has(d, S_HANDOFF)) {
		set(c, BL_CAUSE_WRONG_BAUD, 0.8, BL_CAUSE_NONE, NULL,
		    "Only garbled text: the port was read at another baud than the device sent.");
		add_ev(c, S_GARBAGE);
		return;
	}
	if (has(d, S_HANDOFF) || has(d, S_APP) || last->app_lines > 0) {
		if (d->garbage_lines > 0) {
			set(c, BL_CAUSE_HEALTHY, 0.65, BL_CAUSE_WRONG_BAUD,
			    "Listen at the baud the garbled lines suggest (espdesk monitor follows it): "
			    "if they read as boot or application text, nothing is wrong.",
			    "The device boots and the application runs; the garbled part is boot "
			    "output at another baud (ROM 74880, application 115200), not a fault.");
			add_ev(c, S_GARBAGE);
		} else
			set(c, BL_CAUSE_HEALTHY, has(d, S_BANNER) ? 0.85 : 0.5, BL_CAUSE_NONE, NULL,
			    has(d, S_BANNER) ? "The ROM loaded the image and the application started "
			    "with no fault." : "Only application output, with no fault in it.");
		add_ev(c, S_BANNER);
		add_ev(c, S_CSUM_OK);
		add_ev(c, S_HANDOFF);
		add_ev(c, S_APP);
		return;
	}
	if (has(d, S_BANNER) && !has(d, S_CSUM_OK) && mode == 3) {
		set(c, BL_CAUSE_FLASH_MODE_MISMATCH, 0.4, BL_CAUSE_POWER_SUPPLY,
		    "Check that the flash answers (espdesk identify) and the supply holds during boot.",
		    "The ROM banner says flash boot, but no segment was loaded.");
		add_ev(c, S_BANNER);
		return;
	}
	if (has(d, S_CSUM_OK)) {
		set(c, BL_CAUSE_HEALTHY, 0.5, BL_CAUSE_WRONG_BAUD,
		    "Listen at 115200 (or the application's baud) after the ROM lines.",
		    "The image loaded and the ROM handed over; nothing readable followed, which is "
		    "what an application at another baud looks like.");
		add_ev(c, S_CSUM_OK);
		return;
	}
	if (d->garbage_lines > 0) {
		set(c, BL_CAUSE_WRONG_BAUD, 0.7, BL_CAUSE_NONE, NULL,
		    "Garbled text and nothing the decoder knows: the port was read at another baud.");
		add_ev(c, S_GARBAGE);
		return;
	}
	set(c, BL_CAUSE_POWER_SUPPLY, 0.3, BL_CAUSE_WRONG_BAUD,
	    "No ROM banner at all: check 3.3 V, EN/CH_PD pulled high, TX to RX wiring, and listen at "
	    "74880 baud while pressing reset.",
	    "Not even the ROM banner: the chip did not start, or the wiring or baud is wrong.");
}

static int
ev_cmp(const void *a, const void *b)
{
	const struct bootlog_evidence *x = a, *y = b;

	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

void
bootlog_diag_verdict(const struct bootlog_diag *d, const struct bootlog_facts *facts,
    struct bootlog_verdict *out)
{
	struct vctx c = { d, out };
	unsigned resets;

	memset(out, 0, sizeof *out);
	out->cause = BL_CAUSE_HEALTHY;
	out->alt = BL_CAUSE_NONE;
	out->interval_ms = -1;
	out->boots = d->boots;
	verdict_rules(&c, facts);
	out->advice = cause_advice[out->cause];
	qsort(out->evidence, out->nevidence, sizeof out->evidence[0], ev_cmp);
	resets = d->boots > 0 ? d->boots - 1 : 0;
	if (d->boots >= 2 && d->first_ms >= 0 && d->last_ms > d->first_ms)
		out->interval_ms = (d->last_ms - d->first_ms) / resets;
	/* A loop: three boots, or two where the first failed on its own. */
	out->loop = d->boots >= 3 || (d->boots == 2 && !boot_at(d, 0)->requested &&
	    out->cause != BL_CAUSE_HEALTHY);
}
