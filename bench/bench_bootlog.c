/*
 * bench_bootlog: how fast the boot-log decoder reads a log. Builds a 1 MiB block of realistic
 * output in memory (the real logs from tests/data/bootlogs, an application chatting, crash dumps,
 * a stretch of garbage at the wrong baud) and feeds it again and again until 1 GiB has gone
 * through, in 4 KiB chunks as a serial port would deliver them. Prints MB/s for the decoder alone
 * and with the diagnosis attached. Not a test: run with `make bench`.
 *
 * Usage: bench_bootlog [TOTAL_MB]   (default 1024)
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "core/buf.h"
#include "core/clock.h"

#define BLOCK (1u << 20)
#define CHUNK 4096

struct counts {
	uint64_t events, garbage;
	struct bootlog_diag *diag;
};

static void
count_cb(void *arg, const struct bootlog_event *ev)
{
	struct counts *c = arg;

	c->events++;
	c->garbage += ev->kind == BL_GARBAGE;
	if (c->diag != NULL)
		bootlog_diag_event(c->diag, ev, -1);
}

static void
add_file(struct buf *b, const char *dir, const char *name)
{
	char path[4096], tmp[65536];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(b, tmp, n);
	fclose(f);
}

static void
build_block(struct buf *b, struct buf *seed)
{
	static const char app[] =
	    "00:12:03 WIF: Connected to HomeNet (-61 dBm), IP 192.168.1.57\r\n"
	    "00:12:04 MQT: tele/sonoff/STATE = {\"Time\":\"2024-05-01T12:00:04\",\"Uptime\":\"0T00:12:04\","
	    "\"Heap\":27,\"POWER\":\"ON\",\"Wifi\":{\"AP\":1,\"RSSI\":78}}\r\n"
	    "scandone\r\nstate: 0 -> 2 (b0)\r\nstate: 2 -> 3 (0)\r\nstate: 3 -> 5 (10)\r\nadd 0\r\naid 1\r\n"
	    "connected with HomeNet, channel 6\r\ndhcp client start...\r\n"
	    "ip:192.168.1.57,mask:255.255.255.0,gw:192.168.1.1\r\n";
	/* ROM output read at 115200 (garbage the detector has to score). */
	static const uint8_t junk[] = {
		0x63, 0x5f, 0xc7, 0x72, 0x53, 0xf6, 0x66, 0xea, 0xff, 0x8c, 0x9c, 0xe2, 0xfc, 0xe0,
		0x1c, 0x8c, 0x92, 0xdc, 0x92, 0xfb, 0x0c, 0x8c, 0xe0, 0x1c, 0x80, 0x0d, 0x0a,
	};
	char root[4096];
	DIR *d;
	struct dirent *de;

	snprintf(root, sizeof root, "%s/tests/data/bootlogs", ESPDESK_SRCDIR);
	if ((d = opendir(root)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strstr(de->d_name, ".log") != NULL)
				add_file(seed, root, de->d_name);
		closedir(d);
	}
	snprintf(root, sizeof root, "%s/tests/data/bootlogs/extra", ESPDESK_SRCDIR);
	if ((d = opendir(root)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strstr(de->d_name, ".log") != NULL)
				add_file(seed, root, de->d_name);
		closedir(d);
	}
	buf_add(b, buf_head(seed), buf_len(seed));
	/* Mostly application chatter, as a long-running monitor sees it. */
	while (buf_len(b) < BLOCK) {
		for (int i = 0; i < 20 && buf_len(b) < BLOCK; i++)
			buf_add(b, app, sizeof app - 1);
		buf_add(b, junk, sizeof junk);
		if (buf_len(seed) > 0 && buf_len(b) + buf_len(seed) < BLOCK)
			buf_add(b, buf_head(seed), buf_len(seed));
	}
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns MB/s of CPU time on this thread (one core); *wall gets MB/s of wall-clock time, which
 * is lower when the machine is busy with other work. */
static double
run(const uint8_t *block, size_t blen, uint64_t total, struct counts *c, double *wall)
{
	struct bootlog b;
	int64_t t0, t1;
	double c0, c1;
	uint64_t done = 0;

	bootlog_init(&b, count_cb, c);
	c0 = cpu_s();
	t0 = clock_now_us();
	while (done < total) {
		for (size_t off = 0; off < blen && done < total; off += CHUNK) {
			size_t n = blen - off < CHUNK ? blen - off : CHUNK;

			bootlog_feed(&b, block + off, n);
			done += n;
		}
	}
	bootlog_flush(&b);
	t1 = clock_now_us();
	c1 = cpu_s();
	*wall = (double)done / 1e6 / ((double)(t1 - t0) / 1e6);
	return (double)done / 1e6 / (c1 - c0);
}

int
main(int argc, char **argv)
{
	struct buf block = BUF_INIT, seed = BUF_INIT;
	struct counts c;
	static struct bootlog_diag diag;
	uint64_t total = (uint64_t)(argc > 1 ? atoi(argv[1]) : 1024) << 20;
	double mbs, wall;

	build_block(&block, &seed);
	memset(&c, 0, sizeof c);
	mbs = run(buf_head(&block), buf_len(&block), total, &c, &wall);
	printf("bootlog decoder: %.0f MB/s on one core (%.0f MB/s wall clock) over %llu MiB "
	    "(%llu events, %llu garbage lines)\n", mbs, wall, (unsigned long long)(total >> 20),
	    (unsigned long long)c.events, (unsigned long long)c.garbage);
	memset(&c, 0, sizeof c);
	bootlog_diag_init(&diag);
	c.diag = &diag;
	mbs = run(buf_head(&block), buf_len(&block), total, &c, &wall);
	printf("bootlog decoder + diagnosis: %.0f MB/s on one core (%.0f MB/s wall clock)\n", mbs,
	    wall);
	buf_free(&block);
	buf_free(&seed);
	return 0;
}
