/*
 * test_flasher_plan.c: the flasher's pure rules against the reference: the ROM erase-size
 * compensation (protocol.md §7.2/§7.3, every row), the header patch (§12.7), JEDEC sizes and
 * vendors (§9.4, devices.md §5), eFuse decoding (§8), the crystal estimate and the baud ladder.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "flasher/flasher.h"
#include "profile/jedec.h"
#include "tap.h"

/* The ROM's erase as the reference models it (§7.1): head + N sectors from s. */
static void
rom_model(uint32_t off, uint32_t erase_size, uint32_t *first, uint32_t *last)
{
	uint32_t s = off / 4096, n = (erase_size + 4095) / 4096, h = 16 - s % 16;
	uint32_t head = n < h ? n : h;

	*first = s * 4096;
	*last = (s + head + n) * 4096 - 1;
}

static void
test_erase_size_table(void)
{
	/* protocol.md §7.3: offset, size, erase_size sent, ROM erases first..last. */
	static const struct { uint32_t off, size, sent, first, last; } rows[] = {
		{ 0x0, 0x80, 0x1000, 0x0, 0x1FFF },
		{ 0x0, 0x2000, 0x1000, 0x0, 0x1FFF },
		{ 0x0, 0x3000, 0x2000, 0x0, 0x3FFF },
		{ 0x1000, 0x7E000, 0x6F000, 0x1000, 0x7EFFF },
		{ 0x23000, 8292, 0x2000, 0x23000, 0x26FFF },
		{ 0x81000, 0x5A000, 0x4B000, 0x81000, 0x81000 + 0x5A000 - 1 },
		{ 0xFC000, 128, 0x1000, 0xFC000, 0xFDFFF },
		{ 0xFE000, 0x1000, 0x1000, 0xFE000, 0xFFFFF },
		{ 0x0, 0x100000, 0xF0000, 0x0, 0xFFFFF },
		{ 0xF000, 0x3000, 0x2000, 0xF000, 0x11FFF },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		uint32_t sent = flasher_plan_rom_erase_size(rows[i].off, rows[i].size), first, last;

		T_EQ_HEX(sent, rows[i].sent);
		rom_model(rows[i].off, sent, &first, &last);
		T_EQ_HEX(first, rows[i].first);
		T_EQ_HEX(last, rows[i].last);
		T_EQ_HEX(rows[i].off + flasher_plan_rom_erased(rows[i].off, sent) - 1, rows[i].last);
	}
}

static void
test_erase_size_never_short(void)
{
	/* Under the model, the compensated request always covers the data (never under-erases). */
	for (uint32_t s = 0; s < 40; s++)
		for (uint32_t n = 1; n < 70; n++) {
			uint32_t first, last, off = s * 4096, size = n * 4096;

			rom_model(off, flasher_plan_rom_erase_size(off, size), &first, &last);
			T_CHECK_(last >= off + size - 1 && last <= off + size + 4095,
			    "off 0x%x size 0x%x erased to 0x%x", off, size, last);
		}
}

static void
test_next_run(void)
{
	static const uint8_t need[] = { 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1 };
	size_t n = sizeof need, end = 0;

	T_EQ_INT(flasher_plan_next_run(need, n, 0, 64, &end), 1);
	T_EQ_INT(end, 3);
	T_EQ_INT(flasher_plan_next_run(need, n, 3, 64, &end), 5);
	T_EQ_INT(end, 10);
	/* A run is cut at max sectors; the rest is the next run. */
	T_EQ_INT(flasher_plan_next_run(need, n, 3, 3, &end), 5);
	T_EQ_INT(end, 8);
	T_EQ_INT(flasher_plan_next_run(need, n, 8, 3, &end), 8);
	T_EQ_INT(end, 10);
	T_EQ_INT(flasher_plan_next_run(need, n, 10, 3, &end), 11);
	T_EQ_INT(end, 12);
	T_EQ_INT(flasher_plan_next_run(need, n, 12, 3, &end), 12);
	/* Nothing differs: no run at all. */
	T_EQ_INT(flasher_plan_next_run((const uint8_t *)"\0\0\0", 3, 0, 8, &end), 3);
}

