/*
 * Images and dumps, built by hand here from the byte layouts of protocol.md §12-§13 (never by our
 * own writer): header, segments, zero padding to 15 mod 16, the 0xEF-seeded XOR checksum, the v2
 * OTA layout with its CRC, and the NONOS flash map.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image/image.h"
#include "tap.h"

struct seg {
	uint32_t addr;
	uint32_t len;
	uint8_t fill;
};

/* Writes a v1 image at buf+off per §12.1-§12.3; returns its length. */
static size_t
mk_v1(uint8_t *buf, size_t off, const struct seg *s, unsigned n, uint8_t mode, uint8_t sizefreq,
    uint32_t entry, size_t file_start)
{
	size_t p = off;
	uint8_t csum = 0xEF;

	buf[p++] = 0xE9;
	buf[p++] = (uint8_t)n;
	buf[p++] = mode;
	buf[p++] = sizefreq;
	memcpy(buf + p, (uint8_t[]){ (uint8_t)entry, (uint8_t)(entry >> 8), (uint8_t)(entry >> 16), (uint8_t)(entry >> 24) }, 4);
	p += 4;
	for (unsigned i = 0; i < n; i++) {
		memcpy(buf + p, (uint8_t[]){ (uint8_t)s[i].addr, (uint8_t)(s[i].addr >> 8), (uint8_t)(s[i].addr >> 16), (uint8_t)(s[i].addr >> 24),
		    (uint8_t)s[i].len, (uint8_t)(s[i].len >> 8), (uint8_t)(s[i].len >> 16), (uint8_t)(s[i].len >> 24) }, 8);
		p += 8;
		for (uint32_t k = 0; k < s[i].len; k++) {
			buf[p] = (uint8_t)(s[i].fill + k * 7);
			csum ^= buf[p++];
		}
	}
	while ((p - file_start) % 16 != 15)
		buf[p++] = 0x00;
	buf[p++] = csum;
	return p - off;
}

/* A v2 (0xEA) image per §12.6 with the SDK's b2 = 0, b3 = app number; returns its length. */
static size_t
mk_v2(uint8_t *buf, size_t off, uint32_t irom_len, int app)
{
	static const struct seg s[] = { { 0x40100000, 0x200, 0x11 }, { 0x3FFE8000, 0x40, 0x22 } };
	size_t p = off, n;
	uLong c;

	memcpy(buf + p, (uint8_t[]){ 0xEA, 0x04, 0x00, (uint8_t)app, 0x04, 0x00, 0x10, 0x40 }, 8);
	p += 8;
	memcpy(buf + p, (uint8_t[]){ 0, 0, 0, 0, (uint8_t)irom_len, (uint8_t)(irom_len >> 8), (uint8_t)(irom_len >> 16), 0 }, 8);
	p += 8;
	for (uint32_t k = 0; k < irom_len; k++)
		buf[p++] = (uint8_t)(k ^ 0x5A);
	p += mk_v1(buf, p, s, 2, 0, 0x00, 0x40100004, off);
	c = crc32(0L, buf + off, (uInt)(p - off));
	c = (c & 0x80000000u) ? (c ^ 0xFFFFFFFFu) : (c + 1);
	buf[p++] = (uint8_t)c; buf[p++] = (uint8_t)(c >> 8); buf[p++] = (uint8_t)(c >> 16); buf[p++] = (uint8_t)(c >> 24);
	n = p - off;
	return n;
}

static const struct seg boot_segs[] = {
	{ 0x40100000, 1856, 0x31 }, { 0x3FFE8000, 776, 0x42 }, { 0x3FFE8310, 632, 0x53 },
};

/* A 1 MB stock-like dump: boot_v1.7 (entry from §12.1) with DOUT/1MB, user1 at 0x1000 as a v2
 * image, esp_init_data at 0xFC000, blank parameters, an eWeLink identity in a config sector. */
