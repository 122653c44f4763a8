/*
 * Changes to a dump or image, always on the caller's copy: identity, header, relayout. Every
 * change that lands inside an image's checksummed data is followed by a checksum fix, so the
 * result boots wherever the original did.
 */
#include "config.h"

#include "image/image.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

/* Checks s against a shape of 'x' (hex digit) and literal characters. */
static int
image_shape_ok(const char *s, const char *shape)
{
	size_t n = strlen(shape);

	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	return 1;
}

/* The images whose checksum might cover a byte we change: the one at 0x0 and the OTA slots. */
static size_t
image_list(const uint8_t *buf, size_t len, struct image *imgs, size_t max)
{
	static const uint32_t at[] = { 0x0, 0x1000, 0x41000, 0x81000, 0x101000 };
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(at) && n < max; i++) {
		char *cause = NULL;

		if (at[i] < len && image_parse(buf, len, at[i], &imgs[n], &cause) == RC_OK && image_ok(&imgs[n]))
			n++;
		free(cause);
	}
	return n;
}

static int
image_covers(const struct image *img, uint32_t off, uint32_t len)
{
	return off < img->off + img->len && off + len > img->off;
}

/* Replaces every occurrence recorded in found[0..n) (all equal text) with repl. */
static unsigned
image_replace(uint8_t *buf, const struct image_found *found, unsigned n, const char *repl,
    int keep_case, struct image *imgs, size_t nimg, int *touched)
{
	size_t rl = strlen(repl);
	unsigned changes = 0;

	for (unsigned i = 0; i < n; i++) {
		for (size_t k = 0; k < rl; k++) {
			char c = repl[k];

			/* Keep the original's letter case (MACs are written either way). */
			if (keep_case && isalpha((unsigned char)c))
				c = isupper((unsigned char)found[i].text[k]) ? (char)toupper((unsigned char)c) :
				    (char)tolower((unsigned char)c);
			buf[found[i].off + k] = (uint8_t)c;
		}
		for (size_t m = 0; m < nimg; m++)
			if (image_covers(&imgs[m], found[i].off, (uint32_t)rl))
				touched[m] = 1;
		changes++;
	}
	return changes;
}

static int
image_distinct(const struct image_found *f, unsigned n, const char *what, char **cause)
{
	for (unsigned i = 1; i < n; i++) {
		if (strcasecmp(f[i].text, f[0].text) != 0) {
			*cause = xfmt("the dump holds two different %ss, %s at 0x%X and %s at 0x%X: which one is this unit's is not clear, so nothing was changed",
			    what, f[0].text, f[0].off, f[i].text, f[i].off);
			return RC_ERR_ARG;
		}
	}
	return RC_OK;
}