static void
test_size_parsing(void)
{
	/* issue 4: offsets and sizes accept hex, decimal and 1MB/4MB. */
	uint32_t v = 0;
	char *cause = NULL;

	T_EQ_INT(cli_parse_size("0x1000", &v, &cause), RC_OK);
	T_EQ_HEX(v, 0x1000);
	T_EQ_INT(cli_parse_size("4096", &v, &cause), RC_OK);
	T_EQ_HEX(v, 0x1000);
	T_EQ_INT(cli_parse_size("1MB", &v, &cause), RC_OK);
	T_EQ_HEX(v, 0x100000);
	T_EQ_INT(cli_parse_size("4MB", &v, &cause), RC_OK);
	T_EQ_HEX(v, 0x400000);
	T_EQ_INT(cli_parse_size("0xFC000", &v, &cause), RC_OK);
	T_EQ_HEX(v, 0xFC000);
	T_EQ_INT(cli_parse_size("1XB", &v, &cause), RC_ERR_ARG);
	T_TRUE(cause != NULL);
	free(cause);
}

static void
test_baud_ladder(void)
{
	T_EQ_INT(flasher_plan_baud_top(0), 921600);
	T_EQ_INT(flasher_plan_baud_top(1000000), 921600);
	T_EQ_INT(flasher_plan_baud_top(500000), 460800);
	T_EQ_INT(flasher_plan_baud_top(230400), 230400);
	T_EQ_INT(flasher_plan_baud_top(115200), 115200);
	T_EQ_INT(flasher_plan_baud_top(57600), 57600);
	T_EQ_INT(flasher_plan_baud_down(921600), 460800);
	T_EQ_INT(flasher_plan_baud_down(460800), 230400);
	T_EQ_INT(flasher_plan_baud_down(230400), 115200);
	T_EQ_INT(flasher_plan_baud_down(115200), 0);
}

