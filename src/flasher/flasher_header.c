/*
 * flasher_header.c: esptool's flash mode/size/frequency patch of an image at 0x0 (§12.7), on
 * top of src/image: image_parse() decides validity, image_patch_header() changes the bytes and
 * the option names are image_*_parse() (so "4m" is 4 MB here too, never esptool v1's 512 KB).
 */
#include "config.h"

#include "flasher/flasher.h"

#include <stdlib.h>

#include "image/image.h"

/*
 * Whether buf is a v1 image by esptool's rules: it reads the header, then as many segments as
 * byte 1 says (at most 16), then the checksum byte. image_parse() applies the same rules but
 * refuses a header that declares no segment at all; esptool reads such a file as an empty image
 * (8-byte header, padding, checksum at 15), and patches it, so that one case is checked here.
 */
static int
flasher_header_valid(const uint8_t *buf, size_t len)
{
	struct image img;
	char *cause = NULL;
	int rc;

	if (buf[1] == 0)
		return len > 15;
	rc = image_parse(buf, len, 0, &img, &cause);
	free(cause);
	return rc == RC_OK;
}

int
flasher_header_patch(uint8_t *buf, size_t len, uint32_t off, const struct flasher_hdr *hdr,
    uint16_t *params, const char **why)
{
	uint8_t b2, b3;
	char *cause = NULL;
	int rc;

	*why = NULL;
	*params = 0;
	if (hdr == NULL || (hdr->mode < 0 && hdr->size < 0 && hdr->freq < 0))
		return 0;
	if (off != 0 || len < 8)
		return 0;
	if (buf[0] != IMAGE_MAGIC_V1) {
		*why = "the file at 0x0 doesn't look like an image (first byte is not 0xE9), so the "
		    "flash settings were not changed";
		return 0;
	}
	if (!flasher_header_valid(buf, len)) {
		*why = "the file at 0x0 is not a valid ESP8266 image (its segments or checksum are "
		    "cut short), so the flash settings were not changed";
		return 0;
	}
	b2 = hdr->mode >= 0 ? (uint8_t)hdr->mode : buf[2];
	b3 = (uint8_t)(((hdr->size >= 0 ? hdr->size : buf[3] >> 4) << 4) |
	    (hdr->freq >= 0 ? hdr->freq : buf[3] & 0x0F));
	*params = (uint16_t)((b2 << 8) | b3);
	if (b2 == buf[2] && b3 == buf[3])
		return 0;
	if (buf[1] == 0) {
		/* The empty image image_parse() refuses: bytes 2..3 are all there is to change. */
		buf[2] = b2;
		buf[3] = b3;
		return 1;
	}
	rc = image_patch_header(buf, len, 0, hdr->mode, hdr->size, hdr->freq, &cause);
	free(cause);
	if (rc < 0) {
		/* Only a caller that bypassed flasher_header_mode/size/freq gets here. */
		*why = "the flash mode, size or frequency code is not one esptool knows, so the "
		    "flash settings were not changed";
		return 0;
	}
	return rc == 1;
}

int
flasher_header_mode(const char *s)
{
	return s == NULL ? -2 : image_mode_parse(s);
}

int
flasher_header_size(const char *s)
{
	return s == NULL ? -2 : image_size_parse(s);
}

int
flasher_header_freq(const char *s)
{
	return s == NULL ? -2 : image_freq_parse(s);
}
