#include "config.h"

#include "sim/sim_image.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/common.h"

/*
 * Most the ROM can load: IRAM (0x40100000..0x40110000, 64 KB) plus DRAM (0x3FFE8000..0x40000000,
 * 96 KB). A longer segment (or more segments in all) overwrites the ROM's own data and the chip
 * wedges: a real log (esp8266.com t=7975) shows `load 0xffffffff, len -1, room 12` and then
 * nothing. The exact limit is not documented; this is the chip's RAM.
 */
#define SIM_IMAGE_MAX_SEG_LEN 0x28000u

uint8_t
sim_image_rd8(const struct sim_image_flash *f, uint32_t addr)
{
	return f->data[addr % f->size];
}

uint32_t
sim_image_rd32(const struct sim_image_flash *f, uint32_t addr)
{
	uint8_t b[4];

	sim_image_read(f, addr, b, 4);
	return rd_le32(b);
}

void
sim_image_read(const struct sim_image_flash *f, uint32_t addr, uint8_t *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = f->data[(uint32_t)(addr + i) % f->size];
}

uint8_t
sim_image_xor(uint8_t seed, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		seed ^= p[i];
	return seed;
}

uint32_t
sim_image_flash_bytes(unsigned nibble)
{
	static const uint32_t kb[16] = {
		512, 256, 1024, 2048, 4096, 2048, 4096, 0, 8192, 16384, 0, 0, 0, 0, 0, 0,
	};

	return kb[nibble & 15] * 1024u;
}

const char *
sim_image_map_str(unsigned nibble, int v17)
{
	static const char *const maps[10] = {
		"4Mbit(256KB+256KB)", "2Mbit", "8Mbit(512KB+512KB)", "16Mbit(512KB+512KB)",
		"32Mbit(512KB+512KB)", "16Mbit(1024KB+1024KB)", "32Mbit(1024KB+1024KB)", NULL,
		"64Mbit(1024KB+1024KB)", "128Mbit(1024KB+1024KB)",
	};

	nibble &= 15;
	/* protocol.md §13.2: 8 and 9 exist only in boot_v1.7. What v1.4-1.6 print for codes they do
	 * not know is not in the sources; we use v1.7's message for every unknown code. */
	if (nibble >= 10 || maps[nibble] == NULL || (nibble >= 8 && !v17))
		return "flash map not support";
	return maps[nibble];
}

const char *
sim_image_size_str(unsigned nibble)
{
	static const char *const sizes[10] = {
		"4Mbit", "2Mbit", "8Mbit", "16Mbit", "32Mbit", "16Mbit", "32Mbit", "4Mbit",
		"64Mbit", "128Mbit",
	};

	/* protocol.md §13.2 lists 4/2/8/16/32 Mbit for boot_v1.2; the rest (and 7, which the SDK
	 * does not define) are our reading of the size table. */
	nibble &= 15;
	return nibble < 10 ? sizes[nibble] : "4Mbit";
}

const char *
sim_image_speed_str(unsigned nibble)
{
	switch (nibble & 15) {
	case 0x1: return "26.7MHz";
	case 0x2: return "20MHz";
	case 0xF: return "80MHz";
	/* 0 is 40 MHz; what boot_v1.x prints for undefined codes is unknown, we print 40MHz. */
	default: return "40MHz";
	}
}

const char *
sim_image_mode_str(unsigned mode)
{
	static const char *const modes[4] = { "QIO", "QOUT", "DIO", "DOUT" };

	/* Codes above 3 are undefined; the boot loader most likely masks them. */
	return modes[mode & 3];
}

uint32_t
sim_image_user2_addr(unsigned nibble)
{
	switch (nibble & 15) {
	case 0: return 0x41000;
	case 2: case 3: case 4: return 0x81000;
	case 5: case 6: case 8: case 9: return 0x101000;
	default: return 0;
	}
}

/* A loader read: stream offset s of the image at off, garbled from f->garble_at on. */
static uint8_t
ld8(const struct sim_image_flash *f, uint32_t off, uint32_t s)
{
	if (s >= f->garble_at)
		return 0x00;
	return sim_image_rd8(f, off + s);
}

