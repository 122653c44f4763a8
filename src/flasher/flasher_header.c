/* flasher_header.c: the flash mode/size/frequency patch of an image at 0x0 (§12.7). */
#include "config.h"

#include "flasher/flasher.h"

#include <string.h>
#include <strings.h>

/* Whether buf parses as a v1 image the way esptool's loader reads it: 8-byte header, at most
 * 16 segments each fully present, then a checksum byte at the next position that is 15 mod 16. */
static int
valid_v1(const uint8_t *buf, size_t len)
{
	size_t pos = 8, nseg = buf[1];

	if (nseg > 16)
		return 0;
	for (size_t i = 0; i < nseg; i++) {
		uint32_t slen;

		if (len - pos < 8)
			return 0;
		slen = rd_le32(buf + pos + 4);
		pos += 8;
		if (slen > len - pos)
			return 0;
		pos += slen;
	}
	pos += 15 - pos % 16;
	return pos < len;
}

int
flasher_header_patch(uint8_t *buf, size_t len, uint32_t off, const struct flasher_hdr *hdr,
    uint16_t *params, const char **why)
{
	uint8_t b2, b3;

	*why = NULL;
	*params = 0;
	if (hdr == NULL || (hdr->mode < 0 && hdr->size < 0 && hdr->freq < 0))
		return 0;
	if (off != 0 || len < 8)
		return 0;
	if (buf[0] != 0xE9) {
		*why = "the file at 0x0 doesn't look like an image (first byte is not 0xE9), so the "
		    "flash settings were not changed";
		return 0;
	}
	if (!valid_v1(buf, len)) {
		*why = "the file at 0x0 is not a valid ESP8266 image (its segments or checksum are "
		    "cut short), so the flash settings were not changed";
		return 0;
	}
	b2 = buf[2];
	b3 = buf[3];
	if (hdr->mode >= 0)
		b2 = (uint8_t)hdr->mode;
	if (hdr->size >= 0)
		b3 = (uint8_t)((b3 & 0x0F) | (hdr->size << 4));
	if (hdr->freq >= 0)
		b3 = (uint8_t)((b3 & 0xF0) | hdr->freq);
	*params = (uint16_t)((b2 << 8) | b3);
	if (b2 == buf[2] && b3 == buf[3])
		return 0;
	buf[2] = b2;
	buf[3] = b3;
	return 1;
}

struct name_code {
	const char *name;
	int code;
};

static int
lookup(const struct name_code *t, size_t n, const char *s)
{
	if (s == NULL)
		return -2;
	if (strcasecmp(s, "keep") == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].code;
	return -2;
}

int
flasher_header_mode(const char *s)
{
	static const struct name_code t[] = {
		{ "qio", 0 }, { "qout", 1 }, { "dio", 2 }, { "dout", 3 },
	};
	return lookup(t, ARRAY_SIZE(t), s);
}

int
flasher_header_size(const char *s)
{
	static const struct name_code t[] = {
		{ "512KB", 0 }, { "256KB", 1 }, { "1MB", 2 }, { "2MB", 3 }, { "4MB", 4 },
		{ "2MB-c1", 5 }, { "4MB-c1", 6 }, { "8MB", 8 }, { "16MB", 9 },
	};
	return lookup(t, ARRAY_SIZE(t), s);
}

int
flasher_header_freq(const char *s)
{
	static const struct name_code t[] = {
		{ "40m", 0x0 }, { "26m", 0x1 }, { "20m", 0x2 }, { "80m", 0xF },
	};
	return lookup(t, ARRAY_SIZE(t), s);
}