static uint8_t *
mk_stock_dump(size_t size, uint8_t sizefreq)
{
	uint8_t *d = malloc(size);

	memset(d, 0xFF, size);
	mk_v1(d, 0, boot_segs, 3, 3, sizefreq, 0x4010057C, 0);
	mk_v2(d, 0x1000, 0x3000, 1);
	d[0xFC000] = 0x05;
	memset(d + 0xFC001, 0x00, 127);
	static const char cfg[] = "{\"deviceid\":\"10000cbf67\",\"apikey\":\"6f8b4c1e-2a3d-4e5f-9a0b-1c2d3e4f5a6b\"}";
	static const char net[] = "host=eu-disp.coolkit.cc;mac=d8:f1:5b:00:11:22";

	memcpy(d + 0x7A000, cfg, sizeof cfg - 1);
	memcpy(d + 0x7B000, net, sizeof net - 1);
	return d;
}

static void
test_v1_parse(void)
{
	uint8_t buf[4096];
	struct image img;
	char *cause = NULL;
	size_t n;

	memset(buf, 0xFF, sizeof buf);
	n = mk_v1(buf, 0, boot_segs, 3, 2, 0x20, 0x40100438, 0);
	T_EQ_INT(n % 16, 0);
	T_EQ_INT(image_parse(buf, n, 0, &img, &cause), RC_OK);
	T_TRUE(cause == NULL);
	T_EQ_INT(img.fmt, IMAGE_FMT_V1);
	T_EQ_INT(img.nseg, 3);
	T_EQ_INT(img.len, n);
	T_EQ_HEX(img.entry, 0x40100438);
	T_EQ_HEX(img.seg[1].addr, 0x3FFE8000);
	T_EQ_INT(img.seg[2].len, 632);
	T_EQ_STR(image_mode_name(img.mode), "DIO");
	T_EQ_STR(image_size_name(img.size_code), "1MB");
	T_EQ_STR(image_freq_name(img.freq_code), "40MHz");
	T_TRUE(image_ok(&img));
}

static void
test_checksum_one_bit(void)
{
	uint8_t buf[4096];
	struct image img;
	char *cause = NULL;
	size_t n = mk_v1(buf, 0, boot_segs, 3, 3, 0x20, 0x4010057C, 0);

	buf[16 + 100] ^= 0x04; /* one bit of segment 1's data */
	T_EQ_INT(image_parse(buf, n, 0, &img, &cause), RC_OK);
	T_FALSE(image_ok(&img));
	T_EQ_INT(img.csum_stored ^ img.csum_calc, 0x04);
	image_fix_checksum(buf, &img);
	T_EQ_INT(image_parse(buf, n, 0, &img, &cause), RC_OK);
	T_TRUE(image_ok(&img));
}

static void
expect_fail(const uint8_t *buf, size_t len, uint32_t off, const char *needle)
{
	struct image img;
	char *cause = NULL;

	T_EQ_INT(image_parse(buf, len, off, &img, &cause), RC_ERR_FORMAT);
	T_CONTAINS(cause, needle);
	free(cause);
}

static void
test_malformed(void)
{
	uint8_t buf[4096];
	size_t n = mk_v1(buf, 0, boot_segs, 3, 3, 0x20, 0x4010057C, 0);

	expect_fail(buf, 5, 0, "at 0x0: the image header is cut off (5 of 8 bytes)");
	/* Cut inside segment 2's header (header 8 + seg1 8+1856 = 1872; seg2 header at 0x750). */
	expect_fail(buf, 0x750 + 4, 0, "at 0x750: segment 2 of 3: its header is cut off");
	/* Cut inside segment 3's data. */
	expect_fail(buf, n - 40, 0, "at 0xa60: segment 3 of 3 (load 0x3ffe8310) is 0x278 bytes long, but only 0x260 bytes follow");
	/* Everything but the checksum byte. */
	expect_fail(buf, n - 1, 0, "the checksum byte after the last segment is missing");
	buf[0] = 0x00;
	expect_fail(buf, n, 0, "at 0x0: byte 0x00 is not an image magic");
	buf[0] = 0xE9;
	buf[1] = 17;
	expect_fail(buf, n, 0, "declares 17 segments (an image has 1 to 16)");
	buf[1] = 0;
	expect_fail(buf, n, 0, "declares 0 segments");
	buf[1] = 3;
	/* A segment length that would wrap a 32-bit offset. */
	buf[12] = 0xF0; buf[13] = 0xFF; buf[14] = 0xFF; buf[15] = 0xFF;
	expect_fail(buf, n, 0, "at 0x8: segment 1 of 3 (load 0x40100000) is 0xfffffff0 bytes long");
	expect_fail(buf, n, 0x5000, "offset 0x5000 is past the end");
}