int
image_patch_identity(uint8_t *buf, size_t len, const char *device_id, const char *api_key,
    const char *mac, unsigned *changes, char **cause)
{
	struct image_dump *d = xcalloc(1, sizeof *d);
	struct image imgs[5];
	int touched[5] = { 0 };
	size_t nimg;
	int rc = RC_OK;

	*cause = NULL;
	*changes = 0;
	if (device_id != NULL && !image_shape_ok(device_id, "1000xxxxxx")) {
		*cause = xfmt("device id '%s' is not 10 hex characters starting with 1000 (e.g. 10000cbf67)", device_id);
		rc = RC_ERR_ARG;
	} else if (api_key != NULL && !image_shape_ok(api_key, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")) {
		*cause = xfmt("API key '%s' is not a UUID (8-4-4-4-12 hex digits)", api_key);
		rc = RC_ERR_ARG;
	} else if (mac != NULL && !image_shape_ok(mac, "xx:xx:xx:xx:xx:xx")) {
		*cause = xfmt("MAC '%s' is not six hex pairs separated by colons (aa:bb:cc:dd:ee:ff)", mac);
		rc = RC_ERR_ARG;
	}
	if (rc != RC_OK)
		goto out;
	image_identity_find(buf, len, d);
	if ((device_id != NULL && d->ndevice_id == 0) || (api_key != NULL && d->napi_key == 0) ||
	    (mac != NULL && d->nmac == 0)) {
		*cause = xfmt("no %s found in this dump to replace",
		    device_id != NULL && d->ndevice_id == 0 ? "eWeLink device id" :
		    api_key != NULL && d->napi_key == 0 ? "API key (UUID)" : "MAC address text");
		rc = RC_ERR_ARG;
		goto out;
	}
	if ((device_id != NULL && (rc = image_distinct(d->device_id, d->ndevice_id, "device id", cause)) != RC_OK) ||
	    (api_key != NULL && (rc = image_distinct(d->api_key, d->napi_key, "API key", cause)) != RC_OK) ||
	    (mac != NULL && (rc = image_distinct(d->mac, d->nmac, "MAC", cause)) != RC_OK))
		goto out;
	nimg = image_list(buf, len, imgs, ARRAY_SIZE(imgs));
	if (device_id != NULL)
		*changes += image_replace(buf, d->device_id, d->ndevice_id, device_id, 0, imgs, nimg, touched);
	if (api_key != NULL)
		*changes += image_replace(buf, d->api_key, d->napi_key, api_key, 0, imgs, nimg, touched);
	if (mac != NULL)
		*changes += image_replace(buf, d->mac, d->nmac, mac, 1, imgs, nimg, touched);
	for (size_t m = 0; m < nimg; m++)
		if (touched[m])
			image_fix_checksum(buf, &imgs[m]);
out:
	free(d);
	return rc;
}

int
image_patch_header(uint8_t *buf, size_t len, uint32_t off, int mode, int size_code, int freq,
    char **cause)
{
	struct image img;
	uint8_t b2, b3;
	int rc;

	if ((rc = image_parse(buf, len, off, &img, cause)) != RC_OK) {
		char *inner = *cause;

		*cause = xfmt("not an ESP8266 image, so no header was changed: %s", inner);
		free(inner);
		return rc;
	}
	if ((mode >= 0 && image_mode_name(mode) == NULL) || (size_code >= 0 && image_size_bytes(size_code) == 0) ||
	    (freq >= 0 && image_freq_name(freq) == NULL)) {
		*cause = xfmt("unknown flash mode, size or frequency code");
		return RC_ERR_ARG;
	}
	b2 = mode >= 0 ? (uint8_t)mode : buf[img.hdr_off + 2];
	b3 = (uint8_t)(((size_code >= 0 ? size_code : buf[img.hdr_off + 3] >> 4) << 4) |
	    (freq >= 0 ? freq : buf[img.hdr_off + 3] & 0x0F));
	if (b2 == buf[img.hdr_off + 2] && b3 == buf[img.hdr_off + 3])
		return 0;
	buf[img.hdr_off + 2] = b2;
	buf[img.hdr_off + 3] = b3;
	/* The v1 checksum covers segment data only (§12.3); the v2 CRC covers the whole file. */
	if (img.has_crc && img.crc_stored == img.crc_calc)
		image_fix_checksum(buf, &img);
	return 1;
}

static int
image_all_ff(const uint8_t *p, size_t n, uint32_t *first)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0xFF) {
			*first = (uint32_t)i;
			return 0;
		}
	}
	return 1;
}

int
image_relayout(const uint8_t *buf, size_t len, uint32_t to_size, uint8_t **out, char **cause)
{
	struct image boot;
	int from_code, to_code;
	uint32_t from, area = 0x5000, first;
	uint8_t *o;

	*out = NULL;
	*cause = NULL;
	if (image_parse(buf, len, 0, &boot, cause) != RC_OK) {
		char *inner = *cause;

		*cause = xfmt("no image at 0x0, so this is not a flash dump that can be relaid out: %s", inner);
		free(inner);
		return RC_ERR_FORMAT;
	}
	from_code = boot.size_code;
	from = image_size_bytes(from_code);
	if (from == 0 || from != len) {
		*cause = xfmt("the header at 0x0 says %s but the dump is %zu KB: relayout needs a whole dump taken at the size its header claims",
		    image_size_name(from_code) ? image_size_name(from_code) : "an unknown size", len / 1024);
		return RC_ERR_ARG;
	}
	/* Keep the map family: 512+512 stays 512+512 (user2 at 0x81000), 1024+1024 stays so. */
	to_code = image_size_code_for(to_size, image_user2_addr(from_code) == 0x101000);
	if (to_code < 0 || image_user2_addr(to_code) != image_user2_addr(from_code)) {
		*cause = xfmt("a %s dump (%s map) has no counterpart on a %u KB chip: its OTA slots would move",
		    image_size_name(from_code), image_map_name(from_code), to_size / 1024);
		return RC_ERR_ARG;
	}
	if (to_size < from && !image_all_ff(buf + to_size - area, from - to_size, &first)) {
		*cause = xfmt("the data does not fit in %u KB: byte 0x%X is in use and would land in or past the system area at 0x%X",
		    to_size / 1024, to_size - area + first, to_size - area);
		return RC_ERR_ARG;
	}
	o = xmalloc(to_size);
	memset(o, 0xFF, to_size);
	/* Everything below the system area stays where it is; the RF calibration, init data and
	 * system parameter sectors (E-0x5000 .. E) move to the end of the new size (§13.1). */
	memcpy(o, buf, (to_size < from ? to_size : from) - area);
	memcpy(o + to_size - area, buf + from - area, area);
	o[3] = (uint8_t)((to_code << 4) | (o[3] & 0x0F));
	*out = o;
	return RC_OK;
}
