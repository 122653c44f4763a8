/*
 * What a whole-flash dump holds, and whether it will boot: the boot loader at 0x0, the OTA slots,
 * the SDK system area located from the header size (§13.1), blank and zero regions, the firmware
 * family and the identity strings.
 */
#include "config.h"

#include "image/image.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "core/xmalloc.h"

const char *
image_boot_name(enum image_boot b)
{
	switch (b) {
	case IMAGE_BOOT_NONOS: return "Espressif boot_v1.x";
	case IMAGE_BOOT_RBOOT: return "rBoot";
	case IMAGE_BOOT_EBOOT: return "eboot (esp8266/Arduino)";
	case IMAGE_BOOT_APP: return "application (no 2nd-stage boot loader)";
	case IMAGE_BOOT_OTHER: return "an image of unknown kind";
	default: return "none";
	}
}

static void image_verdict(struct image_dump *d, const char *fmt, ...) ED_PRINTFLIKE(2, 3);

static void
image_verdict(struct image_dump *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nverdict >= ARRAY_SIZE(d->verdict))
		return;
	va_start(ap, fmt);
	vsnprintf(d->verdict[d->nverdict++], sizeof d->verdict[0], fmt, ap);
	va_end(ap);
}

static int
image_all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* boot_v1.x is known by its entry point (§12.1: 1.2 = 0x401000C0, 1.6 = 0x40100438,
 * 1.7 = 0x4010057C). rBoot carries its name and version as text. eboot is the small loader that
 * esp8266/Arduino puts in front of a sketch at 0x1000. */
static void
image_classify_boot(const uint8_t *buf, size_t len, struct image_dump *d)
{
	static const struct { uint32_t entry; const char *ver; } nonos[] = {
		{ 0x401000C0, "1.2" }, { 0x40100438, "1.6" }, { 0x4010057C, "1.7" },
	};
	size_t span = d->boot.len < len ? d->boot.len : len;
	const uint8_t *r;
	struct image app;
	char *cause = NULL;

	if (d->boot.fmt == IMAGE_FMT_V2) {
		d->boot_kind = IMAGE_BOOT_OTHER;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(nonos); i++) {
		if (d->boot.entry == nonos[i].entry) {
			d->boot_kind = IMAGE_BOOT_NONOS;
			snprintf(d->boot_version, sizeof d->boot_version, "%s", nonos[i].ver);
			return;
		}
	}
	if ((r = memmem(buf, span, "rBoot v", 7)) != NULL) {
		size_t k = 0;

		d->boot_kind = IMAGE_BOOT_RBOOT;
		while (k + 1 < sizeof d->boot_version && (size_t)(r - buf) + k < span &&
		    r[k] > ' ' && r[k] < 0x7f)
			k++;
		memcpy(d->boot_version, r, k);
		d->boot_version[k] = '\0';
		return;
	}
	if (d->boot.len <= IMAGE_SECTOR && len > IMAGE_SECTOR &&
	    image_parse(buf, len, IMAGE_SECTOR, &app, &cause) == RC_OK && app.fmt == IMAGE_FMT_V1) {
		d->boot_kind = IMAGE_BOOT_EBOOT;
		free(cause);
		return;
	}
	free(cause);
	d->boot_kind = d->boot.len > IMAGE_SECTOR ? IMAGE_BOOT_APP : IMAGE_BOOT_OTHER;
}

