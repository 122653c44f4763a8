#include "config.h"

#include "sim/sim_fw.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/xmalloc.h"
#include "sim/sim_app.h"
#include "sim/sim_image.h"

/* A Tasmota-like demo: a Sonoff Basic that boots, joins Wi-Fi and toggles its relay. The line
 * format follows real Tasmota output ("00:00:00 CFG: Loaded from flash at FA, Count 10",
 * espressif/esptool#272); the rest of the wording is the demo's own. */
static const char demo_script[] =
    "name Sonoff Basic (espdesk-sim demo, Tasmota-like log)\n"
    "core arduino\n"
    "baud 115200\n"
    "print \n"
    "print 00:00:00 CFG: Loaded from flash at FA, Count 10\n"
    "print 00:00:00 Project sonoff Sonoff Basic (espdesk-sim demo)\n"
    "after 40 ms print 00:00:00 SRC: Restart\n"
    "after 300 ms print 00:00:00 WIF: Connecting to AP1 espdesk-lab in mode 11N as sonoff-demo...\n"
    "after 2700 ms print 00:00:03 WIF: Connected\n"
    "after 200 ms print 00:00:03 HTP: Web server active on sonoff-demo with IP address 192.168.4.20\n"
    "after 800 ms print 00:00:04 MQT: Attempting connection...\n"
    "after 300 ms print 00:00:04 MQT: Connected\n"
    "every 5000 ms print MQT: stat/sonoff/RESULT = {\"POWER\":\"ON\"}\n"
    "every 5000 ms print MQT: stat/sonoff/RESULT = {\"POWER\":\"OFF\"}\n";

struct boot_geom {
	const char *version;       /* prefix match */
	uint32_t entry;
	uint32_t len[3];
	uint32_t addr3;
};

/* Segment lengths and the third segment's address of the real boot_v1.x, from the real logs
 * (bootlog.md §4: v1.5 log 01, v1.6 log 02, v1.7 log 27, v1.1 log 04, v1.2 bbs.espressif.com
 * t=1896); entries from protocol.md §12.1 where known (1.2, 1.6, 1.7), else 1.6's. */
static const struct boot_geom boots[] = {
	{ "1.1", 0x40100438, { 612, 788, 264 }, 0x3ffe8314 },
	{ "1.2", 0x401000C0, { 816, 788, 288 }, 0x3ffe8314 },
	{ "1.5", 0x40100438, { 1856, 776, 552 }, 0x3ffe8310 },
	{ "1.6", 0x40100438, { 2408, 776, 632 }, 0x3ffe8310 },
	{ "1.7", 0x4010057C, { 2592, 764, 676 }, 0x3ffe82fc },
};

void
sim_fw_opts_default(struct sim_fw_opts *o)
{
	memset(o, 0, sizeof *o);
	o->layout = SIM_FW_NONOS_OTA;
	o->flash_size = 0x100000;
	o->size_nibble = 2;
	o->header_nibble = -1;
	o->mode = SIM_MODE_DOUT;
	o->freq = 0;
	o->boot_version = "1.6";
	o->slot = 1;
	o->user1 = 1;
	o->app_word = 0x614f7c32;  /* log 36's eboot line */
}

int
sim_fw_parse_size(const char *s, uint32_t *bytes, int *nibble)
{
	static const struct { const char *name; uint32_t kb; int nibble; } sizes[] = {
		{ "256KB", 256, 1 }, { "512KB", 512, 0 }, { "1MB", 1024, 2 }, { "2MB", 2048, 3 },
		{ "2MB-c1", 2048, 5 }, { "4MB", 4096, 4 }, { "4MB-c1", 4096, 6 }, { "8MB", 8192, 8 },
		{ "16MB", 16384, 9 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		if (strcmp(s, sizes[i].name) == 0) {
			*bytes = sizes[i].kb * 1024u;
			*nibble = sizes[i].nibble;
			return 1;
		}
	return 0;
}

uint32_t
sim_fw_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
	}
	return ~c;
}