static void
test_v2_parse(void)
{
	static uint8_t buf[0x8000];
	struct image img;
	char *cause = NULL;
	size_t n;

	n = mk_v2(buf, 0, 0x1234, 1);
	T_EQ_INT(image_parse(buf, n, 0, &img, &cause), RC_OK);
	T_EQ_INT(img.fmt, IMAGE_FMT_V2);
	T_EQ_INT(img.irom_len, 0x1234);
	T_EQ_INT(img.v2_b3, 1);
	T_EQ_INT(img.hdr_off, 16 + 0x1234);
	T_TRUE(img.has_crc);
	T_EQ_INT(img.len, n);
	T_TRUE(image_ok(&img));
	/* The IROM part is outside the checksum but inside the CRC (§12.6). */
	buf[0x20] ^= 1;
	T_EQ_INT(image_parse(buf, n, 0, &img, &cause), RC_OK);
	T_EQ_INT(img.csum_stored, img.csum_calc);
	T_TRUE(img.crc_stored != img.crc_calc);
	T_FALSE(image_ok(&img));
	buf[1] = 0x03;
	expect_fail(buf, n, 0, "must have 0x04 in byte 1");
	buf[1] = 0x04;
	expect_fail(buf, 0x100, 0, "the OTA image's IROM part is 0x1234 bytes long, but only 0xf0 bytes follow");
}

static void
test_header_codes(void)
{
	T_EQ_INT(image_size_parse("1MB"), 2);
	/* esptool v1.x's Mbit names ("4m" = 512 KB) are refused: today "4M" means 4 MB. */
	T_EQ_INT(image_size_parse("32m-c1"), -2);
	T_EQ_INT(image_size_parse("512kb"), 0);
	T_EQ_INT(image_size_parse("4M"), 4);
	T_EQ_INT(image_size_parse("4MB-c1"), 6);
	T_EQ_INT(image_size_parse("keep"), -1);
	T_EQ_INT(image_size_parse("3MB"), -2);
	T_EQ_INT(image_mode_parse("dout"), 3);
	T_EQ_INT(image_freq_parse("80m"), 0xF);
	T_EQ_INT(image_freq_parse("26m"), 1);
	T_EQ_STR(image_map_name(2), "8Mbit(512KB+512KB)");
	T_EQ_STR(image_map_name(6), "32Mbit(1024KB+1024KB)");
	T_EQ_HEX(image_user2_addr(2), 0x81000);
	T_EQ_HEX(image_user2_addr(5), 0x101000);
	T_EQ_HEX(image_size_bytes(9), 0x1000000);
	T_EQ_INT(image_size_code_for(0x400000, 0), 4);
	T_EQ_INT(image_size_code_for(0x400000, 1), 6);
}

