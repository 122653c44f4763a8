/*
 * sim_image.h: the ESP8266 boot ROM's view of the flash and of a firmware image, for the
 * simulator's boot model (sim_boot.c) and firmware builder (sim_fw.c).
 *
 * Principles of operation. The chip reads its flash through a struct sim_image_flash: addresses
 * wrap at the chip's size (an SPI NOR part ignores address bits above its capacity, so a 4 MB
 * header on a 1 MB part reads the 1 MB part again), and from garble_at on every byte reads 0x00.
 * That last rule models a flash mode the chip cannot do (a QIO/DIO header on a DOUT-only
 * ESP8285): the ROM reads the first 16 bytes (image header and first segment header) before it
 * switches the SPI controller to the header's mode, and everything after comes back as zeros,
 * which is the fingerprint bootlog.md §13 gives for a wrong flash mode
 * (`chksum 0xef`, `load 0x00000000, len 0`, `csum err`).
 *
 * sim_image_rom_load() is the ROM's segment loader (bootlog.md §4, protocol.md §12): it prints
 * exactly what the ROM prints (`load`, `tail`, `chksum`, `ho`, `csum`, `csum err`, `ets_main.c`)
 * and reports where each segment came from. Everything here is pure: no I/O, no globals; every
 * function accepts any flash contents.
 */
#ifndef ESPDESK_SIM_IMAGE_H
#define ESPDESK_SIM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define SIM_IMAGE_MAGIC_V1 0xE9
#define SIM_IMAGE_MAGIC_V2 0xEA
#define SIM_IMAGE_CSUM_SEED 0xEF
#define SIM_IMAGE_MAX_SEGS 255

/* SPI flash modes, header byte 2 (protocol.md §12.1). */
enum sim_image_mode { SIM_MODE_QIO = 0, SIM_MODE_QOUT = 1, SIM_MODE_DIO = 2, SIM_MODE_DOUT = 3 };

struct sim_image_flash {
	const uint8_t *data;  /* borrowed, size bytes */
	uint32_t size;        /* > 0 */
	uint32_t garble_at;   /* reads at or after this many bytes of a load read 0x00; UINT32_MAX: never */
};

/* One byte / n bytes at addr, wrapping at f->size (garbling is applied by the loader, not here). */
uint8_t sim_image_rd8(const struct sim_image_flash *f, uint32_t addr);
uint32_t sim_image_rd32(const struct sim_image_flash *f, uint32_t addr);
void sim_image_read(const struct sim_image_flash *f, uint32_t addr, uint8_t *dst, size_t n);

/* The image checksum rule: seed XOR every byte (protocol.md §12.3, seed 0xEF). */
uint8_t sim_image_xor(uint8_t seed, const uint8_t *p, size_t n);

/* Bytes of flash the header's size nibble (byte 3, high nibble) claims; 0 for codes the SDK does
 * not define (7, 10..15). protocol.md §12.1. */
uint32_t sim_image_flash_bytes(unsigned nibble);
/* boot_v1.x's `SPI Flash Size & Map:` text for a nibble (protocol.md §13.2); v17 selects
 * boot_v1.7's list (8 and 9 known, `flash map not support` otherwise). Never NULL. */
const char *sim_image_map_str(unsigned nibble, int v17);
/* `SPI Flash Size :` text of boot_v1.1/1.2 (no map): "4Mbit", "8Mbit", ... Never NULL. */
const char *sim_image_size_str(unsigned nibble);
/* `SPI Speed` / `SPI Mode` texts for header bytes 3 (low nibble) and 2. Never NULL. */
const char *sim_image_speed_str(unsigned nibble);
const char *sim_image_mode_str(unsigned mode);
/* Offset of user2 for a map nibble: 0x41000, 0x81000 or 0x101000; 0 when the map has no OTA. */
uint32_t sim_image_user2_addr(unsigned nibble);

struct sim_image_seg {
	uint32_t load_addr;
	uint32_t len;
	uint32_t flash_off;   /* where its data starts in flash */
};

enum sim_image_rom_status {
	SIM_ROM_LOADED,     /* checksum good: the ROM jumps to entry */
	SIM_ROM_BAD_MAGIC,  /* byte 0 is not 0xE9: `ets_main.c`, then nothing */
	SIM_ROM_CSUM_ERR,   /* `csum err`, `ets_main.c`, then nothing */
	SIM_ROM_WEDGED,     /* a segment too large for RAM: the load line, then nothing */
};

struct sim_image_rom {
	enum sim_image_rom_status status;
	uint8_t mode, size_freq;  /* header bytes 2 and 3 */
	uint32_t entry;
	unsigned nseg;
	struct sim_image_seg seg[SIM_IMAGE_MAX_SEGS];
	uint8_t computed, stored; /* checksums (computed is what `csum` prints) */
};

/*
 * The ROM's loader over the image at flash offset off. Appends the ROM's text to out, with the
 * UART's "\r\n" line ends, and fills *res. Never fails: any flash contents give a result.
 */
void sim_image_rom_load(const struct sim_image_flash *f, uint32_t off, struct buf *out,
    struct sim_image_rom *res);

/*
 * The byte ranges that hold a v1 (0xE9) or v2 (0xEA) application image's code and data at off:
 * for v2 the IROM segment and the RAM segments behind the second header, for v1 its segments.
 * Used to look for an embedded app script. Returns how many ranges were written (at most max),
 * 0 when the magic is wrong. Lengths are clipped to the flash size.
 */
size_t sim_image_app_ranges(const struct sim_image_flash *f, uint32_t off, struct sim_image_seg *out,
    size_t max);

/*
 * rBoot's test of a ROM slot (bootlog.md §10: `Rom N is bad.` when the magic or the checksum
 * fails): a v1 image at off, or a v2 image (0xEA 0x04) whose v1 part follows its IROM segment,
 * with a good 0xEF-XOR checksum. Returns 1 when good. off 0 and 0xFFFFFFFF are never good.
 */
int sim_image_rboot_ok(const struct sim_image_flash *f, uint32_t off);

/* True when an image at off starts the way boot_v1.x accepts: 0xE9, or 0xEA 0x04 (bootlog.md §8). */
int sim_image_slot_valid(const struct sim_image_flash *f, uint32_t off);

#endif
