/*
 * flasher.h: the flasher engine. Connect to an ESP8266/ESP8285 in its UART download loader,
 * identify it, upload the flasher stub, and back up, erase, write and verify its flash.
 * The CLI, the guided flows and the TUI all drive this one engine.
 *
 * Principles of operation. The engine is blocking code with deadlines (doc/ARCHITECTURE.md):
 * every call runs to completion, fails, or is cancelled. Every wait is cut into slices of at most
 * 50 ms and the cancel flag (an atomic_bool the caller owns) is checked between slices, so a
 * cancel takes effect within 100 ms; the engine then returns RC_ERR_CANCEL and leaves the device
 * in a known state (the stub or the ROM loader idle, regions already written intact). The engine
 * never prints: it reports progress and notices through the event callback and failures through
 * `char **cause` (what happened, where, what to do next; caller frees with free()).
 *
 * A session is flasher_open() (reset, sync at 115200, identify, upload the stub, move to the
 * fastest baud that works), any number of operations, then flasher_close() (the --after action).
 * The protocol facts come from ../shared/reference/protocol.md; section numbers (§) refer to it.
 *
 * Errors: RC_ERR_ARG (bad request: empty file, past the end of flash; cause says which),
 * RC_ERR_TIMEOUT (no answer), RC_ERR_PROTO (the device broke the protocol), RC_ERR_DEVICE
 * (the device answered with a failure status), RC_ERR_VERIFY (an MD5 did not match),
 * RC_ERR_NOTSUP (not possible without the stub), RC_ERR_GONE (the port disappeared: cable
 * pulled), RC_ERR_CANCEL, RC_ERR_IO.
 */
#ifndef ESPDESK_FLASHER_H
#define ESPDESK_FLASHER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

struct flasher;

/* How to get the chip into its download loader (--before). */
enum flasher_before {
	FLASHER_BEFORE_DEFAULT,  /* DTR/RTS auto-reset: tight and classic sequences (§11.1) */
	FLASHER_BEFORE_NO_RESET, /* touch no line; the chip is already in the loader */
	FLASHER_BEFORE_MANUAL,   /* no auto-reset (Sonoff): keep offering SYNC until the user
	                          * powers the board with GPIO0 held low, or cancels; the port
	                          * may go away meanwhile (the adapter unplugged to cut the
	                          * power) and is opened again when it is back */
	FLASHER_BEFORE_AUTO,     /* DEFAULT's two tight sequences; where the chip does not answer
	                          * (no auto-reset wiring, a port without modem lines), MANUAL */
};

/* What to do when the session ends (--after). */
enum flasher_after {
	FLASHER_AFTER_HARD_RESET, /* pulse RTS (EN): boots the firmware where wired */
	FLASHER_AFTER_SOFT_RESET, /* FLASH_BEGIN(0,0) + FLASH_END(1): run user code */
	FLASHER_AFTER_NO_RESET,   /* stay in the loader (a running stub returns to the ROM) */
};

enum flasher_phase {
	FLASHER_PH_CONNECT,  /* resetting and syncing; msg says which attempt */
	FLASHER_PH_WAITING,  /* manual mode: "waiting for download mode" */
	FLASHER_PH_IDENT,
	FLASHER_PH_STUB,
	FLASHER_PH_BAUD,     /* baud change; msg says to what */
	FLASHER_PH_READ,
	FLASHER_PH_ERASE,
	FLASHER_PH_WRITE,
	FLASHER_PH_VERIFY,
	FLASHER_PH_RESET,
	FLASHER_PH_NOTICE,   /* a one-time notice (stepping down the baud, re-reading a region) */
};

/* Short lowercase name of a phase ("read", "write"). */
const char *flasher_phase_name(enum flasher_phase ph);

struct flasher_event {
	enum flasher_phase phase;
	uint64_t done, total;  /* bytes (or attempts while connecting); total 0 = unknown */
	uint32_t addr;         /* flash address the event is about */
	double rate;           /* bytes per second so far, 0 when unknown */
	double eta;            /* seconds left, < 0 when unknown */
	const char *msg;       /* borrowed, valid during the callback; may be NULL */
};
/* Called from the engine's thread; must not call back into the engine. */
typedef void flasher_event_cb(void *arg, const struct flasher_event *ev);

struct flasher_opts {
	const char *port;            /* required */
	int baud;                    /* cap for the baud ladder; 0 = 921600 */
	int sync_baud;               /* SYNC at this baud (the ROM autobauds, §1); 0 = 115200.
	                              * When the chip does not answer there the engine falls
	                              * back to 115200 and says so once. Without the stub the
	                              * whole session runs at the baud that synced. */
	enum flasher_before before;
	enum flasher_after after;
	int no_stub;                 /* ROM-only: no read, erase, MD5 or baud change */
	int connect_ms;              /* how long to keep trying to connect; 0 = the default (about
	                              * 10 s; forever in manual and auto mode) */
	atomic_bool *cancel;         /* may be NULL; the engine only reads it */
	flasher_event_cb *cb;        /* may be NULL */
	void *cb_arg;
};

