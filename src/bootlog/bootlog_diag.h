/*
 * bootlog_diag.h: why does the device do this? The diagnosis reads the decoder's events, keeps
 * a short history of boots (reset count and interval, the stage each boot reached, a loop
 * detector) and names one primary cause with the lines that prove it and the advice that fixes
 * it; where the log cannot decide, it names the two causes that remain and what to check.
 *
 * The rules come from the signatures in ../shared/reference/bootlog.md (§2-§13), not from our
 * sample logs: strap values first (nothing else matters when the chip never tries to boot from
 * flash), then the ROM loader, the 2nd stage, the SDK start-up checks, the application, and the
 * reset history last.
 *
 * What a device profile and an image header know (later issues pass them in) goes in struct
 * bootlog_facts; unknown fields stay at their "unknown" values from bootlog_facts_init().
 *
 * Ownership: struct bootlog_diag and struct bootlog_verdict are plain values owned by the
 * caller; nothing is allocated. Errors: none.
 */
#ifndef ESPDESK_BOOTLOG_DIAG_H
#define ESPDESK_BOOTLOG_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "bootlog/bootlog.h"

/* Primary causes; bootlog_cause_name() gives the exact words machine output uses. */
enum bootlog_cause {
	BL_CAUSE_NONE = -1,
	BL_CAUSE_HEALTHY,
	BL_CAUSE_DOWNLOAD_MODE,
	BL_CAUSE_SDIO_MODE,
	BL_CAUSE_STRAPPING_ERROR,
	BL_CAUSE_FLASH_MODE_MISMATCH,
	BL_CAUSE_IMAGE_CORRUPT,
	BL_CAUSE_OTA_SLOT_INVALID,
	BL_CAUSE_RF_INIT_DATA,
	BL_CAUSE_FLASH_SIZE_MISMATCH,
	BL_CAUSE_HW_WATCHDOG,
	BL_CAUSE_SOFT_WATCHDOG,
	BL_CAUSE_EXCEPTION,
	BL_CAUSE_POWER_SUPPLY,
	BL_CAUSE_WRONG_BAUD,
	BL_CAUSE_COUNT
};

/* "healthy", "download-mode", ... ; "none" for BL_CAUSE_NONE. Never NULL. */
const char *bootlog_cause_name(enum bootlog_cause c);
/* The cause named s, or BL_CAUSE_NONE. */
enum bootlog_cause bootlog_cause_from_name(const char *s);

enum bootlog_chip { BL_CHIP_UNKNOWN, BL_CHIP_ESP8266, BL_CHIP_ESP8285 };

/* What is known about the device and its image besides the log. */
struct bootlog_facts {
	enum bootlog_chip chip;
	uint32_t flash_size;  /* the chip's real flash size in bytes (profile or JEDEC id), 0 unknown */
	int flash_mode;       /* the fastest mode the board's flash wiring supports, 0 QIO .. 3 DOUT,
	                       * -1 unknown (an ESP8285 implies DOUT) */
	int hdr_mode;         /* flash mode byte of the image header at 0x0, -1 unknown */
	uint32_t hdr_size;    /* flash size the image header at 0x0 declares, in bytes, 0 unknown */
	int foreign_dump;     /* 1: the flash was restored from a dump of another unit (its MAC or
	                       * chip id differs), so its RF calibration and system parameter
	                       * sectors belong to that unit; 0 no, -1 unknown */
};

void bootlog_facts_init(struct bootlog_facts *f);

/* One boot in the history: from a ROM banner to the next one. */
struct bootlog_boot {
	uint64_t lineno;      /* the banner's line; 0 for text before the first banner */
	int64_t time_ms;      /* when the banner arrived (-1 unknown) */
	int rst_cause, mode;  /* from the banner; -1 if none */
	enum bootlog_stage stage; /* the furthest stage the boot reached */
	uint64_t sigs;        /* bit per signal seen in this boot (private numbering) */
	int requested;        /* the reset that started this boot was asked for (restart text) */
	unsigned app_lines;   /* readable lines after control passed on */
	int ended_cut;        /* the next banner cut a line short (output stopped mid-line) */
};

#define BOOTLOG_DIAG_HISTORY 16
#define BOOTLOG_EVIDENCE_MAX 8
#define BOOTLOG_EVIDENCE_LEN 160

struct bootlog_evidence {
	uint64_t lineno;
	size_t len;
	uint8_t text[BOOTLOG_EVIDENCE_LEN]; /* the line's bytes (escape before printing) */
};

/* Signals the diagnosis keeps the first line of (private to bootlog_diag.c). */
#define BL_SIG_COUNT 48

struct bootlog_diag {
	struct bootlog_boot pre;                     /* lines before the first banner */
	struct bootlog_boot hist[BOOTLOG_DIAG_HISTORY]; /* the last boots, ring */
	unsigned boots;                              /* banners seen */
	uint64_t lines, garbage_lines, readable_lines, nonempty_lines;
	int64_t first_ms, last_ms;                   /* banner times, -1 unknown */
	int restart_pending;                         /* a restart was asked for since the banner */
	int exc_cause;                               /* first exception: EXCCAUSE, -1 none */
	int exc_sdk;                                 /* ... reported by the SDK, not the core */
	uint32_t exc_epc1, exc_vaddr;
	int exc_regs, exc_ctx;
	unsigned exc_lines_after_start;              /* app lines before the first exception */
	int seg_n;                                   /* ROM segments of the current boot */
	int64_t seg_len[4], seg_chk[4];
	int spi_mode, spi_size_mbit;                 /* from the 2nd stage's header lines, -1 */
	int garbage_baud;                            /* the last garbage suggestion, 0 none */
	int last_cut;                                /* the last event was cut short by a banner */
	struct bootlog_evidence sig[BL_SIG_COUNT];   /* first line of each signal; lineno 0 = none */
	unsigned sig_count[BL_SIG_COUNT];
};

struct bootlog_verdict {
	enum bootlog_cause cause;
	double confidence;            /* 0..1 */
	enum bootlog_cause alt;       /* the other cause that remains, or BL_CAUSE_NONE */
	const char *advice;           /* static text: what fixes it */
	const char *check;            /* static text: what tells cause and alt apart, or NULL */
	char summary[320];            /* why, in one or two sentences */
	struct bootlog_evidence evidence[BOOTLOG_EVIDENCE_MAX];
	size_t nevidence;
	unsigned boots;               /* ROM banners seen (= resets + 1 when the log starts at one) */
	int loop;                     /* the device is in a reset loop */
	int64_t interval_ms;          /* mean time between resets, -1 unknown */
};

void bootlog_diag_init(struct bootlog_diag *d);
/* Feeds one decoder event; now_ms is the arrival time (monotonic ms) or -1 when unknown. */
void bootlog_diag_event(struct bootlog_diag *d, const struct bootlog_event *ev, int64_t now_ms);
/* Computes the verdict from everything fed so far; facts may be NULL. Does not change d. */
void bootlog_diag_verdict(const struct bootlog_diag *d, const struct bootlog_facts *facts,
    struct bootlog_verdict *out);

#endif