uint8_t
sim_fw_image_v1(struct buf *out, uint8_t mode, uint8_t size_freq, uint32_t entry,
    const struct sim_fw_seg *segs, unsigned nseg)
{
	size_t start = buf_len(out);
	uint8_t h[8], csum = SIM_IMAGE_CSUM_SEED;

	h[0] = SIM_IMAGE_MAGIC_V1;
	h[1] = (uint8_t)nseg;
	h[2] = mode;
	h[3] = size_freq;
	wr_le32(h + 4, entry);
	buf_add(out, h, 8);
	for (unsigned i = 0; i < nseg; i++) {
		wr_le32(h, segs[i].addr);
		wr_le32(h + 4, segs[i].len);
		buf_add(out, h, 8);
		if (segs[i].len > 0)
			buf_add(out, segs[i].data, segs[i].len);
		csum = sim_image_xor(csum, segs[i].data, segs[i].len);
	}
	while ((buf_len(out) - start) % 16 != 15)
		buf_add_byte(out, 0x00);
	buf_add_byte(out, csum);
	return csum;
}

/* Deterministic filler standing in for code and data. */
static void
filler(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 11);
	}
}

/* Copies text into p (len bytes, the rest filler) followed by a NUL. */
static void
with_text(uint8_t *p, size_t len, const char *text, uint32_t seed)
{
	size_t n = strlen(text);

	filler(p, len, seed);
	if (n + 1 <= len) {
		memcpy(p, text, n);
		p[n] = '\0';
	}
}

static char *
script_blob(const char *script)
{
	return xfmt("%s%s", SIM_APP_MARKER, script ? script : "");
}

static void
place(uint8_t *flash, uint32_t size, uint32_t at, const struct buf *b)
{
	size_t n = buf_len(b);

	if (at < size && n > 0)
		memcpy(flash + at, buf_head(b), n > size - at ? size - at : n);
}

/* The NONOS boot_v1.x stand-in at 0x0. */
static void
build_boot(const struct sim_fw_opts *o, uint8_t sf, struct buf *out)
{
	const struct boot_geom *g = &boots[3];
	struct sim_fw_seg segs[3];
	uint8_t *data[3];
	char *s;

	for (size_t i = 0; i < ARRAY_SIZE(boots); i++)
		if (strncmp(o->boot_version, boots[i].version, 3) == 0)
			g = &boots[i];
	s = xfmt("\n2nd boot version : %s\n", o->boot_version);
	for (int i = 0; i < 3; i++) {
		data[i] = xmalloc(g->len[i]);
		filler(data[i], g->len[i], 0xB007u + (uint32_t)i);
	}
	if (strlen(s) < g->len[1])
		memcpy(data[1] + 16, s, strlen(s));
	segs[0] = (struct sim_fw_seg){ 0x40100000, data[0], g->len[0] };
	segs[1] = (struct sim_fw_seg){ 0x3ffe8000, data[1], g->len[1] };
	segs[2] = (struct sim_fw_seg){ g->addr3, data[2], g->len[2] };
	sim_fw_image_v1(out, o->mode, sf, g->entry, segs, 3);
	for (int i = 0; i < 3; i++)
		free(data[i]);
	free(s);
}

/* Three RAM segments of an application (.text, .data, .rodata); the script in .rodata when
 * rodata_script is set. */
static void
app_ram_segs(struct sim_fw_seg segs[3], uint8_t *bufs[3], const char *blob, int rodata_script,
    uint32_t seed)
{
	uint32_t rolen = 256;

	if (rodata_script)
		rolen = (uint32_t)((strlen(blob) + 1 + 64 + 3) & ~3u);
	bufs[0] = xmalloc(1024);
	bufs[1] = xmalloc(256);
	bufs[2] = xmalloc(rolen);
	filler(bufs[0], 1024, seed);
	filler(bufs[1], 256, seed + 1);
	if (rodata_script)
		with_text(bufs[2], rolen, blob, seed + 2);
	else
		filler(bufs[2], rolen, seed + 2);
	segs[0] = (struct sim_fw_seg){ 0x40100000, bufs[0], 1024 };
	segs[1] = (struct sim_fw_seg){ 0x3ffe8000, bufs[1], 256 };
	segs[2] = (struct sim_fw_seg){ 0x3ffe8100, bufs[2], rolen };
}