/* What flasher_open() learnt about the chip. */
struct flasher_info {
	char chip[24];        /* "ESP8266EX", "ESP8285N08", ... */
	int esp8285;
	uint8_t mac[6];
	uint32_t chip_id;
	int xtal_mhz;         /* 26 or 40 */
	uint32_t jedec;       /* W0 after RDID: manufacturer in bits 7..0 (§9.2) */
	uint32_t flash_size;  /* bytes from the JEDEC capacity byte; 0 = unknown */
	const char *vendor;   /* "Winbond", ...; NULL when unknown. Static. */
	int stub;             /* 1 when the stub runs */
	int manual_board;     /* the chip entered download mode without our reset (MANUAL, or AUTO
	                       * where the reset did nothing): power cycles are the user's */
	int baud;             /* the baud in use now */
	uint64_t bytes_out;   /* bytes sent on the wire so far (SLIP framing included) */
	uint64_t bytes_in;    /* bytes received so far */
};

/*
 * Opens o->port, resets the chip into the loader per o->before, syncs at 115200, identifies the
 * chip, uploads the stub (unless o->no_stub) and moves to min(o->baud, 921600) (stepping down
 * 460800, 230400, 115200 when a rate fails). On success *out is the session (free with
 * flasher_close()). o is copied; o->cancel and o->cb_arg must stay valid until flasher_close().
 */
int flasher_open(const struct flasher_opts *o, struct flasher **out, char **cause);
/* Runs the --after action (once; later calls do nothing). Where the port has no modem lines
 * or the board no auto-reset, a notice tells the user to power-cycle it. */
int flasher_finish(struct flasher *f, char **cause);
/* Closes the port without any --after action (call flasher_finish() first). NULL is a no-op. */
void flasher_close(struct flasher *f);
/* Borrowed, valid until flasher_close(). */
const struct flasher_info *flasher_info(const struct flasher *f);
/* The flash size to use for bounds checks: the JEDEC size, or 4 MB when unknown (§9.4). */
uint32_t flasher_flash_size(const struct flasher *f);

/*
 * Reads [off, off+len) in regions of FLASHER_REGION bytes, each checked by the stub's MD5 and
 * read again if it arrived corrupt (at a lower baud after repeated failures). Each verified
 * region is handed to sink in address order; a sink that returns non-zero stops the read with
 * RC_ERR_IO. Needs the stub.
 */
#define FLASHER_REGION 0x10000u
typedef int flasher_sink(void *arg, uint32_t addr, const uint8_t *data, size_t len);
int flasher_read(struct flasher *f, uint32_t off, uint32_t len, flasher_sink *sink, void *arg,
    char **cause);

/* MD5 of len bytes on this side (libmd). */
void flasher_md5_local(const uint8_t *data, size_t len, uint8_t md5[16]);
/* MD5 of [off, off+len) as the device computes it (stub only). */
int flasher_md5(struct flasher *f, uint32_t off, uint32_t len, uint8_t md5[16], char **cause);

/* Header patch options (--flash-mode/--flash-size/--flash-freq); -1 = keep. */
struct flasher_hdr {
	int mode;   /* 0 QIO, 1 QOUT, 2 DIO, 3 DOUT */
	int size;   /* size code, high nibble of byte 3 (§12.1) */
	int freq;   /* frequency code, low nibble of byte 3 */
};
#define FLASHER_HDR_KEEP { -1, -1, -1 }

struct flasher_write_result {
	uint32_t written;    /* bytes sent to flash (skipped sectors excluded) */
	uint32_t skipped;    /* bytes in sectors whose device MD5 already matched */
	int verified;        /* 1 when every byte was checked by device MD5 */
	int patched;         /* 1 when the header at 0x0 was changed */
	uint16_t params;     /* the new header bytes 2..3 as (mode << 8) | size_freq */
};

/*
 * Writes data (len > 0) at off: compressed through the stub (skipping 4 KB sectors whose device
 * MD5 already matches, then verifying every region by MD5), or uncompressed through the ROM with
 * the erase-size compensation (nothing verified; res->verified = 0). The image header at 0x0 is
 * patched per hdr (NULL = keep) only for a valid 0xE9 image (§12.7). data is not modified.
 */
int flasher_write(struct flasher *f, uint32_t off, const uint8_t *data, size_t len,
    const struct flasher_hdr *hdr, struct flasher_write_result *res, char **cause);