static void
test_dump_stock(void)
{
	uint8_t *d = mk_stock_dump(0x100000, 0x20);
	struct image_dump *x = calloc(1, sizeof *x);
	char *cause = NULL;

	T_EQ_INT(image_dump_explain(d, 0x100000, 0x100000, x, &cause), RC_OK);
	T_EQ_INT(x->boot_kind, IMAGE_BOOT_NONOS);
	T_EQ_STR(x->boot_version, "1.7");
	T_EQ_HEX(x->hdr_size, 0x100000);
	T_TRUE(x->slot[1].present);
	T_EQ_INT(x->slot[1].img.fmt, IMAGE_FMT_V2);
	T_FALSE(x->slot[2].present);
	T_EQ_HEX(x->slot[2].addr, 0x81000);
	T_EQ_INT(x->selected, 1);
	T_CONTAINS(x->selected_why, "blank");
	T_EQ_HEX(x->rf_cal, 0xFB000);
	T_EQ_HEX(x->init_data, 0xFC000);
	T_EQ_HEX(x->sysparam, 0xFD000);
	T_TRUE(x->init_ok);
	T_EQ_INT(x->family, IMAGE_FAM_STOCK);
	T_EQ_INT(x->ndevice_id, 1);
	T_EQ_STR(x->device_id[0].text, "10000cbf67");
	T_EQ_HEX(x->device_id[0].off, 0x7A000 + 13);
	T_EQ_INT(x->napi_key, 1);
	T_EQ_STR(x->api_key[0].text, "6f8b4c1e-2a3d-4e5f-9a0b-1c2d3e4f5a6b");
	T_EQ_INT(x->nmac, 1);
	T_EQ_STR(x->mac[0].text, "d8:f1:5b:00:11:22");
	T_EQ_INT(x->will_boot, 1);
	free(d);
	free(x);
}

static int
has_verdict(const struct image_dump *x, const char *needle)
{
	for (unsigned i = 0; i < x->nverdict; i++)
		if (strstr(x->verdict[i], needle) != NULL)
			return 1;
	return 0;
}

static void
test_dump_size_mismatch(void)
{
	/* §13.3: a 1 MB dump whose header says 4 MB looks for its parameters at the 4 MB end. */
	uint8_t *d = mk_stock_dump(0x100000, 0x40);
	struct image_dump *x = calloc(1, sizeof *x);
	char *cause = NULL;

	image_dump_explain(d, 0x100000, 0, x, &cause);
	T_TRUE(has_verdict(x, "header says 4MB, this dump is 1024 KB: it will look for its parameters at 0x3FC000"));
	T_FALSE(x->area_in_dump);
	/* Judged against a 1 MB chip it will not boot. */
	image_dump_explain(d, 0x100000, 0x100000, x, &cause);
	T_TRUE(has_verdict(x, "header says 4MB but the chip has 1024 KB"));
	T_EQ_INT(x->will_boot, 0);
	free(d);
	/* A 1 MB header on a 4 MB chip boots, using the first 1 MB. */
	d = mk_stock_dump(0x100000, 0x20);
	image_dump_explain(d, 0x100000, 0x400000, x, &cause);
	T_TRUE(has_verdict(x, "header says 1MB on a 4096 KB chip"));
	T_EQ_INT(x->will_boot, 1);
	free(d);
	free(x);
}

static void
test_dump_init_data_and_slots(void)
{
	uint8_t *d = mk_stock_dump(0x100000, 0x20);
	struct image_dump *x = calloc(1, sizeof *x);
	char *cause = NULL;

	/* Erased init data: the SDK's rf_cal complaint (§13.3, log 22). */
	memset(d + 0xFC000, 0xFF, 0x1000);
	image_dump_explain(d, 0x100000, 0, x, &cause);
	T_TRUE(x->init_blank);
	T_TRUE(has_verdict(x, "rf_cal[0] !=0x05,is 0xFF"));
	T_EQ_INT(x->will_boot, 0);
	d[0xFC000] = 0x05;
	/* Parameters at E-0x3000 select user2, which is empty: error magic (log 27). */
	d[0xFD000] = 0x01;
	image_dump_explain(d, 0x100000, 0, x, &cause);
	T_EQ_INT(x->selected, 2);
	T_TRUE(has_verdict(x, "select user2 at 0x81000, but there is no valid image there"));
	T_TRUE(has_verdict(x, "falls back"));
	/* With user2 written, it boots user2. */
	mk_v2(d, 0x81000, 0x2000, 2);
	image_dump_explain(d, 0x100000, 0, x, &cause);
	T_TRUE(x->slot[2].present);
	T_EQ_INT(x->will_boot, 1);
	free(d);
	free(x);
}