/* A v2 user image (protocol.md §12.6) with the script in its IROM segment. */
static void
build_user(const struct sim_fw_opts *o, uint8_t sf, int slot, const char *blob, struct buf *out)
{
	struct sim_fw_seg segs[3];
	uint8_t *bufs[3], h[8], *irom, c4[4];
	uint32_t ilen = (uint32_t)((strlen(blob) + 1 + 64 + 15) & ~15u), crc;

	/* First header as the SDK's gen_appbin writes it: b2 = 0, b3 = app number
	 * (devices.md §4: `EA 04 00 01 04 00 10 40`). */
	h[0] = SIM_IMAGE_MAGIC_V2;
	h[1] = 0x04;
	h[2] = 0;
	h[3] = (uint8_t)slot;
	wr_le32(h + 4, 0x40100004);
	buf_add(out, h, 8);
	irom = xmalloc(ilen);
	with_text(irom, ilen, blob, 0x1200u + (uint32_t)slot);
	wr_le32(h, 0);
	wr_le32(h + 4, ilen);
	buf_add(out, h, 8);
	buf_add(out, irom, ilen);
	free(irom);
	app_ram_segs(segs, bufs, blob, 0, 0xA900u + (uint32_t)slot);
	sim_fw_image_v1(out, o->mode, sf, 0x40100004, segs, 3);
	for (int i = 0; i < 3; i++)
		free(bufs[i]);
	crc = sim_fw_crc32(buf_head(out), buf_len(out));
	crc = crc & 0x80000000u ? crc ^ 0xFFFFFFFFu : crc + 1;
	wr_le32(c4, crc);
	buf_add(out, c4, 4);
}