static void
test_check_write(void)
{
	char *cause = NULL;

	T_EQ_INT(flasher_plan_check_write(0, 0, 0x100000, "a.bin", &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "a.bin is empty");
	free(cause);
	T_EQ_INT(flasher_plan_check_write(0xF0000, 0x20000, 0x100000, "b.bin", &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "past the end of the 1024 KB flash");
	free(cause);
	T_EQ_INT(flasher_plan_check_write(0x100000, 1, 0x100000, "c.bin", &cause), RC_ERR_ARG);
	free(cause);
	T_EQ_INT(flasher_plan_check_write(0x1001, 16, 0x100000, "e.bin", &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "not a multiple of 4096");
	free(cause);
	T_EQ_INT(flasher_plan_check_write(0, 0x100000, 0x100000, "d.bin", &cause), RC_OK);
	T_TRUE(cause == NULL);
}

/* What the ROM boots at 0x0 starts with 0xE9 (protocol.md §12.1); a gzip file starts with
 * 1F 8B (RFC 1952), an OTA v2 image with 0xEA (§12.5). */
static void
test_check_boot(void)
{
	static const uint8_t img[] = { 0xE9, 0x03, 0x02, 0x20 }, gz[] = { 0x1F, 0x8B, 0x08, 0x00 },
	    ota[] = { 0xEA, 0x04, 0x00, 0x00 }, ff[] = { 0xFF, 0xFF, 0xFF, 0xFF };
	char *cause = NULL;

	T_EQ_INT(flasher_plan_check_boot(0, img, sizeof img, "a.bin", &cause), RC_OK);
	T_TRUE(cause == NULL);
	T_EQ_INT(flasher_plan_check_boot(0x10000, ff, sizeof ff, "data.bin", &cause), RC_OK);
	T_EQ_INT(flasher_plan_check_boot(0, gz, sizeof gz, "tasmota.bin.gz", &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "tasmota.bin.gz is gzip-compressed");
	T_CONTAINS(cause, "gunzip -k tasmota.bin.gz");
	free(cause);
	T_EQ_INT(flasher_plan_check_boot(0, ota, sizeof ota, "user1.bin", &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "at 0x1000");
	free(cause);
	T_EQ_INT(flasher_plan_check_boot(0, ff, sizeof ff, "blank.bin", &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "byte 0xFF at 0x0, expected 0xE9");
	free(cause);
}

/* A minimal valid v1 image: header, nseg segments of seglen bytes, padding, checksum (§12.3). */
static size_t
make_image(uint8_t *buf, int nseg, uint32_t seglen)
{
	size_t pos = 8;
	uint8_t ck = 0xEF;

	memset(buf, 0, 4096);
	buf[0] = 0xE9;
	buf[1] = (uint8_t)nseg;
	buf[2] = 0x00;  /* QIO */
	buf[3] = 0x00;  /* 512KB, 40m: as the SDK's boot_v1.x.bin ships (§12.1) */
	buf[4] = 0xC0; buf[5] = 0x00; buf[6] = 0x10; buf[7] = 0x40;
	for (int i = 0; i < nseg; i++) {
		buf[pos + 3] = 0x40; buf[pos + 2] = 0x10;
		buf[pos + 4] = (uint8_t)seglen;
		buf[pos + 5] = (uint8_t)(seglen >> 8);
		pos += 8;
		for (uint32_t k = 0; k < seglen; k++) {
			buf[pos] = (uint8_t)(k * 7 + i);
			ck ^= buf[pos++];
		}
	}
	while (pos % 16 != 15)
		buf[pos++] = 0;
	buf[pos++] = ck;
	return pos;
}

static void
test_header_patch_dout_1mb(void)
{
	uint8_t img[4096];
	size_t len = make_image(img, 1, 16);
	struct flasher_hdr h = { 3, 2, -1 };  /* -fm dout -fs 1MB */
	uint16_t params;
	const char *why;

	/* §5.4/§12.7: "Flash params set to 0x0320", the payload starts e9 01 03 20. */
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 1);
	T_EQ_HEX(params, 0x0320);
	T_EQ_HEX(img[0], 0xE9);
	T_EQ_HEX(img[1], 0x01);
	T_EQ_HEX(img[2], 0x03);
	T_EQ_HEX(img[3], 0x20);
	T_TRUE(why == NULL);
}

static void
test_header_patch_values(void)
{
	uint8_t img[4096];
	size_t len = make_image(img, 3, 40);
	uint16_t params;
	const char *why;
	struct flasher_hdr h = { flasher_header_mode("dio"), flasher_header_size("2MB"),
		flasher_header_freq("80m") };

	/* §12.7: 0x023f = DIO/2MB/80m; §16: 0x3F for -fs 2MB -ff 80m. */
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 1);
	T_EQ_HEX(params, 0x023F);
	T_EQ_HEX(img[3], 0x3F);
	h = (struct flasher_hdr){ flasher_header_mode("qio"), flasher_header_size("4MB"),
		flasher_header_freq("40m") };
	len = make_image(img, 1, 4);
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 1);
	T_EQ_HEX(params, 0x0040);
	/* Only the size: the mode byte and the frequency nibble stay. */
	len = make_image(img, 1, 4);
	img[2] = 2;
	img[3] = 0x0F;
	h = (struct flasher_hdr){ -1, flasher_header_size("1MB"), -1 };
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 1);
	T_EQ_HEX(img[2], 2);
	T_EQ_HEX(img[3], 0x2F);
}

static void
test_header_patch_refusals(void)
{
	uint8_t img[4096], copy[4096];
	size_t len = make_image(img, 2, 32);
	struct flasher_hdr h = { 3, 2, 0 }, keep = FLASHER_HDR_KEEP;
	uint16_t params;
	const char *why;

	memcpy(copy, img, sizeof img);
	/* Not at 0x0: never touched. */
	T_EQ_INT(flasher_header_patch(img, len, 0x1000, &h, &params, &why), 0);
	T_EQ_MEM(img, copy, len);
	/* All keep: nothing to do. */
	T_EQ_INT(flasher_header_patch(img, len, 0, &keep, &params, &why), 0);
	T_EQ_MEM(img, copy, len);
	/* Not 0xE9 (a v2 0xEA image, or data). */
	img[0] = 0xEA;
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 0);
	T_CONTAINS(why, "doesn't look like an image");
	T_EQ_HEX(img[2], copy[2]);
	img[0] = 0xE9;
	/* Checksum byte missing: not a valid image. */
	T_EQ_INT(flasher_header_patch(img, len - 1, 0, &h, &params, &why), 0);
	T_CONTAINS(why, "not a valid ESP8266 image");
	T_EQ_MEM(img, copy, len);
	/* A segment that runs past the end. */
	T_EQ_INT(flasher_header_patch(img, 40, 0, &h, &params, &why), 0);
	T_CONTAINS(why, "not a valid");
	/* More than 16 segments. */
	len = make_image(img, 17, 4);
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 0);
	T_CONTAINS(why, "not a valid");
	/* Shorter than a header. */
	T_EQ_INT(flasher_header_patch(img, 7, 0, &h, &params, &why), 0);
	T_EQ_HEX(img[2], 0);
}

