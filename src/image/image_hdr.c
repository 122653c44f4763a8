/*
 * Header codes of §12.1 and the boot_v1.x map strings of §13.2: one table, looked up both ways.
 * esptool v1.x's Mbit names ("4m" meant 512 KB) are not accepted: today "4M" means 4 MB, and a
 * size read the wrong way is how devices die.
 */
#include "config.h"

#include "image/image.h"

#include <string.h>
#include <strings.h>

static const char *const image_modes[] = { "QIO", "QOUT", "DIO", "DOUT" };

static const struct {
	int code;
	const char *name;
	uint32_t bytes;
	const char *map;     /* boot_v1.x "SPI Flash Size & Map" string */
	uint32_t user2;
} image_sizes[] = {
	{ 0x0, "512KB", 0x80000, "4Mbit(256KB+256KB)", 0x41000 },
	{ 0x1, "256KB", 0x40000, "2Mbit", 0 },
	{ 0x2, "1MB", 0x100000, "8Mbit(512KB+512KB)", 0x81000 },
	{ 0x3, "2MB", 0x200000, "16Mbit(512KB+512KB)", 0x81000 },
	{ 0x4, "4MB", 0x400000, "32Mbit(512KB+512KB)", 0x81000 },
	{ 0x5, "2MB-c1", 0x200000, "16Mbit(1024KB+1024KB)", 0x101000 },
	{ 0x6, "4MB-c1", 0x400000, "32Mbit(1024KB+1024KB)", 0x101000 },
	{ 0x8, "8MB", 0x800000, "64Mbit(1024KB+1024KB)", 0x101000 },
	{ 0x9, "16MB", 0x1000000, "128Mbit(1024KB+1024KB)", 0x101000 },
};

static const struct {
	int code;
	const char *name;
	const char *opt;
} image_freqs[] = {
	{ 0x0, "40MHz", "40m" }, { 0x1, "26.7MHz", "26m" }, { 0x2, "20MHz", "20m" }, { 0xF, "80MHz", "80m" },
};

const char *
image_mode_name(int mode)
{
	return mode >= 0 && mode < (int)ARRAY_SIZE(image_modes) ? image_modes[mode] : NULL;
}

static int
image_size_idx(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(image_sizes); i++)
		if (image_sizes[i].code == code)
			return (int)i;
	return -1;
}

const char *
image_size_name(int code)
{
	int i = image_size_idx(code);

	return i < 0 ? NULL : image_sizes[i].name;
}

uint32_t
image_size_bytes(int code)
{
	int i = image_size_idx(code);

	return i < 0 ? 0 : image_sizes[i].bytes;
}

const char *
image_map_name(int code)
{
	int i = image_size_idx(code);

	return i < 0 ? NULL : image_sizes[i].map;
}

uint32_t
image_user2_addr(int code)
{
	int i = image_size_idx(code);

	return i < 0 ? 0 : image_sizes[i].user2;
}

const char *
image_freq_name(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(image_freqs); i++)
		if (image_freqs[i].code == code)
			return image_freqs[i].name;
	return NULL;
}

int
image_mode_parse(const char *s)
{
	if (strcasecmp(s, "keep") == 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(image_modes); i++)
		if (strcasecmp(s, image_modes[i]) == 0)
			return (int)i;
	return -2;
}

int
image_size_parse(const char *s)
{
	size_t n = strlen(s);

	if (strcasecmp(s, "keep") == 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(image_sizes); i++) {
		const char *name = image_sizes[i].name;

		if (strcasecmp(s, name) == 0)
			return image_sizes[i].code;
		/* "1M" for "1MB", "4M-c1" for "4MB-c1" */
		if (n > 0 && strncasecmp(s, name, strcspn(name, "B")) == 0 &&
		    strcasecmp(s + strcspn(name, "B"), name + strcspn(name, "B") + 1) == 0)
			return image_sizes[i].code;
	}
	return -2;
}

int
image_freq_parse(const char *s)
{
	if (strcasecmp(s, "keep") == 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(image_freqs); i++)
		if (strcasecmp(s, image_freqs[i].opt) == 0 || strcasecmp(s, image_freqs[i].name) == 0)
			return image_freqs[i].code;
	return -2;
}

int
image_size_code_for(uint32_t bytes, int prefer_1024_map)
{
	int best = -1;

	for (size_t i = 0; i < ARRAY_SIZE(image_sizes); i++) {
		if (image_sizes[i].bytes != bytes)
			continue;
		if (best < 0 || (prefer_1024_map && image_sizes[i].user2 == 0x101000))
			best = image_sizes[i].code;
	}
	return best;
}