int
sim_fw_build(const struct sim_fw_opts *o, uint8_t **out, char **cause)
{
	unsigned hn = o->header_nibble >= 0 ? (unsigned)o->header_nibble : (unsigned)o->size_nibble;
	uint8_t sf = (uint8_t)(hn << 4 | (o->freq & 15));
	uint32_t e = sim_image_flash_bytes((unsigned)o->size_nibble), u2;
	struct buf b = BUF_INIT;
	struct sim_app app;
	uint8_t *flash;
	char *blob;

	*out = NULL;
	*cause = NULL;
	if (o->flash_size < 0x10000 || (o->flash_size & 0xFFF) != 0) {
		*cause = xfmt("flash size %u is not a whole number of 4 KB sectors of at least 64 KB; "
		    "use --flash-size 512KB, 1MB, 2MB, 4MB, 8MB or 16MB", (unsigned)o->flash_size);
		return RC_ERR_ARG;
	}
	if (e == 0 || e > o->flash_size) {
		*cause = xfmt("the layout's map (%u, %u KB) does not fit a %u KB flash; give a "
		    "--flash-size of at least the layout's size", (unsigned)o->size_nibble,
		    (unsigned)(e / 1024), (unsigned)(o->flash_size / 1024));
		return RC_ERR_ARG;
	}
	u2 = sim_image_user2_addr((unsigned)o->size_nibble);
	if (o->layout == SIM_FW_NONOS_OTA && (o->user2 || o->slot == 2) && u2 == 0) {
		*cause = xfmt("the %u KB map has no user2 slot; use a 1MB or larger --flash-size",
		    (unsigned)(e / 1024));
		return RC_ERR_ARG;
	}
	if (o->script != NULL && strlen(o->script) > 60000) {
		*cause = xfmt("%s is %zu bytes; the simulator reads at most 60000 bytes of script",
		    o->script_name ? o->script_name : "the script", strlen(o->script));
		return RC_ERR_ARG;
	}
	if (o->script != NULL) {
		struct sim_app_parser p;

		sim_app_init(&app);
		sim_app_parser_init(&p, &app);
		sim_app_parser_feed(&p, o->script, strlen(o->script));
		sim_app_parser_finish(&p);
		if (app.error != NULL) {
			*cause = xfmt("%s:%u: %s (%u problem%s in the script; fix the script and build "
			    "again)", o->script_name ? o->script_name : "script", app.error_line,
			    app.error, app.nerrors, app.nerrors == 1 ? "" : "s");
			sim_app_free(&app);
			return RC_ERR_ARG;
		}
		sim_app_free(&app);
	}

	flash = xmalloc(o->flash_size);
	memset(flash, 0xFF, o->flash_size);
	blob = o->script != NULL ? script_blob(o->script) : xstrdup("");
	switch (o->layout) {
	case SIM_FW_NONOS_OTA:
		build_boot(o, sf, &b);
		place(flash, o->flash_size, 0, &b);
		buf_reset(&b);
		if (o->user1) {
			build_user(o, sf, 1, blob, &b);
			place(flash, o->flash_size, 0x1000, &b);
			buf_reset(&b);
		}
		if (o->user2) {
			build_user(o, sf, 2, blob, &b);
			place(flash, o->flash_size, u2, &b);
			buf_reset(&b);
		}
		if (o->slot == 2) {
			/* The system parameter area (sim_boot.c, nonos_boot): flag sector byte 0 = 0
			 * selects E-0x3000, whose boot byte's low nibble 1 selects user2. */
			flash[e - 0x1000] = 0x00;
			flash[e - 0x3000] = 0x01;
		}
		break;
	case SIM_FW_NONOS_PLAIN: {
		struct sim_fw_seg segs[3];
		uint8_t *bufs[3];

		app_ram_segs(segs, bufs, blob, 1, 0x5EED);
		sim_fw_image_v1(&b, o->mode, sf, 0x40100004, segs, 3);
		for (int i = 0; i < 3; i++)
			free(bufs[i]);
		place(flash, o->flash_size, 0, &b);
		filler(flash + 0x10000, 0x1000, 0x1A0A);  /* eagle.irom0text.bin at 0x10000 */
		break;
	}
	case SIM_FW_RBOOT: {
		struct sim_fw_seg segs[3];
		uint8_t *bufs[3], *seg0 = xmalloc(1516), *seg1 = xmalloc(700), cfg[24];
		static const char banner[] = "\r\nrBoot v1.2.1 - richardaburton@gmail.com\r\n";

		/* rBoot stand-in: log 29's two segments (1516 and 700 bytes). */
		filler(seg0, 1516, 0x4B00);
		with_text(seg1, 700, banner, 0x4B01);
		segs[0] = (struct sim_fw_seg){ 0x40100000, seg0, 1516 };
		segs[1] = (struct sim_fw_seg){ 0x3ffe8000, seg1, 700 };
		sim_fw_image_v1(&b, o->mode, sf, 0x40100000, segs, 2);
		free(seg0);
		free(seg1);
		place(flash, o->flash_size, 0, &b);
		buf_reset(&b);
		/* Config (sector 1): magic 0xE1, version 1, mode 0, current rom, gpio rom 0, 2 roms. */
		memset(cfg, 0, sizeof cfg);
		cfg[0] = 0xE1;
		cfg[1] = 0x01;
		cfg[3] = (uint8_t)(o->slot - 1);
		cfg[5] = 2;
		wr_le32(cfg + 8, 0x2000);
		wr_le32(cfg + 12, e / 2 + 0x2000);
		memcpy(flash + 0x1000, cfg, sizeof cfg);
		for (int slot = 1; slot <= 2; slot++) {
			if (!(slot == 1 ? o->user1 : o->user2))
				continue;
			app_ram_segs(segs, bufs, blob, 1, 0x4B10u + (uint32_t)slot);
			sim_fw_image_v1(&b, o->mode, sf, 0x40100004, segs, 3);
			for (int i = 0; i < 3; i++)
				free(bufs[i]);
			place(flash, o->flash_size, slot == 1 ? 0x2000 : e / 2 + 0x2000, &b);
			buf_reset(&b);
		}
		break;
	}
	case SIM_FW_ARDUINO: {
		struct sim_fw_seg segs[4];
		uint8_t *eb = xmalloc(1384), *bufs[3], *irom;
		uint32_t ilen = (uint32_t)((strlen(blob) + 1 + 64 + 3) & ~3u) + 4;

		/* eboot: one segment at 0x4010f000, 1384 bytes as in log 36. */
		filler(eb, 1384, 0xEB00);
		segs[0] = (struct sim_fw_seg){ 0x4010f000, eb, 1384 };
		sim_fw_image_v1(&b, o->mode, sf, 0x4010f000, segs, 1);
		free(eb);
		place(flash, o->flash_size, 0, &b);
		buf_reset(&b);
		/* The sketch: IROM first (mapped at 0x40201010), then the RAM segments. */
		irom = xmalloc(ilen);
		with_text(irom + 4, ilen - 4, blob, 0x1A0B);
		wr_le32(irom, o->app_word);
		segs[0] = (struct sim_fw_seg){ 0x40201010, irom, ilen };
		app_ram_segs(segs + 1, bufs, blob, 0, 0xA4D0);
		sim_fw_image_v1(&b, o->mode, sf, 0x40100004, segs, 4);
		free(irom);
		for (int i = 0; i < 3; i++)
			free(bufs[i]);
		place(flash, o->flash_size, 0x1000, &b);
		break;
	}
	}
	if (o->corrupt_checksum) {
		/* The stored checksum of the image at 0x0 is the last byte of its 16-byte block. */
		uint32_t end = 8;

		for (unsigned i = 0; i < flash[1]; i++)
			end += 8 + rd_le32(flash + end + 4);
		flash[end | 15] ^= 0xFF;
	}
	if (o->layout != SIM_FW_ARDUINO && !o->blank_init_data) {
		/* esp_init_data_default at E-0x4000: byte 0 must be 0x05 (protocol.md §13.1); bytes
		 * 112-114 as log 01 prints them. The other bytes of Espressif's file are not in the
		 * reference and are left 0. */
		uint8_t *init = flash + e - 0x4000;

		memset(init, 0, 128);
		init[0] = 0x05;
		init[114] = 0x01;
	}
	buf_free(&b);
	free(blob);
	*out = flash;
	return RC_OK;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: espdesk-sim make-firmware OUT [options]\n"
	    "Builds a whole flash image for espdesk-sim (OUT '-' writes to stdout).\n"
	    "  --demo                    a Sonoff Basic with a Tasmota-like log (arduino layout)\n"
	    "  --layout L                nonos-ota (default), nonos-plain, arduino or rboot\n"
	    "  --family F                tasmota (arduino + demo log) or stock (nonos-ota, boot 1.7,\n"
	    "                            no script: the SDK banner only)\n"
	    "  --flash-size S            512KB, 1MB (default), 2MB, 2MB-c1, 4MB, 4MB-c1, 8MB, 16MB\n"
	    "  --header-size S           size the header at 0x0 claims, if not the layout's\n"
	    "  --flash-mode M            qio, qout, dio or dout (default)\n"
	    "  --flash-freq F            40m (default), 26m, 20m or 80m\n"
	    "  --boot-version V          nonos-ota boot_v1.x: 1.1, 1.2, 1.5, 1.6 (default), 1.7(5d6f877)\n"
	    "  --script FILE             the application's script (doc/sim-firmware.md)\n"
	    "  --slot N                  nonos-ota/rboot: the parameters select slot N (1 or 2)\n"
	    "  --user2                   nonos-ota/rboot: also write the second slot\n"
	    "  --no-user1                nonos-ota/rboot: leave the first slot empty\n"
	    "  --corrupt-checksum        break the checksum of the image at 0x0\n"
	    "  --blank-init-data         leave esp_init_data (E-0x4000) erased\n");
}

