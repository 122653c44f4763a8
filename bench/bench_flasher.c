/*
 * bench_flasher.c: the flasher engine against espdesk-sim in real time (--speed real): back up
 * 1 MB and 4 MB, write a 1 MB image shaped like a stock Sonoff dump (about half 0xFF) onto an
 * erased chip, erase the chip; at 115200 and 921600 baud, with and without a 16 ms USB latency.
 *
 * Each line prints the seconds the operation took (connecting excluded) and the ratio to the
 * wire limit: the bytes that must cross the UART in the busy direction (SLIP escapes and frame
 * overhead included) divided by baud/10, plus the flash's datasheet times (W25Q32FV typical:
 * 0.7 ms per 256-byte page, 45 ms per 4 KB sector, 150 ms per 64 KB block, chip erase 10 s per
 * 4 MB; the figures the simulator models). Write lines also print the pipelined floor (see
 * write_limit()). Run with `make bench`; BENCH_QUICK=1 skips the 4 MB backups at 115200,
 * BENCH_ONLY=read|write|erase picks operations, BENCH_BAUD=N and BENCH_LAT=N pick rows, and
 * BENCH_LOG=FILE writes the engine's debug log (timestamps: where the time goes).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/clock.h"
#include "core/log.h"
#include "flasher/flasher.h"

#include "flasher/flasher_simh.h"

#define T_PAGE_S 0.0007
#define T_SECTOR_S 0.045
#define T_BLOCK_S 0.150
#define T_CHIP_4MB_S 10.0

static size_t
escapes(const uint8_t *p, size_t n)
{
	size_t e = 0;

	for (size_t i = 0; i < n; i++)
		e += p[i] == 0xC0 || p[i] == 0xDB;
	return e;
}

static int
open_sim(struct sim *s, struct flasher **f, int baud)
{
	struct flasher_opts o = { .baud = baud, .connect_ms = 10000 };

	return sim_flasher_open(s, &o, f);
}

static void
report(const char *op, uint32_t size, int baud, int lat, double secs, double limit, int ok)
{
	/* Reads and erases have no separate floor: the read limit is already the busy direction's
	 * wire time, the erase limit the flash's. */
	printf("%-22s %5u KB %7d %3d ms %8.2f s %8.2f s %6.3fx %10s %7s %s\n", op, size / 1024, baud,
	    lat, secs, limit, secs / limit, "-", "-", ok ? "ok" : "FAILED");
	fflush(stdout);
}

static int
discard_sink(void *arg, uint32_t addr, const uint8_t *data, size_t len)
{
	(void)arg; (void)addr; (void)data; (void)len;
	return 0;
}

static void
bench_read(uint32_t size, int baud, int lat)
{
	char latbuf[16];
	const char *ex[] = { "--usb-latency", latbuf, NULL };
	uint8_t *init = malloc(size);
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	double wire, secs;
	int64_t t0;
	int rc;

	snprintf(latbuf, sizeof latbuf, "%d", lat);
	for (uint32_t i = 0; i < size; i++)
		init[i] = (uint8_t)(i * 2654435761u >> 13);
	if (sim_start(&s, size, init, lat ? ex : NULL) < 0 || open_sim(&s, &f, baud) < 0) {
		report("read (backup)", size, baud, lat, 0, 1, 0);
		sim_stop(&s);
		free(init);
		return;
	}
	/* Device → host: every 4 KB frame escaped plus its two delimiters, per 64 KB region the
	 * READ_FLASH reply (12 bytes framed) and the digest frame (18). */
	wire = (double)size + (double)escapes(init, size) + 2.0 * (size / 4096) +
	    30.0 * (size / FLASHER_REGION);
	t0 = clock_now_us();
	rc = flasher_read(f, 0, size, discard_sink, NULL, &cause);
	secs = (double)(clock_now_us() - t0) / 1e6;
	report("read (backup)", size, baud, lat, secs, wire / (baud / 10.0), rc == RC_OK);
	if (rc < 0)
		fprintf(stderr, "bench: %s\n", cause);
	free(cause);
	sim_flasher_done(f);
	sim_stop(&s);
	free(init);
}

/* 1 MB shaped like a stock Sonoff dump: boot + code + data in the first half, then 0xFF, with
 * the RF-cal, init-data and system-parameter sectors at the end (protocol.md §13.1). */
static uint8_t *
sonoff_image(void)
{
	uint8_t *img = malloc(1 << 20);
	uint32_t x = 1;

	memset(img, 0xFF, 1 << 20);
	for (uint32_t i = 0; i < 0x7C000; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		/* Code-like: a mix of repeated instruction patterns and high-entropy data. */
		img[i] = (i % 64 < 40) ? (uint8_t)("\x12\xc1\xf0\x09\x31\x0d\xf0\x00"[i % 8] ^ (i >> 12)) :
		    (uint8_t)x;
	}
	for (uint32_t i = 0xFB000; i < 0x100000; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		img[i] = (i % 4096 < 1024) ? (uint8_t)x : 0xFF;
	}
	img[0] = 0xE9;
	img[0xFC000] = 0x05;
	return img;
}

