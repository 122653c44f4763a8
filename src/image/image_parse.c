#include "config.h"

#include "image/image.h"

#include <string.h>

#include "core/xmalloc.h"

uint8_t
image_checksum(const uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		seed ^= p[i];
	return seed;
}

/*
 * Parses the 0xE9 header at h and its segments. The checksum covers the segment data only and is
 * stored in the last byte of the 16-byte line that follows the last segment (§12.3): the file is
 * padded with zeros until its length is 15 mod 16, counted from the start of the whole file
 * (start), which for a v2 image is the 0xEA header, not this one.
 */
static int
image_parse_v1(const uint8_t *buf, size_t len, uint32_t start, uint32_t h, struct image *img,
    char **cause)
{
	uint32_t p;
	uint8_t csum = 0xEF;

	if ((size_t)h + 8 > len) {
		*cause = xfmt("at 0x%x: the image header is cut off (%zu of 8 bytes)", h,
		    len > h ? len - h : 0);
		return RC_ERR_FORMAT;
	}
	if (buf[h] != IMAGE_MAGIC_V1) {
		*cause = xfmt("at 0x%x: byte 0x%02x where an image header (0xE9) should start", h, buf[h]);
		return RC_ERR_FORMAT;
	}
	img->hdr_off = h;
	img->nseg = buf[h + 1];
	img->mode = buf[h + 2];
	img->size_code = buf[h + 3] >> 4;
	img->freq_code = buf[h + 3] & 0x0F;
	img->entry = rd_le32(buf + h + 4);
	if (img->nseg == 0 || img->nseg > IMAGE_MAX_SEGMENTS) {
		*cause = xfmt("at 0x%x: the header declares %u segments (an image has 1 to %d)", h,
		    img->nseg, IMAGE_MAX_SEGMENTS);
		return RC_ERR_FORMAT;
	}
	p = h + 8;
	for (unsigned i = 0; i < img->nseg; i++) {
		struct image_seg *s = &img->seg[i];

		if ((size_t)p + 8 > len) {
			*cause = xfmt("at 0x%x: segment %u of %u: its header is cut off (the file ends at 0x%zx)",
			    p, i + 1, img->nseg, len);
			return RC_ERR_FORMAT;
		}
		s->addr = rd_le32(buf + p);
		s->len = rd_le32(buf + p + 4);
		s->file_off = p + 8;
		if (s->len > len - s->file_off) {
			*cause = xfmt("at 0x%x: segment %u of %u (load 0x%08x) is 0x%x bytes long, but only 0x%zx bytes follow",
			    p, i + 1, img->nseg, s->addr, s->len, len - s->file_off);
			return RC_ERR_FORMAT;
		}
		csum = image_checksum(buf + s->file_off, s->len, csum);
		p = s->file_off + s->len;
	}
	/* Pad to 15 mod 16 (relative to the file start), then the checksum byte. */
	p += (15u - ((p - start) % 16u)) % 16u;
	if ((size_t)p >= len) {
		*cause = xfmt("at 0x%x: the checksum byte after the last segment is missing (the file ends at 0x%zx)",
		    p, len);
		return RC_ERR_FORMAT;
	}
	img->csum_stored = buf[p];
	img->csum_calc = csum;
	img->len = p + 1 - start;
	return RC_OK;
}

int
image_parse(const uint8_t *buf, size_t len, uint32_t off, struct image *img, char **cause)
{
	int rc;

	*cause = NULL;
	memset(img, 0, sizeof *img);
	img->off = off;
	if ((size_t)off >= len) {
		*cause = xfmt("offset 0x%x is past the end of the data (0x%zx bytes)", off, len);
		return RC_ERR_FORMAT;
	}
	if (buf[off] == IMAGE_MAGIC_V1) {
		img->fmt = IMAGE_FMT_V1;
		return image_parse_v1(buf, len, off, off, img, cause);
	}
	if (buf[off] != IMAGE_MAGIC_V2) {
		*cause = xfmt("at 0x%x: byte 0x%02x is not an image magic (0xE9 for an app or boot image, 0xEA for an OTA image)",
		    off, buf[off]);
		return RC_ERR_FORMAT;
	}
	/* v2 (§12.6): EA 04 b2 b3 entry, then the IROM part (addr 0, len, data), then a v1 image. */
	img->fmt = IMAGE_FMT_V2;
	if ((size_t)off + 16 > len) {
		*cause = xfmt("at 0x%x: the OTA (0xEA) header is cut off", off);
		return RC_ERR_FORMAT;
	}
	if (buf[off + 1] != 0x04) {
		*cause = xfmt("at 0x%x: an OTA (0xEA) header must have 0x04 in byte 1, found 0x%02x", off,
		    buf[off + 1]);
		return RC_ERR_FORMAT;
	}
	img->v2_b2 = buf[off + 2];
	img->v2_b3 = buf[off + 3];
	img->irom_len = rd_le32(buf + off + 12);
	if (img->irom_len > len - (off + 16)) {
		*cause = xfmt("at 0x%x: the OTA image's IROM part is 0x%x bytes long, but only 0x%zx bytes follow",
		    off + 8, img->irom_len, len - (off + 16));
		return RC_ERR_FORMAT;
	}
	rc = image_parse_v1(buf, len, off, off + 16 + img->irom_len, img, cause);
	if (rc != RC_OK)
		return rc;
	if ((size_t)img->off + img->len + 4 <= len) {
		img->has_crc = 1;
		img->crc_stored = rd_le32(buf + img->off + img->len);
		img->crc_calc = image_v2_crc(buf + img->off, img->len);
		img->len += 4;
	}
	return RC_OK;
}

int
image_ok(const struct image *img)
{
	if (img->csum_stored != img->csum_calc)
		return 0;
	return !img->has_crc || img->crc_stored == img->crc_calc;
}

void
image_fix_checksum(uint8_t *buf, const struct image *img)
{
	uint8_t csum = 0xEF;
	uint32_t end = img->off + img->len - (img->has_crc ? 4 : 0);

	for (unsigned i = 0; i < img->nseg; i++)
		csum = image_checksum(buf + img->seg[i].file_off, img->seg[i].len, csum);
	buf[end - 1] = csum;
	if (img->has_crc)
		wr_le32(buf + end, image_v2_crc(buf + img->off, end - img->off));
}