static int
parse_mode(const char *s, uint8_t *mode)
{
	static const char *const names[4] = { "qio", "qout", "dio", "dout" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*mode = (uint8_t)i;
			return 1;
		}
	return 0;
}

static int
parse_freq(const char *s, uint8_t *freq)
{
	if (strcmp(s, "40m") == 0)
		*freq = 0x0;
	else if (strcmp(s, "26m") == 0)
		*freq = 0x1;
	else if (strcmp(s, "20m") == 0)
		*freq = 0x2;
	else if (strcmp(s, "80m") == 0)
		*freq = 0xF;
	else
		return 0;
	return 1;
}

static char *
read_text(const char *path, char **cause)
{
	struct buf b = BUF_INIT;
	char chunk[4096], *s;
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		*cause = xfmt("cannot open script %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (memchr(buf_head(&b) ? (const void *)buf_head(&b) : "", '\0', buf_len(&b)) != NULL) {
		*cause = xfmt("script %s contains a NUL byte; a script is text", path);
		buf_free(&b);
		return NULL;
	}
	s = xstrndup(buf_head(&b) ? (const char *)buf_head(&b) : "", buf_len(&b));
	buf_free(&b);
	return s;
}

static const char *
layout_name(enum sim_fw_layout l)
{
	return l == SIM_FW_NONOS_OTA ? "nonos-ota" : l == SIM_FW_NONOS_PLAIN ? "nonos-plain" :
	    l == SIM_FW_RBOOT ? "rboot" : "arduino";
}