/*
 * The write limit, computed from the image (written onto an erased chip, so a sector needs
 * writing when it holds anything but 0xFF):
 *
 * - wire: the whole image as one level-9 zlib stream (what esptool sends), escaped, in 16 KB
 *   FLASH_DEFL_DATA packets (8 + 16 header bytes and two delimiters each), at baud/10 bytes/s;
 * - flash: the fewest erases that can do it, per aligned 64 KB block that holds data one
 *   150 ms block erase or a 45 ms erase for each sector that holds data, whichever is quicker
 *   (the stub erases a block in one go when a run covers all of it, src/stub/stub.c
 *   flash_data), and one 0.7 ms page program for every 256-byte page that is not blank (the
 *   stub leaves a blank page alone: the erase already made it so).
 *
 * limit = wire + flash (the definition). The pipelined floor: the stub programs one
 * block while the next ones cross the wire, so the two overlap; the flash cannot start before
 * the first block has arrived, and the last block's programming cannot overlap anything:
 * floor = max(first block's wire + flash, wire + last block's flash). The block is the engine's
 * (8 KB, flasher_write.c PIPE_BLOCK); esptool's 16 KB would give a floor 0.09 s higher at
 * 921600.
 */
#define FLOOR_BLOCK 0x2000u

struct wlimit {
	size_t zlen;               /* the level-9 stream */
	double wire_bytes, wire_s, flash_s, first_s, last_s;
	unsigned blocks, sectors, pages;
};

static int
blank(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return 0;
	return 1;
}

/*
 * Datasheet flash time of the erases and programs that start at or after byte from; counts
 * them in *l when l is not NULL. Per aligned 64 KB block that holds data: one block erase or a
 * sector erase per sector with data, whichever is quicker (the blank sectors of a block inside
 * the image can be erased with it: they are to hold 0xFF anyway); a block that runs past the
 * image's end only by sectors.
 */
static double
flash_time(const uint8_t *img, size_t len, size_t from, struct wlimit *l)
{
	double t = 0;

	for (size_t b = 0; b < len; b += 0x10000) {
		size_t end = b + 0x10000 < len ? b + 0x10000 : len, first = end;
		unsigned n = 0;

		for (size_t s = b; s < end; s += 4096)
			if (!blank(img + s, end - s < 4096 ? end - s : 4096)) {
				n++;
				if (first == end)
					first = s;
			}
		if (n == 0)
			continue;
		if (first >= from) {
			if (end - b == 0x10000 && T_BLOCK_S < n * T_SECTOR_S) {
				t += T_BLOCK_S;
				if (l != NULL)
					l->blocks++;
			} else {
				t += n * T_SECTOR_S;
				if (l != NULL)
					l->sectors += n;
			}
		}
		for (size_t p = b; p < end; p += 256)
			if (p + 256 > from && !blank(img + p, end - p < 256 ? end - p : 256)) {
				t += T_PAGE_S;
				if (l != NULL)
					l->pages++;
			}
	}
	return t;
}

/* Where in the image the stream's byte zoff decodes to. */
static size_t
inflated_at(const uint8_t *z, size_t zoff, size_t len)
{
	uint8_t *out = malloc(len);
	z_stream st;
	size_t at;

	memset(&st, 0, sizeof st);
	inflateInit(&st);
	st.next_in = (Bytef *)z;
	st.avail_in = (uInt)zoff;
	st.next_out = out;
	st.avail_out = (uInt)len;
	inflate(&st, Z_SYNC_FLUSH);
	at = st.total_out;
	inflateEnd(&st);
	free(out);
	return at;
}

static void
write_limit(const uint8_t *img, size_t len, int baud, struct wlimit *l)
{
	uLongf zlen = compressBound((uLong)len);
	uint8_t *z = malloc(zlen);
	double bps = baud / 10.0;
	size_t first = FLOOR_BLOCK, last;

	memset(l, 0, sizeof *l);
	compress2(z, &zlen, img, (uLong)len, 9);
	l->zlen = zlen;
	l->wire_bytes = (double)zlen + (double)escapes(z, zlen) + 26.0 * ((zlen + 0x3FFF) / 0x4000);
	l->wire_s = l->wire_bytes / bps;
	l->flash_s = flash_time(img, len, 0, l);
	if (first > zlen)
		first = zlen;
	l->first_s = ((double)first + (double)escapes(z, first) + 26.0) / bps;
	last = (zlen - 1) / FLOOR_BLOCK * FLOOR_BLOCK;
	l->last_s = flash_time(img, len, inflated_at(z, last, len), NULL);
	free(z);
}