static void
test_dump_blank_and_zero(void)
{
	uint8_t *d = malloc(0x100000);
	struct image_dump *x = calloc(1, sizeof *x);
	char *cause = NULL;

	memset(d, 0xFF, 0x100000);
	T_EQ_INT(image_dump_explain(d, 0x100000, 0, x, &cause), RC_OK);
	T_FALSE(x->has_boot);
	T_EQ_INT(x->will_boot, 0);
	T_TRUE(has_verdict(x, "first sector is blank"));
	T_EQ_INT(x->nruns, 1);
	T_EQ_INT(x->runs[0].len, 0x100000);
	T_EQ_INT(x->runs[0].value, 0xFF);
	memset(d, 0x00, 0x100000);
	image_dump_explain(d, 0x100000, 0, x, &cause);
	T_TRUE(has_verdict(x, "byte 0x00 is not an image magic"));
	T_EQ_INT(x->runs[0].value, 0x00);
	T_EQ_INT(image_dump_explain(d, 0, 0, x, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "empty");
	free(cause);
	free(d);
	free(x);
}

static void
test_families(void)
{
	static const struct { const char *text; enum image_family fam; } cases[] = {
		{ "Tasmota 9.5.0 by Theo Arends", IMAGE_FAM_TASMOTA },
		{ "ESPHome version 2023.5.0", IMAGE_FAM_ESPHOME },
		{ "ESPURNA 1.15.0", IMAGE_FAM_ESPURNA },
		{ "AT version:1.2.0.0", IMAGE_FAM_AT },
		{ "\n>>>stack>>>\n", IMAGE_FAM_ARDUINO },
		{ "http://dl.itead.cn/", IMAGE_FAM_STOCK },
		{ "nothing to see", IMAGE_FAM_UNKNOWN },
	};
	uint8_t buf[256];
	const char *m;
	uint32_t off;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(buf, 0xFF, sizeof buf);
		memcpy(buf + 100, cases[i].text, strlen(cases[i].text));
		T_EQ_INT(image_family_detect(buf, sizeof buf, &m, &off), cases[i].fam);
		if (cases[i].fam != IMAGE_FAM_UNKNOWN)
			T_TRUE(off >= 100);
	}
}

static void
test_patch_header(void)
{
	uint8_t buf[4096], before[4096];
	size_t n = mk_v1(buf, 0, boot_segs, 3, 0, 0x00, 0x4010057C, 0); /* as shipped: QIO 512KB */
	struct image img;
	char *cause = NULL;

	memcpy(before, buf, n);
	T_EQ_INT(image_patch_header(buf, n, 0, 3, 2, -1, &cause), 1);
	T_EQ_INT(buf[2], 0x03);
	T_EQ_INT(buf[3], 0x20); /* esptool's "Flash params set to 0x0320" (§12.7) */
	T_EQ_MEM(buf + 4, before + 4, n - 4);
	T_EQ_INT(image_parse(buf, n, 0, &img, &cause), RC_OK);
	T_TRUE(image_ok(&img));
	T_EQ_INT(image_patch_header(buf, n, 0, 3, 2, -1, &cause), 0);
	memset(buf, 0xFF, 16);
	T_EQ_INT(image_patch_header(buf, n, 0, 3, 2, -1, &cause), RC_ERR_FORMAT);
	T_CONTAINS(cause, "not an ESP8266 image, so no header was changed");
	free(cause);
}

static void
test_patch_header_v2_crc(void)
{
	static uint8_t buf[0x4000];
	size_t n = mk_v2(buf, 0, 0x100, 1);
	struct image img;
	char *cause = NULL;

	T_EQ_INT(image_patch_header(buf, n, 0, 3, -1, -1, &cause), 1);
	T_EQ_INT(image_parse(buf, n, 0, &img, &cause), RC_OK);
	T_EQ_INT(img.mode, 3);
	T_TRUE(image_ok(&img)); /* the CRC over the whole file was fixed */
}