int
sim_fw_main(int argc, char **argv)
{
	enum { O_DEMO = 0x100, O_LAYOUT, O_FAMILY, O_SIZE, O_HSIZE, O_MODE, O_FREQ, O_BOOT,
		O_SCRIPT, O_SLOT, O_USER2, O_NOUSER1, O_CORRUPT, O_BLANKINIT, O_HELP };
	static const struct option longopts[] = {
		{ "demo", no_argument, NULL, O_DEMO },
		{ "layout", required_argument, NULL, O_LAYOUT },
		{ "family", required_argument, NULL, O_FAMILY },
		{ "flash-size", required_argument, NULL, O_SIZE },
		{ "header-size", required_argument, NULL, O_HSIZE },
		{ "flash-mode", required_argument, NULL, O_MODE },
		{ "flash-freq", required_argument, NULL, O_FREQ },
		{ "boot-version", required_argument, NULL, O_BOOT },
		{ "script", required_argument, NULL, O_SCRIPT },
		{ "slot", required_argument, NULL, O_SLOT },
		{ "user2", no_argument, NULL, O_USER2 },
		{ "no-user1", no_argument, NULL, O_NOUSER1 },
		{ "corrupt-checksum", no_argument, NULL, O_CORRUPT },
		{ "blank-init-data", no_argument, NULL, O_BLANKINIT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_fw_opts o;
	const char *script_path = NULL, *outpath;
	char *script = NULL, *cause = NULL;
	uint8_t *flash = NULL;
	uint32_t bytes;
	int ch, nib, rc = 0;
	FILE *f;

	sim_fw_opts_default(&o);
	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_DEMO:
		case O_FAMILY:
			if (ch == O_DEMO || strcmp(optarg, "tasmota") == 0) {
				o.layout = SIM_FW_ARDUINO;
				o.script = demo_script;
				o.script_name = "the demo script";
			} else if (strcmp(optarg, "stock") == 0) {
				/* devices.md §4: ITEAD's own firmware, boot 1.7, DOUT, 512+512. */
				o.layout = SIM_FW_NONOS_OTA;
				o.boot_version = "1.7(5d6f877)";
				o.script = NULL;
			} else {
				fprintf(stderr, "espdesk-sim make-firmware: unknown family '%s'; use "
				    "tasmota or stock\n", optarg);
				return 2;
			}
			break;
		case O_LAYOUT:
			if (strcmp(optarg, "nonos-ota") == 0)
				o.layout = SIM_FW_NONOS_OTA;
			else if (strcmp(optarg, "nonos-plain") == 0)
				o.layout = SIM_FW_NONOS_PLAIN;
			else if (strcmp(optarg, "arduino") == 0)
				o.layout = SIM_FW_ARDUINO;
			else if (strcmp(optarg, "rboot") == 0)
				o.layout = SIM_FW_RBOOT;
			else {
				fprintf(stderr, "espdesk-sim make-firmware: unknown layout '%s'; use "
				    "nonos-ota, nonos-plain, arduino or rboot\n", optarg);
				return 2;
			}
			break;
		case O_SIZE:
		case O_HSIZE:
			if (!sim_fw_parse_size(optarg, &bytes, &nib)) {
				fprintf(stderr, "espdesk-sim make-firmware: unknown flash size '%s'; use "
				    "512KB, 1MB, 2MB, 2MB-c1, 4MB, 4MB-c1, 8MB or 16MB\n", optarg);
				return 2;
			}
			if (ch == O_SIZE) {
				o.flash_size = bytes;
				o.size_nibble = nib;
			} else
				o.header_nibble = nib;
			break;
		case O_MODE:
			if (!parse_mode(optarg, &o.mode)) {
				fprintf(stderr, "espdesk-sim make-firmware: unknown flash mode '%s'; use "
				    "qio, qout, dio or dout\n", optarg);
				return 2;
			}
			break;
		case O_FREQ:
			if (!parse_freq(optarg, &o.freq)) {
				fprintf(stderr, "espdesk-sim make-firmware: unknown flash frequency '%s'; "
				    "use 40m, 26m, 20m or 80m\n", optarg);
				return 2;
			}
			break;
		case O_BOOT:
			o.boot_version = optarg;
			break;
		case O_SCRIPT:
			script_path = optarg;
			break;
		case O_SLOT:
			if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) {
				fprintf(stderr, "espdesk-sim make-firmware: --slot is 1 or 2\n");
				return 2;
			}
			o.slot = optarg[0] - '0';
			break;
		case O_USER2:
			o.user2 = 1;
			break;
		case O_NOUSER1:
			o.user1 = 0;
			break;
		case O_CORRUPT:
			o.corrupt_checksum = 1;
			break;
		case O_BLANKINIT:
			o.blank_init_data = 1;
			break;
		case O_HELP:
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "espdesk-sim make-firmware: give exactly one output file\n");
		usage(stderr);
		return 2;
	}
	outpath = argv[optind];
	if (script_path != NULL) {
		if ((script = read_text(script_path, &cause)) == NULL) {
			fprintf(stderr, "espdesk-sim make-firmware: %s\n", cause);
			free(cause);
			return 1;
		}
		o.script = script;
		o.script_name = script_path;
	}
	if (sim_fw_build(&o, &flash, &cause) != RC_OK) {
		fprintf(stderr, "espdesk-sim make-firmware: %s\n", cause);
		free(cause);
		free(script);
		return 1;
	}
	f = strcmp(outpath, "-") == 0 ? stdout : fopen(outpath, "wb");
	if (f != NULL) {
		int ok = fwrite(flash, 1, o.flash_size, f) == o.flash_size;

		if ((f != stdout ? fclose(f) : fflush(f)) != 0)
			ok = 0;
		if (!ok)
			f = NULL;
	}
	if (f == NULL) {
		fprintf(stderr, "espdesk-sim make-firmware: cannot write %s: %s; check that the "
		    "directory exists and is writable\n", outpath, strerror(errno));
		rc = 1;
	} else if (f != stdout)
		printf("wrote %s: %u KB, %s layout, %s, header %s %s\n", outpath,
		    (unsigned)(o.flash_size / 1024), layout_name(o.layout),
		    o.script ? (o.script_name ? o.script_name : "script") : "no script",
		    sim_image_mode_str(o.mode), sim_image_map_str(
		    o.header_nibble >= 0 ? (unsigned)o.header_nibble : (unsigned)o.size_nibble, 1));
	free(flash);
	free(script);
	return rc;
}
