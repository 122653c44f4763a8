/*
 * bench_flasher.c: the flasher engine against espdesk-sim in real time (--speed real): back up
 * 1 MB and 4 MB, write a 1 MB image shaped like a stock Sonoff dump (about half 0xFF) onto an
 * erased chip, erase the chip; at 115200 and 921600 baud, with and without a 16 ms USB latency.
 *
 * Each line prints the seconds the operation took (connecting excluded) and the ratio to the
 * wire limit: the bytes that must cross the UART in the busy direction (SLIP escapes and frame
 * overhead included) divided by baud/10, plus the flash's datasheet times (W25Q32FV typical:
 * 0.7 ms per 256-byte page, 45 ms per 4 KB sector, chip erase 10 s per 4 MB; the figures the
 * simulator models). Run with `make bench`; BENCH_QUICK=1 skips the 4 MB backups at 115200.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/clock.h"
#include "flasher/flasher.h"

#include "flasher/flasher_simh.h"

#define T_PAGE_S 0.0007
#define T_SECTOR_S 0.045
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
	struct flasher_opts o;
	char *cause = NULL;
	int rc;

	memset(&o, 0, sizeof o);
	o.port = s->pty;
	o.baud = baud;
	o.before = FLASHER_BEFORE_NO_RESET;
	o.after = FLASHER_AFTER_NO_RESET;
	o.connect_ms = 10000;
	rc = flasher_open(&o, f, &cause);
	if (rc < 0)
		fprintf(stderr, "bench: %s\n", cause);
	free(cause);
	return rc;
}

static void
close_sim(struct flasher *f)
{
	char *cause = NULL;

	flasher_finish(f, &cause);
	free(cause);
	flasher_close(f);
}

static void
report(const char *op, uint32_t size, int baud, int lat, double secs, double limit, int ok)
{
	printf("%-22s %5u KB %7d %3d ms %8.2f s %8.2f s %6.3fx %s\n", op, size / 1024, baud, lat,
	    secs, limit, secs / limit, ok ? "ok" : "FAILED");
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
	close_sim(f);
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

static void
bench_write(int baud, int lat)
{
	char latbuf[16];
	const char *ex[] = { "--usb-latency", latbuf, NULL };
	uint8_t *img = sonoff_image(), *z;
	uLongf zlen = compressBound(1 << 20);
	struct flasher_write_result res;
	struct sim s;
	struct flasher *f = NULL;
	char *cause = NULL;
	double wire, flash_s = 0, secs;
	int64_t t0;
	int rc;

	snprintf(latbuf, sizeof latbuf, "%d", lat);
	z = malloc(zlen);
	compress2(z, &zlen, img, 1 << 20, 9);
	/* Host → device: the whole image as one level-9 zlib stream (what esptool sends), escaped,
	 * in 16 KB FLASH_DEFL_DATA packets (8 + 16 header bytes and two delimiters each). */
	wire = (double)zlen + (double)escapes(z, zlen) + 26.0 * ((zlen + 0x3FFF) / 0x4000);
	/* The flash: erase every sector that holds data, program every page that is not blank. */
	for (uint32_t a = 0; a < 1u << 20; a += 4096) {
		int used = 0;

		for (uint32_t p = a; p < a + 4096; p += 256) {
			int blank = 1;

			for (uint32_t k = p; k < p + 256; k++)
				blank &= img[k] == 0xFF;
			if (!blank)
				flash_s += T_PAGE_S, used = 1;
		}
		if (used)
			flash_s += T_SECTOR_S;
	}
	if (sim_start(&s, 1 << 20, NULL, lat ? ex : NULL) < 0 || open_sim(&s, &f, baud) < 0) {
		report("write Sonoff image", 1 << 20, baud, lat, 0, 1, 0);
		sim_stop(&s);
		free(img);
		free(z);
		return;
	}
	{
		uint64_t out0 = flasher_info(f)->bytes_out;

		t0 = clock_now_us();
		rc = flasher_write(f, 0, img, 1 << 20, NULL, &res, &cause);
		secs = (double)(clock_now_us() - t0) / 1e6;
		report("write Sonoff image", 1 << 20, baud, lat, secs, wire / (baud / 10.0) + flash_s,
		    rc == RC_OK && res.verified);
		/* The simulator does not pace host-to-device bytes, so also show what was sent. */
		printf("    sent %llu bytes (one level-9 stream of the image: %.0f); wire time at this "
		    "baud %.2f s, flash %.2f s, %u bytes skipped as already erased\n",
		    (unsigned long long)(flasher_info(f)->bytes_out - out0), wire,
		    (double)(flasher_info(f)->bytes_out - out0) / (baud / 10.0), flash_s, res.skipped);
	}
	if (rc < 0)
		fprintf(stderr, "bench: %s\n", cause);
	free(cause);
	close_sim(f);
	sim_stop(&s);
	free(img);
	free(z);
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
	close_sim(f);
	sim_stop(&s);
}

int
main(void)
{
	static const int bauds[] = { 921600, 115200 };
	static const int lats[] = { 0, 16 };
	const char *only = getenv("BENCH_ONLY");
	int quick = getenv("BENCH_QUICK") != NULL;

	sim_real_time = 1;
	signal(SIGPIPE, SIG_IGN);
	printf("%-22s %8s %7s %6s %10s %10s %7s\n", "operation", "size", "baud", "USB", "time",
	    "limit", "ratio");
	for (size_t b = 0; b < 2; b++)
		for (size_t l = 0; l < 2; l++) {
			int baud = bauds[b], lat = lats[l];

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