/* §12.7: esptool reads an 0xE9 header with no segments as an image (header, padding, checksum
 * byte at offset 15) and patches it; without the checksum byte it is not valid. */
static void
test_header_patch_empty_image(void)
{
	uint8_t img[4096];
	size_t len = make_image(img, 0, 0);
	struct flasher_hdr h = { 3, 2, -1 };
	uint16_t params;
	const char *why;

	T_EQ_INT((int)len, 16);
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 1);
	T_EQ_HEX(params, 0x0320);
	T_EQ_HEX(img[2], 0x03);
	T_EQ_HEX(img[3], 0x20);
	len = make_image(img, 0, 0);
	T_EQ_INT(flasher_header_patch(img, len - 1, 0, &h, &params, &why), 0);
	T_CONTAINS(why, "not a valid ESP8266 image");
	T_EQ_HEX(img[2], 0x00);
}

/* §12.7 "Nothing else changes": only bytes 2..3 differ after a patch, the checksum included. */
static void
test_header_patch_only_bytes_2_3(void)
{
	uint8_t img[4096], copy[4096];
	size_t len = make_image(img, 2, 100);
	struct flasher_hdr h = { 2, 4, 0xF };
	uint16_t params;
	const char *why;

	memcpy(copy, img, sizeof img);
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 1);
	T_EQ_HEX(params, 0x024F);
	T_EQ_MEM(img, copy, 2);
	T_EQ_MEM(img + 4, copy + 4, len - 4);
	/* The same options again: nothing to change, but the message value is still known. */
	T_EQ_INT(flasher_header_patch(img, len, 0, &h, &params, &why), 0);
	T_EQ_HEX(params, 0x024F);
	T_TRUE(why == NULL);
}

static void
test_header_names(void)
{
	T_EQ_INT(flasher_header_mode("keep"), -1);
	T_EQ_INT(flasher_header_mode("DOUT"), 3);
	T_EQ_INT(flasher_header_mode("qout"), 1);
	T_EQ_INT(flasher_header_mode("fast"), -2);
	T_EQ_INT(flasher_header_size("512KB"), 0);
	T_EQ_INT(flasher_header_size("256KB"), 1);
	T_EQ_INT(flasher_header_size("2MB-c1"), 5);
	T_EQ_INT(flasher_header_size("4MB-c1"), 6);
	T_EQ_INT(flasher_header_size("8MB"), 8);
	T_EQ_INT(flasher_header_size("16MB"), 9);
	T_EQ_INT(flasher_header_size("3MB"), -2);
	T_EQ_INT(flasher_header_freq("26m"), 1);
	T_EQ_INT(flasher_header_freq("20m"), 2);
	T_EQ_INT(flasher_header_freq("80m"), 0xF);
	T_EQ_INT(flasher_header_freq("60m"), -2);
	T_EQ_INT(flasher_header_freq(NULL), -2);
	/* "4m" is 4 MB (image.h), never esptool v1's 512 KB. */
	T_EQ_INT(flasher_header_size("4m"), 4);
	T_EQ_INT(flasher_header_size("4Mbit"), -2);
}

