/*
 * jedec.c: the JEDEC table. Vendors from devices.md §5b (esp8266/Arduino
 * bootloaders/eboot/spi_vendors.h, mhightower83/Spi0Utils, esp8266/Arduino#3618), capacity codes
 * from protocol.md §9.4 (esptool DETECTED_FLASH_SIZES), parts from devices.md §5c and
 * protocol.md §9.2.
 */
#include "config.h"

#include "profile/jedec.h"

#include <stdio.h>

#include "core/common.h"

static const struct {
	uint8_t mfr;
	const char *name;
} jedec_vendors[] = {
	{ 0x1C, "EON" },
	{ 0x1F, "Adesto" },       /* esptool's Adesto size table (protocol.md §9.4) */
	{ 0x20, "XMC" },          /* same byte as ST/Micron */
	{ 0x5E, "Zbit" },         /* Spi0Utils; the flashrom-derived list says "Tenx" */
	{ 0x85, "Puya" },
	{ 0x9D, "ISSI" },
	{ 0xA1, "Fudan" },
	{ 0xC2, "Macronix" },
	{ 0xC8, "GigaDevice" },
	{ 0xE0, "BergMicro" },
	{ 0xEF, "Winbond" },
};

static const struct {
	uint8_t code;
	uint32_t size;
} jedec_sizes[] = {
	{ 0x12, 256u << 10 }, { 0x13, 512u << 10 }, { 0x14, 1u << 20 }, { 0x15, 2u << 20 },
	{ 0x16, 4u << 20 }, { 0x17, 8u << 20 }, { 0x18, 16u << 20 }, { 0x19, 32u << 20 },
	{ 0x1A, 64u << 20 }, { 0x1B, 128u << 20 }, { 0x1C, 256u << 20 },
	{ 0x20, 64u << 20 }, { 0x21, 128u << 20 }, { 0x22, 256u << 20 },
	{ 0x32, 256u << 10 }, { 0x33, 512u << 10 }, { 0x34, 1u << 20 }, { 0x35, 2u << 20 },
	{ 0x36, 4u << 20 }, { 0x37, 8u << 20 }, { 0x38, 16u << 20 }, { 0x39, 32u << 20 },
	{ 0x3A, 64u << 20 },
};

static const struct {
	uint32_t id;
	const char *part;
} jedec_parts[] = {
	{ 0xEF4016, "W25Q32" },        /* protocol.md §9.2 */
	{ 0xC84014, "GD25Q80" },       /* esp8266/Arduino#822 (0x1440C8) */
	{ 0x856014, "P25Q80H class" }, /* letscontrolit/ESPEasy#2931 */
	{ 0x5E4014, "ZB25VQ80 class" },/* letscontrolit/ESPEasy#2931, Spi0Utils */
	{ 0x514014, "ESP8285 embedded flash" }, /* letscontrolit/ESPEasy#2931, esphome/esphome#381 */
};

uint32_t
jedec_from_le(uint32_t word)
{
	return ((word & 0xff) << 16) | (word & 0xff00) | ((word >> 16) & 0xff);
}

int
jedec_is_blank(uint32_t id)
{
	id &= 0xffffff;
	return id == 0 || id == 0xffffff;
}

const char *
jedec_vendor_name(uint8_t mfr)
{
	for (size_t i = 0; i < ARRAY_SIZE(jedec_vendors); i++)
		if (jedec_vendors[i].mfr == mfr)
			return jedec_vendors[i].name;
	return NULL;
}

uint32_t
jedec_size(uint32_t id)
{
	if (jedec_is_blank(id))
		return 0;
	if (JEDEC_MFR(id) == 0x1F) {
		/* Adesto: the low 5 bits of the memory type byte, 0x04..0x09 = 512 KB..16 MB. */
		unsigned n = JEDEC_TYPE(id) & 0x1f;

		return n >= 4 && n <= 9 ? (512u << 10) << (n - 4) : 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(jedec_sizes); i++)
		if (jedec_sizes[i].code == JEDEC_CAP(id))
			return jedec_sizes[i].size;
	return 0;
}

const char *
jedec_part_name(uint32_t id)
{
	for (size_t i = 0; i < ARRAY_SIZE(jedec_parts); i++)
		if (jedec_parts[i].id == (id & 0xffffff))
			return jedec_parts[i].part;
	return NULL;
}

char *
jedec_size_str(uint32_t size, char *buf, size_t bufsize)
{
	if (size != 0 && size % (1u << 20) == 0)
		snprintf(buf, bufsize, "%u MB", (unsigned)(size >> 20));
	else if (size != 0 && size % 1024 == 0)
		snprintf(buf, bufsize, "%u KB", (unsigned)(size >> 10));
	else
		snprintf(buf, bufsize, "%u bytes", (unsigned)size);
	return buf;
}

char *
jedec_name(uint32_t id, char *buf, size_t bufsize)
{
	const char *vendor = jedec_vendor_name(JEDEC_MFR(id));
	const char *part = jedec_part_name(id);

	/* 0x51 (ESP8285 embedded flash) has a known part but no vendor in any source. */
	snprintf(buf, bufsize, "0x%06X %s%s%s", (unsigned)(id & 0xffffff),
	    vendor ? vendor : part ? "" : "(vendor unknown)", vendor && part ? " " : "",
	    part ? part : "");
	return buf;
}

char *
jedec_describe(uint32_t id, char *buf, size_t bufsize)
{
	uint32_t size = jedec_size(id);
	char sz[32], name[96];

	if (jedec_is_blank(id)) {
		snprintf(buf, bufsize, "0x%06X (no answer from the flash chip)", (unsigned)(id & 0xffffff));
		return buf;
	}
	if (size != 0)
		jedec_size_str(size, sz, sizeof sz);
	else
		snprintf(sz, sizeof sz, "unknown size code 0x%02X", JEDEC_CAP(id));
	snprintf(buf, bufsize, "%s, %s", jedec_name(id, name, sizeof name), sz);
	return buf;
}
