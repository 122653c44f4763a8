/*
 * bootlog.h: the boot-log decoder. Bytes from an ESP8266/ESP8285 UART in, one structured event
 * per line out (../shared/reference/bootlog.md is the source of every message and meaning).
 *
 * Principles of operation. bootlog_feed() is a push parser: feed bytes as they arrive, in chunks
 * of any size; it calls back once per line, in order, and the events do not depend on how the
 * stream was cut. A line ends at CR, LF, CRLF or LFCR. A line longer than BOOTLOG_LINE_MAX bytes
 * is reported in pieces (BOOTLOG_F_SPLIT on all but the last piece). The decoder never blocks,
 * never allocates (the line buffer is part of struct bootlog) and keeps no global state, so the
 * live log pane, `espdesk decode`, `espdesk monitor`, the tests and the fuzzer share it.
 *
 * Text is matched after a paste prefix is skipped (leading blanks, a UTF-8 BOM, "> ", "RX:",
 * "[12:34:56.789]", "12:34:56.789 -> "), because users post logs from terminals and forums. The ROM banner is also
 * found in the middle of a line, since a crash often cuts the previous line short; the bytes
 * before it are then reported as a line of their own.
 *
 * A line that matches no known message is either BL_TEXT or, when its byte statistics say it is
 * text sent at another baud rate, BL_GARBAGE with the sender's likely baud (bootlog_baud.c
 * explains the bit-level model). A viewer switches baud on BL_GARBAGE.
 *
 * Errors: none. Every byte sequence is a valid input; what is not understood is BL_TEXT.
 */
#ifndef ESPDESK_BOOTLOG_H
#define ESPDESK_BOOTLOG_H

#include <stddef.h>
#include <stdint.h>

/* Bytes kept per line; longer lines are split into pieces of this size. */
#define BOOTLOG_LINE_MAX 256

/* What a line is. The numbers an event carries (n[0..4]) are listed per kind. */
enum bootlog_kind {
	BL_TEXT,              /* a line that matches no known message (also empty lines) */
	BL_GARBAGE,           /* text at another baud: baud = the sender's likely rate */
	/* Boot ROM (bootlog.md §1-4) */
	BL_ROM_BANNER,        /* n0 rst cause, n1 boot mode x, n2 boot mode y (-1 if absent) */
	BL_ROM_WDT_RESET,     /* "wdt reset" after a rst cause:4 banner */
	BL_ROM_LOAD,          /* n0 address, n1 length, n2 room (-1 if absent) */
	BL_ROM_TAIL,          /* n0 tail */
	BL_ROM_HO,            /* "ho 0 tail 12 room 4": n0 ho, n1 tail, n2 room */
	BL_ROM_CHKSUM,        /* n0 running checksum after a segment */
	BL_ROM_CSUM,          /* n0 final checksum */
	BL_ROM_CSUM_ERR,      /* "csum err" */
	BL_ROM_ETS_MAIN,      /* "ets_main.c": the ROM stopped */
	BL_ROM_USER_CODE_DONE, /* "user code done": the 2nd stage returned to the ROM */
	BL_ROM_WAITING_HOST,  /* "waiting for host": SDIO boot */
	/* NONOS boot_v1.x (bootlog.md §8, protocol.md §13.2) */
	BL_BOOT_VERSION,      /* n0 major, n1 minor */
	BL_BOOT_SPI_SPEED,    /* n0 speed in kHz (40000, 26700, 20000, 80000) */
	BL_BOOT_SPI_MODE,     /* n0 mode 0 QIO, 1 QOUT, 2 DIO, 3 DOUT; -1 unknown word */
	BL_BOOT_SPI_SIZE,     /* n0 size in Mbit, n1 SDK map (-1: boot_v1.1/1.2 form), -1/-1 "not support" */
	BL_BOOT_JUMP,         /* n0 user slot (1, 2, 0 for "bin @"), n1 flash address (-1 if not printed) */
	BL_BOOT_ERROR_MAGIC,  /* "error magic!" */
	BL_BOOT_FIRST_FAILED, /* "first boot failed, reboot to try backup bin" */
	BL_BOOT_BACKUP_FAILED, /* "backup boot failed." */
	BL_BOOT_FLAG_ERROR,   /* "error user bin flag, flag = N": n0 flag */
	/* esp8266/Arduino eboot (§9) */
	BL_EBOOT_VERSION,     /* "v%08x": n0 the word */
	BL_EBOOT_LOAD,        /* "~ld" (no command in RTC memory) or "ld" (after "@cp:N") */
	BL_EBOOT_COPY,        /* "@cp:N" / "cp:N": n0 result */
	BL_EBOOT_ERROR,       /* "e:N": n0 what failed (1 header, 2 section header, 3 section) */
	/* rBoot (§10) */
	BL_RBOOT_BANNER,      /* "rBoot v1.2.1 - ..." */
	BL_RBOOT_FLASH_SIZE,  /* n0 Mbit */
	BL_RBOOT_FLASH_MODE,  /* n0 mode as BL_BOOT_SPI_MODE */
	BL_RBOOT_FLASH_SPEED, /* n0 kHz */
	BL_RBOOT_OPTION,      /* "rBoot Option: ..." */
	BL_RBOOT_DEFAULT_CONFIG, /* "Writing default boot config." / "Resetting boot config." */
	BL_RBOOT_INVALID_ROM, /* "Invalid rom selected, defaulting..." */
	BL_RBOOT_BAD,         /* "Rom N is bad." / "Rom N at ADDR is bad.": n0 rom */
	BL_RBOOT_NO_GOOD,     /* "No good rom available." */
	BL_RBOOT_BOOTING,     /* "Booting rom N." / "Booting GPIO-selected.": n0 rom (-1 GPIO) */
	/* ESP8266_RTOS_SDK v3 (IDF-style) 2nd stage (§11) */
	BL_IDF_BOOT,          /* "boot: ESP-IDF ... 2nd stage bootloader" */
	BL_IDF_PART_ERROR,    /* partition table missing, invalid or without an app */
	/* SDK and application (§5, §7, §8) */
	BL_SDK_RF_CAL,        /* "rf_cal[0] !=0x05,is 0xNN": n0 the byte found */
	BL_SDK_SYS_PARAM,     /* "system param error" */
	BL_SDK_MISMATCH_MAP,  /* "mismatch map X,spi_size_map Y": n0 X, n1 Y */
	BL_SDK_RF_CAL_SECTOR, /* "rf cal sector: N": n0 N */
	BL_SDK_VERSION,       /* "SDK ver: ..." / "SDK: v..." */
	BL_SDK_PARTITION,     /* "system_partition_table_regist ... fail" (n0 1) / "success" (n0 0) */
	BL_EXCEPTION,         /* n0 EXCCAUSE, n1 0 SDK "Fatal exception", 1 core "Exception" */
	BL_EXC_REGS,          /* n0 epc1, n1 epc2, n2 epc3, n3 excvaddr, n4 depc */
	BL_EXC_CTX,           /* "ctx: cont" (n0 0) / "ctx: sys" (n0 1) / other (n0 2) */
	BL_EXC_SP,            /* "sp: X end: Y offset: Z": n0 sp, n1 end, n2 offset */
	BL_STACK_BEGIN,       /* ">>>stack>>>" */
	BL_STACK_LINE,        /* "3fff19e0:  62755362 ...": n0 address */
	BL_STACK_END,         /* "<<<stack<<<" */
	BL_SOFT_WDT,          /* "Soft WDT reset" */
	BL_PANIC,             /* "User exception (panic/abort/assert)", "Abort called", "ISR not in IRAM!" */
	BL_RESTART,           /* the app asked for a restart: "Restarting...", "AT+RST", "ESP.restart" */
	BL_KIND_COUNT
};