static void
test_jedec(void)
{
	/* The one table (profile/jedec.c), in JEDEC byte order. §9.2: Winbond W25Q32 answers
	 * EF 40 16, which SPI_W0 holds as 0x001640EF; 4MB. */
	T_EQ_HEX(jedec_from_le(0x001640EF), 0xEF4016u);
	T_EQ_INT(jedec_size(0xEF4016), 4 << 20);
	T_EQ_STR(jedec_vendor_name(0xEF), "Winbond");
	/* devices.md §5c: ESP8285 embedded 0x51 / 0x4014 (1MB, vendor unknown). */
	T_EQ_INT(jedec_size(0x514014), 1 << 20);
	T_TRUE(jedec_vendor_name(0x51) == NULL);
	/* Puya 0x85 / 0x6014, 1MB; devices.md §5b vendors. */
	T_EQ_INT(jedec_size(0x856014), 1 << 20);
	T_EQ_STR(jedec_vendor_name(0x85), "Puya");
	T_EQ_STR(jedec_vendor_name(0xC8), "GigaDevice");
	T_EQ_STR(jedec_vendor_name(0x5E), "Zbit");
	/* §9.4 table (capacity byte; the other two bytes do not matter outside Adesto). */
	T_EQ_INT(jedec_size(0xC84012), 256 << 10);
	T_EQ_INT(jedec_size(0xC84013), 512 << 10);
	T_EQ_INT(jedec_size(0xC84015), 2 << 20);
	T_EQ_INT(jedec_size(0xC84017), 8 << 20);
	T_EQ_INT(jedec_size(0xC84018), 16 << 20);
	T_EQ_INT(jedec_size(0xC8401B), 128 << 20);
	T_EQ_INT(jedec_size(0xC8401C), 256 << 20);
	T_EQ_INT(jedec_size(0xC84034), 1 << 20);
	T_EQ_INT(jedec_size(0xC8403A), 64 << 20);
	T_EQ_INT(jedec_size(0xC84020), 64 << 20);
	T_EQ_INT(jedec_size(0xC84021), 128 << 20);
	T_EQ_INT(jedec_size(0xC84022), 256 << 20);
	T_EQ_INT(jedec_size(0xC84011), 0);
	T_EQ_INT(jedec_size(0xC8401D), 0);
	T_TRUE(jedec_is_blank(0));
	T_TRUE(jedec_is_blank(0xFFFFFF));
	T_FALSE(jedec_is_blank(0xEF4016));
	/* The flasher keeps the W0 word: its adapters must byte-swap before the lookup. */
	T_EQ_INT(flasher_chip_jedec_size(0x001640EF), 4 << 20);
	T_EQ_STR(flasher_chip_jedec_vendor(0x001640EF), "Winbond");
	T_EQ_INT(flasher_chip_jedec_size(0x144051), 1 << 20);
	T_TRUE(flasher_chip_jedec_vendor(0x144051) == NULL);
	T_TRUE(flasher_chip_jedec_dead(0));
	T_TRUE(flasher_chip_jedec_dead(0xFFFFFF));
	T_FALSE(flasher_chip_jedec_dead(0x1640EF));
}