static void
test_patch_identity(void)
{
	uint8_t *d = mk_stock_dump(0x100000, 0x20);
	uint8_t *orig = malloc(0x100000);
	struct image_dump *x = calloc(1, sizeof *x);
	char *cause = NULL;
	unsigned changes = 0, diffs = 0;

	memcpy(orig, d, 0x100000);
	T_EQ_INT(image_patch_identity(d, 0x100000, "1000abcdef", "00000000-1111-2222-3333-444444444444",
	    "AA:BB:CC:DD:EE:FF", &changes, &cause), RC_OK);
	T_EQ_INT(changes, 3);
	for (size_t i = 0; i < 0x100000; i++)
		diffs += d[i] != orig[i];
	/* Only differing characters change: 6 in the id, 31 in the key (one '4' already matches), 12 in the MAC. */
	T_EQ_INT(diffs, 6 + 31 + 12);
	image_dump_explain(d, 0x100000, 0, x, &cause);
	T_EQ_STR(x->device_id[0].text, "1000abcdef");
	T_EQ_STR(x->mac[0].text, "aa:bb:cc:dd:ee:ff"); /* the original's lower case is kept */
	T_EQ_INT(x->will_boot, 1);
	/* Two different device ids: refuse and change nothing. */
	memcpy(d + 0x7C000, "1000999999", 10);
	memcpy(orig, d, 0x100000);
	T_EQ_INT(image_patch_identity(d, 0x100000, "1000abcdee", NULL, NULL, &changes, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "two different device ids");
	free(cause);
	T_EQ_MEM(d, orig, 0x100000);
	T_EQ_INT(image_patch_identity(d, 0x100000, "2000abcdee", NULL, NULL, &changes, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "not 10 hex characters starting with 1000");
	free(cause);
	free(d);
	free(orig);
	free(x);
}

static void
test_relayout_roundtrip(void)
{
	uint8_t *d = mk_stock_dump(0x100000, 0x20), *big = NULL, *back = NULL;
	struct image_dump *x = calloc(1, sizeof *x);
	char *cause = NULL;

	d[0xFB000] = 0xCA; /* RF calibration data */
	d[0xFD010] = 0x5E; /* a system parameter */
	T_EQ_INT(image_relayout(d, 0x100000, 0x400000, &big, &cause), RC_OK);
	T_EQ_INT(big[3], 0x40);
	T_EQ_MEM(big + 4, d + 4, 0xFB000 - 4);
	T_EQ_INT(big[0x3FB000], 0xCA);
	T_EQ_INT(big[0x3FC000], 0x05);
	T_EQ_INT(big[0x3FD010], 0x5E);
	T_EQ_INT(big[0xFC000], 0xFF);
	image_dump_explain(big, 0x400000, 0x400000, x, &cause);
	T_TRUE(x->init_ok);
	T_EQ_INT(x->will_boot, 1);
	T_EQ_INT(x->nverdict, 1); /* only the identity note */
	T_EQ_INT(image_relayout(big, 0x400000, 0x100000, &back, &cause), RC_OK);
	T_EQ_MEM(back, d, 0x100000);
	/* Data in the way refuses the shrink and says where. */
	big[0x200000] = 0x00;
	free(back);
	T_EQ_INT(image_relayout(big, 0x400000, 0x100000, &back, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "byte 0x200000 is in use");
	free(cause);
	/* A 512+512 dump has no 1024+1024 counterpart, and a truncated dump is refused. */
	T_EQ_INT(image_relayout(d, 0x80000, 0x400000, &back, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "header at 0x0 says 1MB but the dump is 512 KB");
	free(cause);
	free(big);
	free(d);
	free(x);
}

int
main(void)
{
	T_RUN(test_v1_parse);
	T_RUN(test_checksum_one_bit);
	T_RUN(test_malformed);
	T_RUN(test_v2_parse);
	T_RUN(test_header_codes);
	T_RUN(test_dump_stock);
	T_RUN(test_dump_size_mismatch);
	T_RUN(test_dump_init_data_and_slots);
	T_RUN(test_dump_blank_and_zero);
	T_RUN(test_families);
	T_RUN(test_patch_header);
	T_RUN(test_patch_header_v2_crc);
	T_RUN(test_patch_identity);
	T_RUN(test_relayout_roundtrip);
	return t_done();
}