/* Flags of an event. */
#define BOOTLOG_F_SPLIT 0x1   /* the line was longer than BOOTLOG_LINE_MAX: more follows */
#define BOOTLOG_F_CUT 0x2     /* the line was cut short by a ROM banner in the middle of it */
#define BOOTLOG_F_STALE 0x4   /* BL_GARBAGE read before the port reached the baud it is at now
                               * (ev->baud is that baud): nothing to change */

/* One line. Borrowed: text is valid only during the callback. */
struct bootlog_event {
	enum bootlog_kind kind;
	uint64_t lineno;      /* 1-based line number in the stream */
	uint64_t offset;      /* stream offset of text[0] */
	const uint8_t *text;  /* the line as received, without its terminator */
	size_t len;
	size_t skip;          /* bytes of paste prefix before the message (text + skip) */
	int64_t n[5];         /* numbers, see enum bootlog_kind */
	int baud;             /* BL_GARBAGE: the sender's likely baud */
	int flags;            /* BOOTLOG_F_* */
};

typedef void bootlog_cb(void *arg, const struct bootlog_event *ev);

/* Where the current boot is, as far as the decoder has seen. */
enum bootlog_stage {
	BL_STAGE_NONE,        /* no banner yet */
	BL_STAGE_ROM,         /* banner seen, ROM loading (74880 on a 26 MHz crystal) */
	BL_STAGE_LOADER,      /* a 2nd stage bootloader runs (same baud as the ROM) */
	BL_STAGE_APP,         /* control passed to the application (its own baud) */
};

struct bootlog {
	bootlog_cb *cb;
	void *arg;
	uint8_t line[BOOTLOG_LINE_MAX];
	size_t len;
	uint64_t offset;      /* stream offset of the next byte */
	uint64_t lineno;      /* lines reported so far */
	int last_term;        /* the terminator just seen ('\r', '\n') or 0 */
	int split;            /* the last line was split at BOOTLOG_LINE_MAX (its terminator may follow) */
	int read_baud;        /* the baud the bytes are read at, 0 if unknown */
	int app_baud;         /* the application's baud (115200 unless told) */
	enum bootlog_stage stage;
	int in_stack;         /* between >>>stack>>> and <<<stack<<< */
};