static void
bench_write(int baud, int lat)
{
	char latbuf[16];
	const char *ex[] = { "--usb-latency", latbuf, NULL };
	uint8_t *img = sonoff_image();
	struct flasher_write_result res;
	struct wlimit l;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	double limit, floor_s, a, b, secs = 0;
	uint64_t out0 = 0;
	int64_t t0;
	int rc = RC_ERR_IO;

	snprintf(latbuf, sizeof latbuf, "%d", lat);
	write_limit(img, 1 << 20, baud, &l);
	limit = l.wire_s + l.flash_s;
	a = l.first_s + l.flash_s;
	b = l.wire_s + l.last_s;
	floor_s = a > b ? a : b;
	if (sim_start(&s, 1 << 20, NULL, lat ? ex : NULL) == 0 && open_sim(&s, &f, baud) == 0) {
		out0 = flasher_info(f)->bytes_out;
		t0 = clock_now_us();
		rc = flasher_write(f, 0, img, 1 << 20, NULL, &res, &cause);
		secs = (double)(clock_now_us() - t0) / 1e6;
	}
	printf("%-22s %5u KB %7d %3d ms %8.2f s %8.2f s %6.3fx %8.2f s %6.3fx %s\n",
	    "write Sonoff image", 1024, baud, lat, secs, limit, secs / limit, floor_s,
	    secs / floor_s, rc == RC_OK && res.verified ? "ok" : "FAILED");
	printf("    limit: wire %.0f bytes = %.2f s + flash %.2f s (%u block erases, %u sector "
	    "erases, %u pages); floor: %s-bound (first %u KB block %.2f s, last block's flash "
	    "%.2f s)\n", l.wire_bytes, l.wire_s, l.flash_s, l.blocks, l.sectors, l.pages,
	    a > b ? "flash" : "wire", FLOOR_BLOCK / 1024, l.first_s, l.last_s);
	if (f != NULL)
		printf("    espdesk sent %llu bytes (%.2f s of wire), skipped %u bytes already on the "
		    "chip\n", (unsigned long long)(flasher_info(f)->bytes_out - out0),
		    (double)(flasher_info(f)->bytes_out - out0) / (baud / 10.0),
		    rc == RC_OK ? res.skipped : 0);
	fflush(stdout);
	if (rc < 0 && cause != NULL)
		fprintf(stderr, "bench: %s\n", cause);
	free(cause);
	if (f != NULL)
		sim_flasher_done(f);
	sim_stop(&s);
	free(img);
}

static void
bench_erase(uint32_t size, int baud, int lat)
{
	char latbuf[16];
	const char *ex[] = { "--usb-latency", latbuf, NULL };
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	double secs;
	int64_t t0;
	int rc;

	snprintf(latbuf, sizeof latbuf, "%d", lat);
	if (sim_start(&s, size, NULL, lat ? ex : NULL) < 0 || open_sim(&s, &f, baud) < 0) {
		report("erase chip", size, baud, lat, 0, 1, 0);
		sim_stop(&s);
		return;
	}
	t0 = clock_now_us();
	rc = flasher_erase_chip(f, &cause);
	secs = (double)(clock_now_us() - t0) / 1e6;
	report("erase chip", size, baud, lat, secs, T_CHIP_4MB_S * size / (4 << 20) +
	    24.0 / (baud / 10.0), rc == RC_OK);
	free(cause);
	sim_flasher_done(f);
	sim_stop(&s);
}

int
main(void)
{
	static const int bauds[] = { 921600, 115200 };
	static const int lats[] = { 0, 16 };
	const char *only = getenv("BENCH_ONLY");
	/* BENCH_BAUD=N and BENCH_LAT=N pick one row of each. */
	const char *want_baud = getenv("BENCH_BAUD"), *want_lat = getenv("BENCH_LAT");
	int quick = getenv("BENCH_QUICK") != NULL;

	/* BENCH_LOG=FILE: the engine's debug log, with timestamps (where the time goes). */
	if (getenv("BENCH_LOG") != NULL && log_open(getenv("BENCH_LOG")) < 0)
		fprintf(stderr, "bench: cannot open %s\n", getenv("BENCH_LOG"));
	sim_real_time = 1;
	signal(SIGPIPE, SIG_IGN);
	printf("%-22s %8s %7s %6s %10s %10s %7s %10s %7s\n", "operation", "size", "baud", "USB",
	    "time", "limit", "ratio", "floor", "ratio");
	for (size_t b = 0; b < 2; b++)
		for (size_t l = 0; l < 2; l++) {
			int baud = bauds[b], lat = lats[l];

			if ((want_baud != NULL && atoi(want_baud) != baud) ||
			    (want_lat != NULL && atoi(want_lat) != lat))
				continue;

			if (only == NULL || strstr(only, "read")) {
				bench_read(1 << 20, baud, lat);
				if (!quick || baud > 115200)
					bench_read(4 << 20, baud, lat);
			}
			if (only == NULL || strstr(only, "write"))
				bench_write(baud, lat);
			if (only == NULL || strstr(only, "erase"))
				bench_erase(1 << 20, baud, lat);
		}
	return 0;
}