static void
image_slots(const uint8_t *buf, size_t len, struct image_dump *d)
{
	char *cause = NULL;

	d->slot[1].addr = IMAGE_SECTOR;
	if (d->boot_kind == IMAGE_BOOT_NONOS)
		d->slot[2].addr = image_user2_addr(d->boot.size_code);
	for (int s = 1; s <= 2; s++) {
		if (d->slot[s].addr == 0 || d->slot[s].addr >= len)
			continue;
		d->slot[s].present = image_parse(buf, len, d->slot[s].addr, &d->slot[s].img, &cause) == RC_OK;
		free(cause);
		cause = NULL;
	}
	if (d->boot_kind != IMAGE_BOOT_NONOS || d->hdr_size == 0)
		return;
	/*
	 * Which slot boot_v1.x runs comes from the system parameter area at the end of the flash the
	 * header claims (§13.1). Blank parameters mean user1 (§13.2). The record layout is not in the
	 * reference; we read the SDK's structures as reverse-engineered (flag sector E-0x1000 byte 0
	 * picks E-0x2000 when 1, else E-0x3000; the boot byte's low nibble is 1 for user2), and say so.
	 */
	if (d->hdr_size > len) {
		snprintf(d->selected_why, sizeof d->selected_why,
		    "the boot parameters at 0x%X lie beyond this dump", d->hdr_size - 0x3000);
		return;
	}
	{
		uint32_t e = d->hdr_size, params;

		params = buf[e - 0x1000] == 1 ? e - 0x2000 : e - 0x3000;
		if (image_all(buf + params, IMAGE_SECTOR, 0xFF)) {
			d->selected = 1;
			snprintf(d->selected_why, sizeof d->selected_why,
			    "boot parameters at 0x%X are blank: user1", params);
		} else {
			d->selected = (buf[params] & 0x0F) == 1 ? 2 : 1;
			snprintf(d->selected_why, sizeof d->selected_why,
			    "boot parameters at 0x%X: byte 0x%02X selects user%d", params, buf[params],
			    d->selected);
		}
	}
}

static void
image_runs(const uint8_t *buf, size_t len, struct image_dump *d)
{
	for (size_t s = 0; s + IMAGE_SECTOR <= len; s += IMAGE_SECTOR) {
		uint8_t v = buf[s];
		struct image_run *last = d->nruns ? &d->runs[d->nruns - 1] : NULL;

		if ((v != 0xFF && v != 0x00) || !image_all(buf + s, IMAGE_SECTOR, v))
			continue;
		if (last != NULL && last->value == v && last->off + last->len == s) {
			last->len += IMAGE_SECTOR;
			continue;
		}
		if (d->nruns == ARRAY_SIZE(d->runs)) {
			d->more_runs++;
			continue;
		}
		d->runs[d->nruns].off = (uint32_t)s;
		d->runs[d->nruns].len = IMAGE_SECTOR;
		d->runs[d->nruns].value = v;
		d->nruns++;
	}
}

static void
image_sizes(struct image_dump *d)
{
	uint32_t e = d->hdr_size, sz = d->size;
	const char *hn = image_size_name(d->boot.size_code);

	if (e == 0)
		return;
	if (e > sz)
		image_verdict(d, "header says %s, this dump is %u KB: it will look for its parameters at 0x%X, past the end of the dump",
		    hn, sz / 1024, e - 0x4000);
	if (d->chip_size != 0) {
		if (sz > d->chip_size)
			image_verdict(d, "this dump is %u KB but the chip has %u KB: it does not fit",
			    sz / 1024, d->chip_size / 1024);
		if (e > d->chip_size) {
			d->will_boot = 0;
			image_verdict(d, "header says %s but the chip has %u KB: the system area would be at 0x%X, past the end of the chip; patch the header (image-patch --flash-size) or relayout",
			    hn, d->chip_size / 1024, e - 0x5000);
		} else if (e < d->chip_size && sz <= e)
			image_verdict(d, "header says %s on a %u KB chip: it boots with the %s layout and uses only the first %s (image-relayout --to %uMB moves the system area to the end of the chip)",
			    hn, d->chip_size / 1024, hn, hn, d->chip_size >> 20);
	}
}