static void
test_chip_decode(void)
{
	struct flasher_info in;

	/* ISS #620 sample words (w3 0x00840D8E gives OUI 84:0D:8E); w0 chosen by the test. */
	memset(&in, 0, sizeof in);
	T_EQ_INT(flasher_chip_decode(0x12000000, 0x02007681, 0xF200B000, 0x00840D8E, &in), RC_OK);
	T_EQ_STR(in.chip, "ESP8266EX");
	T_FALSE(in.esp8285);
	T_EQ_HEX(in.mac[0], 0x84); T_EQ_HEX(in.mac[1], 0x0D); T_EQ_HEX(in.mac[2], 0x8E);
	T_EQ_HEX(in.mac[3], 0x76); T_EQ_HEX(in.mac[4], 0x81); T_EQ_HEX(in.mac[5], 0x12);
	T_EQ_HEX(in.chip_id, 0x00768112);
	/* OUI selector 0 → 18:FE:34, 1 → AC:D0:74, other → unknown (§8.3). */
	T_EQ_INT(flasher_chip_decode(0xAB000000, 0x00001122, 0, 0, &in), RC_OK);
	T_EQ_HEX(in.mac[0], 0x18); T_EQ_HEX(in.mac[1], 0xFE); T_EQ_HEX(in.mac[2], 0x34);
	T_EQ_HEX(in.mac[3], 0x11); T_EQ_HEX(in.mac[4], 0x22); T_EQ_HEX(in.mac[5], 0xAB);
	T_EQ_HEX(in.chip_id, 0x001122AB);  /* §8.4: "Chip ID: 0x001122ab" */
	T_EQ_INT(flasher_chip_decode(0, 0x00011122, 0, 0, &in), RC_OK);
	T_EQ_HEX(in.mac[0], 0xAC);
	T_EQ_INT(flasher_chip_decode(0, 0x00021122, 0, 0, &in), RC_ERR_PROTO);
	/* ESP8285 (§8.4): w0 bit 4 with w3 25..27 clear → 1 MB; bit 5 = H. */
	T_EQ_INT(flasher_chip_decode(0x10, 0, 0, 0, &in), RC_OK);
	T_TRUE(in.esp8285);
	T_EQ_STR(in.chip, "ESP8285N08");
	T_EQ_INT(flasher_chip_decode(0x30, 0, 0, 0, &in), RC_OK);
	T_EQ_STR(in.chip, "ESP8285H08");
	T_EQ_INT(flasher_chip_decode(0x10, 0, 0, 1u << 26, &in), RC_OK);
	T_EQ_STR(in.chip, "ESP8285N16");
	/* w2 bit 16 with w3 bit 25: 2 MB; with 25+26: 4 MB, plain name. */
	T_EQ_INT(flasher_chip_decode(0, 0, 1u << 16, 1u << 25, &in), RC_OK);
	T_EQ_STR(in.chip, "ESP8285N16");
	T_EQ_INT(flasher_chip_decode(0, 0, 1u << 16, 3u << 25, &in), RC_OK);
	T_EQ_STR(in.chip, "ESP8285");
}

static void
test_xtal(void)
{
	/* §8.5: 0x1C4 at 115200 is 26.03 MHz; a 40 MHz part gives about 80e6/baud. */
	T_EQ_INT(flasher_chip_xtal(0x1C4, 115200), 26);
	T_EQ_INT(flasher_chip_xtal(80000000 / 115200, 115200), 40);
	T_EQ_INT(flasher_chip_xtal(52000000 / 921600, 921600), 26);
}

int
main(void)
{
	T_RUN(test_erase_size_table);
	T_RUN(test_erase_size_never_short);
	T_RUN(test_next_run);
	T_RUN(test_size_parsing);
	T_RUN(test_baud_ladder);
	T_RUN(test_check_write);
	T_RUN(test_check_boot);
	T_RUN(test_header_patch_dout_1mb);
	T_RUN(test_header_patch_values);
	T_RUN(test_header_patch_refusals);
	T_RUN(test_header_names);
	T_RUN(test_header_patch_empty_image);
	T_RUN(test_header_patch_only_bytes_2_3);
	T_RUN(test_jedec);
	T_RUN(test_chip_decode);
	T_RUN(test_xtal);
	return t_done();
}