/* Compares [off, off+len) with data (padded and header-patched exactly as flasher_write() does,
 * so give it the same hdr) by device MD5. RC_ERR_VERIFY on mismatch (the cause names the first
 * differing 4 KB sector); RC_ERR_NOTSUP without the stub. */
int flasher_verify(struct flasher *f, uint32_t off, const uint8_t *data, size_t len,
    const struct flasher_hdr *hdr, char **cause);

/* Erases the whole chip (stub) or, ROM-only, through FLASH_BEGIN over the JEDEC size. */
int flasher_erase_chip(struct flasher *f, char **cause);
/* Erases [off, off+len); both multiples of 4096. ROM-only: FLASH_BEGIN with compensation. */
int flasher_erase_region(struct flasher *f, uint32_t off, uint32_t len, char **cause);

/* Runs user code now (FLASH_BEGIN(0,0) + FLASH_END(1)); the session is then over. */
int flasher_run(struct flasher *f, char **cause);

/* Pure helpers (flasher_plan.c, flasher_header.c, flasher_chip.c), tested on their own. */

/* esptool's ROM erase-size compensation (§7.2): the erase_size to send in FLASH_BEGIN. */
uint32_t flasher_plan_rom_erase_size(uint32_t off, uint32_t size);
/* How many bytes from off (sector-aligned) the ROM really erases when sent erase_size (the
 * reverse-engineered model of its SPIEraseArea, §7.1: head + N sectors). */
uint32_t flasher_plan_rom_erased(uint32_t off, uint32_t erase_size);
/* Write planning: the next run of sectors to send. need[k] != 0 marks sector k (of n) as
 * differing from the file. Returns the first such sector at or after from (n when none) and
 * sets *end to one past the run's last sector; a run has at most max sectors (>= 1). */
size_t flasher_plan_next_run(const uint8_t *need, size_t n, size_t from, size_t max, size_t *end);
/* The next lower rung of the baud ladder 921600 → 460800 → 230400 → 115200; 0 below that. */
int flasher_plan_baud_down(int baud);
/* The first baud of the ladder not above cap (cap 0 = no cap; caps below 115200 give cap). */
int flasher_plan_baud_top(int cap);
/* Checks a write of len bytes at off against a flash of flash_size bytes. RC_ERR_ARG with a
 * cause that says which rule failed: empty, past the end, or off not a multiple of 4096 (the
 * erase would take the bytes before it in the same sector). */
int flasher_plan_check_write(uint32_t off, size_t len, uint32_t flash_size, const char *name,
    char **cause);
/* Data for 0x0 must be what the ROM boots: an 0xE9 image (a whole-flash dump starts with its
 * boot loader, which is one). RC_ERR_ARG with a cause naming what the file is instead (a gzip
 * download, an OTA image that belongs behind the boot loader, anything else) and what to do;
 * RC_OK for any other offset. */
int flasher_plan_check_boot(uint32_t off, const uint8_t *data, size_t len, const char *name,
    char **cause);

/* Patches an 0xE9 image header in buf (len bytes, starting at flash offset off) per hdr, as
 * esptool does (§12.7). Returns 1 if bytes 2..3 changed, 0 if nothing changed, and sets *why to
 * a static reason when the data was left alone (NULL otherwise). *params = new bytes 2..3. */
int flasher_header_patch(uint8_t *buf, size_t len, uint32_t off, const struct flasher_hdr *hdr,
    uint16_t *params, const char **why);
/* Option values through image_mode/size/freq_parse() (image.h): "keep", "qio".."dout";
 * "512KB".."16MB", "2MB-c1", "4MB-c1" (also "1M"; never esptool v1's Mbit names);
 * "40m".."80m". Returns the code, -1 for keep, -2 for anything else (NULL included). */
int flasher_header_mode(const char *s);
int flasher_header_size(const char *s);
int flasher_header_freq(const char *s);

/* The JEDEC lookups of profile/jedec.h for the SPI_W0 word (little-endian, as info.jedec):
 * size in bytes (§9.4), 0 when unknown; vendor name (devices.md §5b, static), NULL when
 * unknown. */
uint32_t flasher_chip_jedec_size(uint32_t jedec);
const char *flasher_chip_jedec_vendor(uint32_t jedec);
/* 1 when the id means the flash is not answering (0x000000 or 0xFFFFFF). */
int flasher_chip_jedec_dead(uint32_t jedec);
/* Fills the chip name, ESP8285 flag, MAC and chip id of info from the four eFuse words
 * (w0 = 0x3FF00050 .. w3 = 0x3FF0005C; §8). RC_ERR_PROTO when the OUI is unknown. */
int flasher_chip_decode(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3,
    struct flasher_info *info);
/* Crystal in MHz (26 or 40) from UART_CLKDIV at the given baud (§8.5). */
int flasher_chip_xtal(uint32_t clkdiv, int baud);

#endif