int
image_dump_explain(const uint8_t *buf, size_t len, uint32_t chip_size, struct image_dump *d,
    char **cause)
{
	char *why = NULL;
	const char *marker;

	*cause = NULL;
	memset(d, 0, sizeof *d);
	if (len == 0) {
		*cause = xfmt("the file is empty: a flash dump or image has at least one byte");
		return RC_ERR_ARG;
	}
	d->size = (uint32_t)len;
	d->chip_size = chip_size;
	d->will_boot = -1;

	d->has_boot = image_parse(buf, len, 0, &d->boot, &why) == RC_OK;
	if (!d->has_boot) {
		d->boot_kind = IMAGE_BOOT_NONE;
		d->will_boot = 0;
		if (image_all(buf, len < IMAGE_SECTOR ? len : IMAGE_SECTOR, 0xFF))
			image_verdict(d, "no image at 0x0: the first sector is blank (0xFF); the ROM will find nothing to boot");
		else
			image_verdict(d, "no bootable image at 0x0: %s", why);
	} else {
		image_classify_boot(buf, len, d);
		d->hdr_size = image_size_bytes(d->boot.size_code);
		if (d->boot.fmt == IMAGE_FMT_V2) {
			d->will_boot = 0;
			image_verdict(d, "an OTA (0xEA) image sits at 0x0: the ROM cannot boot it; it belongs at 0x1000 behind boot_v1.x");
		} else if (!image_ok(&d->boot)) {
			d->will_boot = 0;
			image_verdict(d, "the image at 0x0 stores checksum 0x%02X but its data gives 0x%02X: the ROM will stop with `csum err`",
			    d->boot.csum_stored, d->boot.csum_calc);
		}
		if (d->hdr_size == 0)
			image_verdict(d, "the header at 0x0 has an unknown flash size code 0x%X", d->boot.size_code);
	}
	free(why);

	image_slots(buf, len, d);
	if (d->boot_kind == IMAGE_BOOT_NONOS && d->selected != 0) {
		int s = d->selected;

		if (!d->slot[s].present) {
			int other = s == 1 ? 2 : 1;

			image_verdict(d, "the boot parameters select user%d at 0x%X, but there is no valid image there: boot_v1.x prints `error magic!`%s",
			    s, d->slot[s].addr,
			    d->slot[other].present ? " and falls back to the other slot (boot_v1.6+)" : "");
			if (!d->slot[other].present)
				d->will_boot = 0;
		} else if (!image_ok(&d->slot[s].img)) {
			d->will_boot = 0;
			image_verdict(d, "user%d at 0x%X has a bad checksum (stored 0x%02X, computed 0x%02X)", s,
			    d->slot[s].addr, d->slot[s].img.csum_stored, d->slot[s].img.csum_calc);
		}
	}

	/* SDK system area, relative to the end of the flash the header claims. */
	{
		uint32_t e = d->hdr_size ? d->hdr_size : d->size;

		if (e >= 0x5000) {
			d->rf_cal = e - 0x5000;
			d->init_data = e - 0x4000;
			d->sysparam = e - 0x3000;
			d->area_in_dump = e <= len;
		}
		if (d->area_in_dump) {
			d->init_ok = buf[d->init_data] == 0x05;
			d->init_blank = image_all(buf + d->init_data, IMAGE_SECTOR, 0xFF);
		}
	}
	image_sizes(d);
	image_runs(buf, len, d);
	d->family = image_family_detect(buf, len, &marker, &d->family_off);
	if (marker != NULL)
		snprintf(d->family_marker, sizeof d->family_marker, "%s", marker);
	image_identity_find(buf, len, d);

	/* The NONOS SDK (stock and AT firmware) refuses to start without init data (§13.3). */
	if (d->area_in_dump && !d->init_ok && d->has_boot &&
	    (d->boot_kind == IMAGE_BOOT_NONOS || d->family == IMAGE_FAM_STOCK || d->family == IMAGE_FAM_AT)) {
		d->will_boot = 0;
		image_verdict(d, "esp_init_data at 0x%X starts with 0x%02X, not 0x05: the SDK will print `rf_cal[0] !=0x05,is 0x%02X` and stop (write esp_init_data_default.bin there)",
		    d->init_data, buf[d->init_data], buf[d->init_data]);
	}
	if (d->ndevice_id > 0)
		image_verdict(d, "this dump carries eWeLink device id %s (at 0x%X): it belongs to one unit; written to another, both share one identity",
		    d->device_id[0].text, d->device_id[0].off);
	if (d->will_boot < 0 && d->has_boot && image_ok(&d->boot) &&
	    (d->boot_kind != IMAGE_BOOT_NONOS || (d->selected && d->slot[d->selected].present)))
		d->will_boot = 1;
	return RC_OK;
}