/* Initialises b; cb(arg, ev) gets every event (cb may be NULL). Nothing to free. */
void bootlog_init(struct bootlog *b, bootlog_cb *cb, void *arg);
/* Tells the decoder the baud the bytes are read at (0: unknown), e.g. after a monitor switched. */
void bootlog_set_read_baud(struct bootlog *b, int baud);
/* The application's baud if known (default 115200): the suggestion after the bootloader. */
void bootlog_set_app_baud(struct bootlog *b, int baud);
/* Feeds len bytes. */
void bootlog_feed(struct bootlog *b, const void *data, size_t len);
/* Reports the partial line, if any, as if it had ended (end of file, or the port went quiet). */
void bootlog_flush(struct bootlog *b);

/*
 * Writes a one-line human annotation of ev into dst (NUL-terminated, at most size bytes), e.g.
 * "rst cause 2: external reset (RST pin) or deep-sleep wake; boot mode 3: flash boot
 * (GPIO15=0 GPIO0=1 GPIO2=1)". Writes "" for BL_TEXT. Returns dst.
 */
char *bootlog_describe(const struct bootlog_event *ev, char *dst, size_t size);
/* Stable machine name of a kind ("rom-banner", "exception", ...). Never NULL. */
const char *bootlog_kind_name(enum bootlog_kind k);

/* ---- tables (bootlog_tables.c), from bootlog.md; all strings are static ---- */

/* Meaning of the ROM's rst cause N (§2); "undocumented" for values the sources do not list. */
const char *bootlog_rst_cause_str(int64_t n);
/* Meaning of boot mode x (§3): "UART download", "flash boot", "SDIO", "invalid". */
const char *bootlog_boot_mode_str(int64_t x);
/* Strap levels implied by boot mode x: GPIO15 = bit 2, GPIO0 = bit 1, GPIO2 = bit 0. */
static inline int bootlog_strap_gpio15(int64_t x) { return (int)((x >> 2) & 1); }
static inline int bootlog_strap_gpio0(int64_t x) { return (int)((x >> 1) & 1); }
static inline int bootlog_strap_gpio2(int64_t x) { return (int)(x & 1); }
/* EXCCAUSE name ("LoadProhibitedCause") and meaning (§6); "reserved"/"unknown" otherwise. */
const char *bootlog_exccause_name(int64_t code);
const char *bootlog_exccause_meaning(int64_t code);
/* What an exception code usually means on an ESP8266 (§6 notes), or NULL. */
const char *bootlog_exccause_hint(int64_t code);
/* Memory region of an address: "IRAM", "DRAM", "flash-mapped code", "ROM", "peripheral
 * registers", "NULL page", "unmapped". */
const char *bootlog_region(uint32_t addr);
/* SPI mode name for 0..3 ("QIO", "QOUT", "DIO", "DOUT"), "?" otherwise. */
const char *bootlog_spi_mode_str(int64_t mode);
/* Flash size in bytes of the SDK's SPI_SIZE_MAP value (protocol.md §12.1), 0 if unknown. */
uint32_t bootlog_size_map_bytes(int64_t map);
/* eboot `cp:N` and `e:N` results (§9). */
const char *bootlog_eboot_cp_str(int64_t n);
const char *bootlog_eboot_err_str(int64_t n);
/* The SDK's rst_info reason (§5): "hardware watchdog reset", ... */
const char *bootlog_sdk_reason_str(int64_t n);

/* ---- baud detection (bootlog_baud.c) ---- */

/* Hypotheses about a run of bytes. */
enum bootlog_baud_hyp {
	BL_HYP_TEXT,      /* readable text at the baud it was read at */
	BL_HYP_SLOW,      /* 74880-baud text (ROM, bootloader) read at 115200 */
	BL_HYP_FAST,      /* 115200-baud text (application) read at 74880 */
	BL_HYP_COUNT
};
/*
 * Log-likelihood (natural log) of buf under each hypothesis, added into ll[BL_HYP_COUNT].
 * The tables behind it come from a bit-level UART model (see bootlog_baud.c). Thread-safe.
 */
void bootlog_baud_score(const uint8_t *buf, size_t len, double ll[BL_HYP_COUNT]);
/*
 * Sends src (len bytes, 8N1, back to back) at send_baud and samples the line at recv_baud the way
 * a UART receiver does (start-bit hunt, mid-bit samples, framing errors delivered as received).
 * phase delays the receiver's first hunt by phase/16 of a receive bit. Writes at most cap bytes
 * to dst and returns the count. Pure; used to build the tables and by the tests.
 */
size_t bootlog_baud_garble(const uint8_t *src, size_t len, int send_baud, int recv_baud,
    int phase, uint8_t *dst, size_t cap);

#endif