static uint32_t
ld32(const struct sim_image_flash *f, uint32_t off, uint32_t s)
{
	return (uint32_t)ld8(f, off, s) | (uint32_t)ld8(f, off, s + 1) << 8 |
	    (uint32_t)ld8(f, off, s + 2) << 16 | (uint32_t)ld8(f, off, s + 3) << 24;
}

static void ED_PRINTFLIKE(2, 3)
put(struct buf *out, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/*
 * The ROM reads the image through a 16-byte buffer and reports its bookkeeping (bootlog.md §4:
 * "not diagnostic", but a faithful simulator prints the same numbers). The rules below reproduce
 * every real log we have (files 01, 02, 04, 05, 19, 22, 25, 27, 29, 36 and the wrong-mode log of
 * esp8266.com t=3699):
 *  - the first segment starts with `room 16`;
 *  - a segment longer than room ends in a partial block: tail = (len - room) mod 16, and
 *    16 - tail bytes of that block are left over (16 when tail is 0);
 *  - a segment that fits in room leaves room - len bytes (`tail` prints len);
 *  - the next segment header takes 8 of the leftover bytes (room = leftover - 8); when fewer than
 *    8 are left the ROM prints `ho H tail T room L` (H = where the last segment's data began in
 *    the block, T = its bytes in the block, L = leftover) and reads another block
 *    (room = leftover + 8).
 * Whether a segment of exactly `room` bytes counts as fitting is not in any log; we treat it as
 * fitting (len <= room), which keeps the block arithmetic continuous.
 */
void
sim_image_rom_load(const struct sim_image_flash *f, uint32_t off, struct buf *out,
    struct sim_image_rom *res)
{
	uint32_t s, room = 16, leftover = 16, ho_h = 0, ho_t = 0, total = 0;
	uint8_t csum = SIM_IMAGE_CSUM_SEED;

	memset(res, 0, sizeof *res);
	/* The header and the first segment header are read before the SPI mode changes. */
	if (sim_image_rd8(f, off) != SIM_IMAGE_MAGIC_V1) {
		/* An erased or foreign boot sector: the ROM names its source file and stops (a
		 * real log with nothing at 0x0: SmingHub/Sming#2366; esp8266/Arduino#2370, igrr:
		 * after erase_flash "a message ending with ets_main.c"). The trailing space is the
		 * ROM's, as in log 19. */
		put(out, "ets_main.c ");
		res->status = SIM_ROM_BAD_MAGIC;
		return;
	}
	res->nseg = sim_image_rd8(f, off + 1);
	res->mode = sim_image_rd8(f, off + 2);
	res->size_freq = sim_image_rd8(f, off + 3);
	res->entry = sim_image_rd32(f, off + 4);
	s = 8;
	for (unsigned i = 0; i < res->nseg; i++) {
		uint32_t addr, len;

		if (i > 0) {
			if (leftover >= 8)
				room = leftover - 8;
			else {
				put(out, "ho %u tail %u room %u\r\n", (unsigned)ho_h, (unsigned)ho_t,
				    (unsigned)leftover);
				room = leftover + 8;
			}
		}
		if (i == 0) {
			addr = sim_image_rd32(f, off + 8);
			len = sim_image_rd32(f, off + 12);
		} else {
			addr = ld32(f, off, s);
			len = ld32(f, off, s + 4);
		}
		s += 8;
		put(out, "load 0x%08x, len %d, room %u \r\n", (unsigned)addr, (int)len, (unsigned)room);
		total += len;
		if (len > SIM_IMAGE_MAX_SEG_LEN || total > SIM_IMAGE_MAX_SEG_LEN) {
			res->status = SIM_ROM_WEDGED;
			return;
		}
		res->seg[i].load_addr = addr;
		res->seg[i].len = len;
		res->seg[i].flash_off = (uint32_t)((off + s) % f->size);
		for (uint32_t k = 0; k < len; k++)
			csum ^= ld8(f, off, s + k);
		if (len > room) {
			ho_h = 0;
			ho_t = (len - room) % 16;
			leftover = 16 - ho_t;
		} else {
			ho_h = 16 - room;
			ho_t = len;
			leftover = room - len;
		}
		put(out, "tail %u\r\n", (unsigned)ho_t);
		put(out, "chksum 0x%02x\r\n", csum);
		s += len;
	}
	res->computed = csum;
	/* Padding runs to 15 mod 16; the checksum byte ends the 16-byte block (§12.3). */
	res->stored = ld8(f, off, s | 15);
	put(out, "csum 0x%02x\r\n", csum);
	if (res->stored != csum) {
		put(out, "csum err\r\nets_main.c ");
		res->status = SIM_ROM_CSUM_ERR;
		return;
	}
	res->status = SIM_ROM_LOADED;
}

/* Appends the segments of a v1 header at flash offset at; returns the offset after them. */
static uint32_t
v1_ranges(const struct sim_image_flash *f, uint32_t at, struct sim_image_seg *out, size_t max,
    size_t *n)
{
	unsigned nseg = sim_image_rd8(f, at + 1);
	uint32_t p = at + 8;

	for (unsigned i = 0; i < nseg && *n < max; i++) {
		uint32_t addr = sim_image_rd32(f, p), len = sim_image_rd32(f, p + 4);

		if (len > f->size)
			len = f->size;
		out[*n].load_addr = addr;
		out[*n].len = len;
		out[*n].flash_off = (p + 8) % f->size;
		(*n)++;
		p = (uint32_t)((p + 8 + (uint64_t)len) % f->size);
	}
	return p;
}

size_t
sim_image_app_ranges(const struct sim_image_flash *f, uint32_t off, struct sim_image_seg *out,
    size_t max)
{
	uint8_t magic = sim_image_rd8(f, off);
	size_t n = 0;

	if (max == 0)
		return 0;
	if (magic == SIM_IMAGE_MAGIC_V1) {
		v1_ranges(f, off, out, max, &n);
	} else if (magic == SIM_IMAGE_MAGIC_V2) {
		/* protocol.md §12.6: EA header, an IROM segment (addr 0, len) with its data at
		 * +0x10, then a normal E9 header and the RAM segments. */
		uint32_t len = sim_image_rd32(f, off + 12), second;

		if (len > f->size)
			len = f->size;
		out[n].load_addr = sim_image_rd32(f, off + 8);
		out[n].len = len;
		out[n].flash_off = (off + 16) % f->size;
		n++;
		second = (uint32_t)((off + 16 + (uint64_t)len) % f->size);
		if (sim_image_rd8(f, second) == SIM_IMAGE_MAGIC_V1)
			v1_ranges(f, second, out, max, &n);
	}
	return n;
}

int
sim_image_slot_valid(const struct sim_image_flash *f, uint32_t off)
{
	uint8_t m = sim_image_rd8(f, off);

	return m == SIM_IMAGE_MAGIC_V1 || (m == SIM_IMAGE_MAGIC_V2 && sim_image_rd8(f, off + 1) == 0x04);
}

int
sim_image_rboot_ok(const struct sim_image_flash *f, uint32_t off)
{
	uint32_t p = off, total = 0;
	uint8_t csum = SIM_IMAGE_CSUM_SEED;
	unsigned nseg;

	if (off == 0 || off == 0xFFFFFFFFu)
		return 0;
	if (sim_image_rd8(f, p) == SIM_IMAGE_MAGIC_V2 && sim_image_rd8(f, p + 1) == 0x04)
		p += 16 + sim_image_rd32(f, p + 12);  /* skip the header and the IROM segment */
	if (sim_image_rd8(f, p) != SIM_IMAGE_MAGIC_V1)
		return 0;
	nseg = sim_image_rd8(f, p + 1);
	p += 8;
	for (unsigned i = 0; i < nseg; i++) {
		uint32_t len = sim_image_rd32(f, p + 4);

		/* More than the RAM holds is as bad as a broken checksum (and bounds the work). */
		if (len > SIM_IMAGE_MAX_SEG_LEN || (total += len) > SIM_IMAGE_MAX_SEG_LEN)
			return 0;
		p += 8;
		for (uint32_t k = 0; k < len; k++)
			csum ^= sim_image_rd8(f, p + k);
		p += len;
	}
	return sim_image_rd8(f, p | 15) == csum;
}
