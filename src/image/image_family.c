/*
 * Firmware family and identity, found by the text a firmware carries. Markers are strings the
 * projects really put in their binaries; the most specific family wins, Arduino is the fallback
 * for any sketch that carries the esp8266/Arduino core's crash handler.
 */
#include "config.h"

#include "image/image.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct {
	enum image_family fam;
	const char *marker;
} image_markers[] = {
	/* Tasmota names itself in its banner and web UI ("Tasmota %s by Theo Arends"). */
	{ IMAGE_FAM_TASMOTA, "Tasmota" },
	{ IMAGE_FAM_TASMOTA, "Sonoff-Tasmota" },
	/* ESPHome logs "ESPHome version %s compiled on %s". */
	{ IMAGE_FAM_ESPHOME, "ESPHome" },
	{ IMAGE_FAM_ESPHOME, "esphome" },
	/* ESPurna's name is in its banner, web UI and MQTT topics. */
	{ IMAGE_FAM_ESPURNA, "ESPURNA" },
	{ IMAGE_FAM_ESPURNA, "espurna" },
	/* ITEAD's stock firmware talks to the eWeLink cloud: CoolKit's dispatch servers and ITEAD's
	 * download host (dl.itead.cn, devices.md §4). */
	{ IMAGE_FAM_STOCK, "coolkit.c" },
	{ IMAGE_FAM_STOCK, "itead.cn" },
	{ IMAGE_FAM_STOCK, "ewelink" },
	{ IMAGE_FAM_STOCK, "ITEAD" },
	/* Espressif's AT firmware answers AT+GMR with "AT version:". */
	{ IMAGE_FAM_AT, "AT version:" },
	{ IMAGE_FAM_AT, "Ai-Thinker" },
	/* The esp8266/Arduino core's post-mortem handler (core_esp8266_postmortem.c). */
	{ IMAGE_FAM_ARDUINO, ">>>stack>>>" },
	{ IMAGE_FAM_ARDUINO, "Exception (%d)" },
};

const char *
image_family_name(enum image_family f)
{
	switch (f) {
	case IMAGE_FAM_STOCK: return "stock eWeLink";
	case IMAGE_FAM_TASMOTA: return "Tasmota";
	case IMAGE_FAM_ESPHOME: return "ESPHome";
	case IMAGE_FAM_ESPURNA: return "ESPurna";
	case IMAGE_FAM_ARDUINO: return "Arduino";
	case IMAGE_FAM_AT: return "AT";
	default: return "unknown";
	}
}

enum image_family
image_family_detect(const uint8_t *buf, size_t len, const char **marker, uint32_t *off)
{
	*marker = NULL;
	*off = 0;
	/* The table is in priority order: the first marker present decides. */
	for (size_t i = 0; i < ARRAY_SIZE(image_markers); i++) {
		const char *m = image_markers[i].marker;
		const uint8_t *p = memmem(buf, len, m, strlen(m));

		if (p != NULL) {
			*marker = m;
			*off = (uint32_t)(p - buf);
			return image_markers[i].fam;
		}
	}
	return IMAGE_FAM_UNKNOWN;
}

static int
is_hex(uint8_t c)
{
	return isxdigit(c) != 0;
}

static int
is_word(uint8_t c)
{
	return isalnum(c) || c == '_' || c == '-' || c == ':';
}

static void
image_found_add(struct image_found *arr, unsigned *n, uint32_t off, const uint8_t *p, size_t len)
{
	for (unsigned i = 0; i < *n; i++)
		if (arr[i].off == off)
			return;
	if (*n >= IMAGE_MAX_FOUND)
		return;
	arr[*n].off = off;
	memcpy(arr[*n].text, p, len);
	arr[*n].text[len] = '\0';
	(*n)++;
}

/* Matches a pattern of 'x' (hex digit) and literal characters at p. */
static int
image_match_shape(const uint8_t *p, size_t avail, const char *shape)
{
	size_t n = strlen(shape);

	if (avail < n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (shape[i] == 'x' ? !is_hex(p[i]) : p[i] != (uint8_t)shape[i])
			return 0;
	}
	return 1;
}

void
image_identity_find(const uint8_t *buf, size_t len, struct image_dump *d)
{
	/* devices.md §4: deviceid is 10 hex characters starting 1000; apikey is a UUID. */
	static const char id_shape[] = "1000xxxxxx";
	static const char uuid_shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	static const char mac_shape[] = "xx:xx:xx:xx:xx:xx";

	d->ndevice_id = d->napi_key = d->nmac = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		int before_ok = i == 0 || !is_word(buf[i - 1]);

		if (!before_ok || !is_hex(c))
			continue;
		if (c == '1' && image_match_shape(buf + i, len - i, id_shape) &&
		    (i + 10 == len || !is_word(buf[i + 10])))
			image_found_add(d->device_id, &d->ndevice_id, (uint32_t)i, buf + i, 10);
		if (image_match_shape(buf + i, len - i, uuid_shape) &&
		    (i + 36 == len || !is_word(buf[i + 36])))
			image_found_add(d->api_key, &d->napi_key, (uint32_t)i, buf + i, 36);
		if (image_match_shape(buf + i, len - i, mac_shape) &&
		    (i + 17 == len || !is_word(buf[i + 17])))
			image_found_add(d->mac, &d->nmac, (uint32_t)i, buf + i, 17);
	}
}
