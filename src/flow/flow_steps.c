/*
 * flow_steps.c: the steps the flows are made of. Each one does one thing and says what it
 * proved; the flow definitions only list them.
 */
#include "config.h"

#include "flow/flow_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/backup.h"
#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "core/afile.h"
#include "core/clock.h"
#include "core/esc.h"
#include "core/xmalloc.h"
#include "image/image.h"
#include "profile/profile.h"
#include "serial/ser.h"

static void
on_event(void *arg, const struct flasher_event *ev)
{
	struct flow_ctx *c = arg;
	int pct;

	if (c->o.ev_cb != NULL)
		c->o.ev_cb(c->o.cb_arg, ev);
	if (ev->phase == FLASHER_PH_WAITING || ev->phase == FLASHER_PH_NOTICE) {
		/* The engine repeats WAITING every second for live indicators: said once here. */
		if (ev->msg != NULL && (ev->phase != FLASHER_PH_WAITING ||
		    strcmp(ev->msg, c->last_wait) != 0))
			flow_say(c, "  %s", ev->msg);
		if (ev->msg != NULL && ev->phase == FLASHER_PH_WAITING)
			snprintf(c->last_wait, sizeof c->last_wait, "%s", ev->msg);
		return;
	}
	if (ev->total == 0 || (ev->phase != FLASHER_PH_READ && ev->phase != FLASHER_PH_WRITE &&
	    ev->phase != FLASHER_PH_VERIFY && ev->phase != FLASHER_PH_ERASE))
		return;
	pct = (int)(ev->done * 100 / ev->total);
	if ((int)ev->phase != c->last_phase || pct / 25 != c->last_pct / 25) {
		fprintf(c->o.out, "  %s %d%%\n", flasher_phase_name(ev->phase), pct);
		fflush(c->o.out);
	}
	c->last_phase = (int)ev->phase;
	c->last_pct = pct;
}

int
flow_profile_load(struct flow_ctx *c, const char *name, char **cause)
{
	const char *sug[2];
	char shown[80];
	size_t n;

	if (c->ps == NULL)
		c->ps = profile_set_load_default();
	if (c->ps != NULL && (c->prof = profile_set_find(c->ps, name)) != NULL) {
		snprintf(c->j.profile, sizeof c->j.profile, "%s", c->prof->name);
		return RC_OK;
	}
	esc_bytes(shown, sizeof shown, name, strlen(name), 0);
	n = c->ps != NULL ? profile_set_suggest(c->ps, name, sug, 2) : 0;
	*cause = xfmt("no profile named '%s'%s%s%s%s%s; `espdesk profiles` lists them", shown,
	    n ? " (did you mean '" : "", n ? sug[0] : "", n > 1 ? "' or '" : "",
	    n > 1 ? sug[1] : "", n ? "'?)" : "");
	return RC_ERR_ARG;
}

/* What the user needs before touching the board named by its profile: mains, header, the way
 * into download mode. */
static void
show_board(struct flow_ctx *c)
{
	const struct profile *p = c->prof;
	char pins[160] = "";
	size_t off = 0;

	flow_say(c, "  board: %s (profile %s)", p->title, p->name);
	if (p->mains_live)
		flow_say(c, "  WARNING: this board's ground is tied to mains live. Unplug it from the "
		    "mains before you connect anything; power it from the adapter's 3.3 V only.");
	for (size_t i = 0; i < p->nheader_pins && off < sizeof pins; i++)
		off += (size_t)snprintf(pins + off, sizeof pins - off, "%s%s", i ? ", " : "",
		    p->header_pins[i]);
	if (off > 0 || p->header_note != NULL)
		flow_say(c, "  programming header: %s%s%s (adapter TX to the board's RX, RX to TX, "
		    "3.3 V, never 5 V)", pins, off && p->header_note ? "; " : "",
		    p->header_note ? p->header_note : "");
	if (p->download_mode != NULL)
		flow_say(c, "  download mode on this board: %s", p->download_mode);
}

int
flow_st_connect(struct flow_ctx *c, char **cause)
{
	struct flasher_opts fo;
	int rc;

	memset(&fo, 0, sizeof fo);
	fo.port = c->o.port;
	fo.baud = c->o.baud;
	if (c->o.profile != NULL) {
		show_board(c);
		/* A device profile is a finished product (a Sonoff): no auto-reset wiring. */
		if (c->prof->kind == PROFILE_KIND_DEVICE && !c->o.reset_only)
			c->o.manual = c->j.manual = 1;
	}
	/* Unless told, reset through DTR/RTS and, where that does nothing (every Sonoff), tell
	 * the user how to enter download mode and wait. */
	fo.before = c->o.manual ? FLASHER_BEFORE_MANUAL : c->o.reset_only ?
	    FLASHER_BEFORE_DEFAULT : FLASHER_BEFORE_AUTO;
	/* Leave the chip in its ROM loader (autobauding) at the end, so a resumed or next flow
	 * connects again; the boot watch resets it itself. */
	fo.after = FLASHER_AFTER_NO_RESET;
	fo.cancel = c->o.cancel != NULL ? c->o.cancel : &c->cancel;
	fo.cb = on_event;
	fo.cb_arg = c;
	if (c->o.manual && c->o.profile != NULL && c->prof->download_mode != NULL)
		flow_say(c, "  This board has no auto-reset: put it in download mode as above "
		    "(unplugging and replugging the adapter cycles its power). Waiting for the "
		    "loader on %s ...", c->o.port);
	else if (c->o.manual)
		flow_say(c, "  This board has no auto-reset. Put it in download mode now: hold the "
		    "button (GPIO0 to GND), unplug and replug the adapter (or switch the power "
		    "on), release the button after 2 s. Waiting for the loader on %s ...", c->o.port);
	c->last_phase = -1;
	c->last_wait[0] = '\0';
	if ((rc = flasher_open(&fo, &c->f, cause)) != RC_OK)
		return rc;
	if (flasher_info(c->f)->manual_board && !c->o.manual) {
		/* The reset did nothing and the user entered download mode by hand: so it will be
		 * for the rest of this flow, and for a resumed one. */
		c->o.manual = c->j.manual = 1;
		flow_say(c, "  the board has no auto-reset: you will be told when to power-cycle it");
	}
	return RC_OK;
}

/* The chip must fit the profile the user named: a wrong one would pick the flash mode and the
 * instructions of another board. */
static int
check_named(struct flow_ctx *c, const struct profile_detected *det, char **cause)
{
	char **msgs = NULL, *all;
	size_t n = profile_contradictions(c->prof, det, &msgs), len = 1;

	if (n == 0) {
		flow_say(c, "  profile: %s (%s), as named; the chip fits it", c->prof->name,
		    c->prof->title);
		return RC_OK;
	}
	for (size_t i = 0; i < n; i++)
		len += strlen(msgs[i]) + 2;
	all = xcalloc(1, len);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(all, "; ");
		strcat(all, msgs[i]);
		free(msgs[i]);
	}
	free(msgs);
	*cause = xfmt("the chip does not fit the profile '%s': %s (`espdesk profiles show %s`); "
	    "or leave --profile out to match the board from the chip", c->prof->name, all,
	    c->prof->name);
	free(all);
	return RC_ERR_ARG;
}

int
flow_st_identify(struct flow_ctx *c, char **cause)
{
	struct profile_detected det;
	struct profile_fit *fits = NULL;
	size_t n;
	char dev[32];

	c->info_copy = *flasher_info(c->f);
	c->info = &c->info_copy;
	if (c->o.info_cb != NULL)
		c->o.info_cb(c->o.cb_arg, c->info);
	c->size = flasher_flash_size(c->f);
	backup_device_name(c->info->chip_id, c->info->mac, dev, sizeof dev);
	if (c->j.have_device && (c->j.chip_id != c->info->chip_id ||
	    memcmp(c->j.mac, c->info->mac, 6) != 0)) {
		char was[32];

		backup_device_name(c->j.chip_id, c->j.mac, was, sizeof was);
		*cause = xfmt("this is device %s, but the flow was started on %s; connect that "
		    "device, or `espdesk flow abort` and start again", dev, was);
		return RC_ERR_ARG;
	}
	c->j.have_device = c->j.have_mac = 1;
	c->j.chip_id = c->info->chip_id;
	memcpy(c->j.mac, c->info->mac, 6);
	flow_say(c, "  %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, chip id 0x%08" PRIx32 ", flash "
	    "0x%06" PRIx32 " (%s), %" PRIu32 " KB", c->info->chip, c->info->mac[0],
	    c->info->mac[1], c->info->mac[2], c->info->mac[3], c->info->mac[4], c->info->mac[5],
	    c->info->chip_id, c->info->jedec, c->info->vendor ? c->info->vendor : "unknown vendor",
	    c->size / 1024);
	if (flasher_flash_size(c->f) == 0 || c->info->flash_size == 0) {
		*cause = xfmt("the flash did not give a usable JEDEC id (0x%06" PRIx32 "); check the "
		    "wiring (3.3 V, GND) and that the board is powered", c->info->jedec);
		return RC_ERR_DEVICE;
	}
	memset(&det, 0, sizeof det);
	det.chip_known = 1;
	det.esp8285 = c->info->esp8285;
	det.jedec = c->info->jedec;
	if (c->o.profile != NULL)
		return check_named(c, &det, cause);
	if (c->ps == NULL)
		c->ps = profile_set_load_default();
	n = c->ps != NULL ? profile_match(c->ps, &det, &fits) : 0;
	if (n > 0) {
		c->prof = fits[0].p;
		flow_say(c, "  profile: %s (%s)%s", c->prof->name, c->prof->title,
		    n > 1 ? "; others fit too (`espdesk profiles`)" : "");
		if (c->prof->mains_live)
			flow_say(c, "  WARNING: this board's ground is tied to mains live. Never "
			    "connect it to a computer while it is plugged into the mains.");
		if (c->prof->download_mode != NULL)
			flow_say(c, "  download mode on this board: %s", c->prof->download_mode);
	} else
		flow_say(c, "  no device profile fits; using the chip's own facts (%s)",
		    c->info->esp8285 ? "ESP8285: DOUT" : "flash mode from the image");
	profile_fits_free(fits, n);
	return RC_OK;
}

/* Finds the newest verified backup of this device and re-hashes it. */
static const struct backup_entry *
device_backup(struct flow_ctx *c, struct backup_list *l)
{
	char *why = NULL;
	const struct backup_entry *e;

	if (backup_list_read(l, &why) != RC_OK) {
		free(why);
		return NULL;
	}
	e = backup_list_latest(l, c->info->chip_id, c->info->mac);
	if (e != NULL && backup_verify(e, &why) != RC_OK) {
		flow_say(c, "  the newest backup of this device does not verify: %s", why);
		free(why);
		return NULL;
	}
	return e;
}

int
flow_st_need_backup(struct flow_ctx *c, char **cause)
{
	struct backup_list l;
	const struct backup_entry *e = device_backup(c, &l);

	(void)cause;
	if (e != NULL) {
		c->have_backup = 1;
		snprintf(c->j.backup, sizeof c->j.backup, "%s", e->id);
		flow_say(c, "  verified backup of this device: %s (%s)", e->id, e->meta.date);
		if (strcmp(c->def->name, "erase") == 0) {
			char *q = xfmt("Erase ALL of the flash (0x000000-0x%06" PRIX32 ", %" PRIu32
			    " KB)?", c->size - 1, c->size / 1024);
			char *d = xfmt("Every byte becomes 0xFF: the firmware and its settings go. The "
			    "verified backup %s can bring them back (restore).", e->id);
			int yes = flow_ask(c, q, d, 0, 0, "--yes");

			free(q);
			free(d);
			if (!yes) {
				backup_list_free(&l);
				*cause = xstrdup("not confirmed: nothing was erased");
				return RC_ERR_ARG;
			}
		}
	} else if (strcmp(c->def->name, "erase") == 0) {
		char *q = xfmt("Erase ALL of the flash (0x000000-0x%06" PRIX32 ", %" PRIu32 " KB) "
		    "without a backup?", c->size - 1, c->size / 1024);
		int yes = flow_ask(c, q, "There is no verified backup of this device: erasing loses "
		    "its firmware, its settings (Wi-Fi, MQTT) and its RF calibration for good.", 1,
		    c->o.no_backup, "--no-backup");

		free(q);
		if (!yes) {
			backup_list_free(&l);
			*cause = xstrdup("there is no verified backup of this device; erasing would "
			    "lose its firmware for good. Run `espdesk backup` first, or give "
			    "--no-backup to accept losing it");
			return RC_ERR_ARG;
		}
		flow_say(c, "  no backup of this device: erasing anyway (%s); its current "
		    "firmware and settings will be gone", c->o.no_backup ? "--no-backup" :
		    "confirmed");
	} else
		flow_say(c, "  no verified backup of this device yet: taking one first");
	backup_list_free(&l);
	return RC_OK;
}

static int
sink(void *arg, uint32_t addr, const uint8_t *data, size_t len)
{
	struct flow_ctx *c = arg;

	if ((uint64_t)addr + len > c->size)
		return 1;
	memcpy(c->dump + addr, data, len);
	return 0;
}

int
flow_st_read(struct flow_ctx *c, char **cause)
{
	if (c->have_backup) {
		flow_say(c, "  a verified backup exists: nothing to do");
		c->skipped = 1;
		return RC_OK;
	}
	free(c->dump);
	c->dump = xmalloc(c->size);
	return flasher_read(c->f, 0, c->size, sink, c, cause);
}

int
flow_st_verify_read(struct flow_ctx *c, char **cause)
{
	uint8_t dev[16], local[16], *again;
	uint32_t sample[3], slen = 4096;
	int rc;

	if (c->have_backup) {
		flow_say(c, "  a verified backup exists: nothing to do");
		c->skipped = 1;
		return RC_OK;
	}
	if ((rc = flasher_md5(c->f, 0, c->size, dev, cause)) != RC_OK)
		return rc;
	flasher_md5_local(c->dump, c->size, local);
	if (memcmp(dev, local, 16) != 0) {
		*cause = xstrdup("the whole-chip MD5 from the device differs from the bytes read; "
		    "read again (check the cable and the power)");
		return RC_ERR_VERIFY;
	}
	/* A second read of sampled regions: start, middle (pseudo-random), end. */
	sample[0] = 0;
	sample[1] = ((c->info->chip_id * 2654435761u) % (c->size / slen)) * slen;
	sample[2] = c->size - slen;
	again = xmalloc(c->size);
	memcpy(again, c->dump, c->size);
	for (int i = 0; i < 3; i++) {
		uint8_t *keep = c->dump;

		c->dump = again;
		memset(again + sample[i], 0x5a, slen);
		rc = flasher_read(c->f, sample[i], slen, sink, c, cause);
		c->dump = keep;
		if (rc != RC_OK) {
			free(again);
			return rc;
		}
		if (memcmp(again + sample[i], c->dump + sample[i], slen) != 0) {
			*cause = xfmt("a second read of 0x%06" PRIx32 " differs from the first; the "
			    "flash reads unreliably (power? a failing chip?)", sample[i]);
			free(again);
			return RC_ERR_VERIFY;
		}
	}
	free(again);
	flow_say(c, "  device MD5 of all %" PRIu32 " bytes matches; second reads of 0x%06" PRIx32
	    ", 0x%06" PRIx32 ", 0x%06" PRIx32 " match", c->size, sample[0], sample[1], sample[2]);
	memcpy(c->dev_md5, dev, 16);
	return RC_OK;
}

int
flow_st_store(struct flow_ctx *c, char **cause)
{
	struct backup_meta m;
	struct backup_save *s;
	char *id = NULL;
	int rc;

	if (c->have_backup) {
		flow_say(c, "  a verified backup exists (%s): nothing to do", c->j.backup);
		c->skipped = 1;
		return RC_OK;
	}
	memset(&m, 0, sizeof m);
	snprintf(m.chip, sizeof m.chip, "%s", c->info->chip);
	m.esp8285 = c->info->esp8285;
	memcpy(m.mac, c->info->mac, 6);
	m.chip_id = c->info->chip_id;
	m.jedec = c->info->jedec;
	m.flash_size = c->size;
	if (c->prof != NULL)
		snprintf(m.profile, sizeof m.profile, "%s", c->prof->name);
	memcpy(m.md5, c->dev_md5, 16);
	snprintf(m.port, sizeof m.port, "%s", c->o.port);
	m.baud = c->info->baud;
	if ((rc = backup_begin(&m, &s, cause)) != RC_OK)
		return rc;
	if ((rc = backup_append(s, c->dump, c->size, cause)) != RC_OK) {
		backup_abort(s);
		return rc;
	}
	if ((rc = backup_commit(s, &id, cause)) != RC_OK)
		return rc;
	snprintf(c->j.backup, sizeof c->j.backup, "%s", id);
	c->have_backup = 1;
	flow_say(c, "  stored as %s (read-only, `espdesk backups show %s`)", id, id);
	free(id);
	return RC_OK;
}

/* Loads the flow's backup (j.backup) into *data after its SHA-256 check. */
static int
load_backup(struct flow_ctx *c, struct backup_meta *meta, uint8_t **data, size_t *len,
    char **cause)
{
	struct backup_list l;
	const struct backup_entry *e;
	int rc;

	if ((rc = backup_list_read(&l, cause)) != RC_OK)
		return rc;
	if ((e = backup_list_find(&l, c->j.backup, cause)) == NULL) {
		backup_list_free(&l);
		return RC_ERR_ARG;
	}
	*meta = e->meta;
	snprintf(c->j.backup, sizeof c->j.backup, "%s", e->id);
	rc = backup_load(e, data, len, cause);
	backup_list_free(&l);
	return rc;
}

int
flow_st_show(struct flow_ctx *c, char **cause)
{
	struct image_dump *d = xcalloc(1, sizeof *d);
	struct backup_meta m;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (c->dump != NULL) {
		data = c->dump;
		len = c->size;
	} else if ((rc = load_backup(c, &m, &data, &len, cause)) != RC_OK) {
		free(d);
		return rc;
	}
	rc = image_dump_explain(data, len, c->size, d, cause);
	if (rc == RC_OK) {
		flow_say(c, "  firmware family: %s%s%s", image_family_name(d->family),
		    d->family_marker[0] ? ", found " : "", d->family_marker);
		for (unsigned i = 0; i < d->ndevice_id && i < 2; i++)
			flow_say(c, "  eWeLink device id %s at 0x%06" PRIx32, d->device_id[i].text,
			    d->device_id[i].off);
		for (unsigned i = 0; i < d->nverdict && i < 3; i++)
			flow_say(c, "  %s", d->verdict[i]);
	}
	if (data != c->dump)
		free(data);
	free(d);
	return rc;
}

static int
read_file(const char *path, uint32_t max, uint8_t **data, size_t *len, char **cause)
{
	return afile_read(path, max, data, len, cause);
}

int
flow_st_check_image(struct flow_ctx *c, char **cause)
{
	struct image img;
	int mode, rc;

	free(c->img);
	c->img = NULL;
	if (c->o.file == NULL) {
		*cause = xstrdup("no firmware file given");
		return RC_ERR_ARG;
	}
	if ((rc = read_file(c->o.file, c->size, &c->img, &c->img_len, cause)) != RC_OK) {
		if (rc == RC_ERR_ARG || rc == RC_ERR_FORMAT) {
			free(*cause);
			*cause = xfmt("%s does not fit this chip's %" PRIu32 " KB flash (or cannot be "
			    "read); choose a build for this size", c->o.file, c->size / 1024);
		}
		return rc;
	}
	if (c->img_len == 0 || c->img[0] != 0xE9 ||
	    image_parse(c->img, c->img_len, 0, &img, cause) != RC_OK) {
		char *why = *cause;

		*cause = xfmt("%s is not an ESP8266 application image for address 0x0 (%s); "
		    "`espdesk image-info %s` explains it", c->o.file, why ? why : "no 0xE9 magic",
		    c->o.file);
		free(why);
		return RC_ERR_FORMAT;
	}
	mode = c->info->esp8285 ? PROFILE_MODE_DOUT : c->prof != NULL ? (int)c->prof->mode : -1;
	c->hdr.mode = mode;
	c->hdr.size = -1;
	c->hdr.freq = -1;
	flow_say(c, "  %s: %zu bytes, image at 0x0 fits the %" PRIu32 " KB flash; header mode "
	    "%s -> %s", c->o.file, c->img_len, c->size / 1024, image_mode_name(c->img[2]),
	    mode >= 0 ? image_mode_name(mode) : "kept");
	return RC_OK;
}

int
flow_st_choose_backup(struct flow_ctx *c, char **cause)
{
	struct backup_meta m;
	struct backup_list l;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc, same;

	if (c->j.backup[0] == '\0') {
		const struct backup_entry *e;

		if ((rc = backup_list_read(&l, cause)) != RC_OK)
			return rc;
		e = backup_list_latest(&l, c->info->chip_id, c->info->mac);
		if (e == NULL) {
			backup_list_free(&l);
			*cause = xstrdup("this device has no backup in the store; name one "
			    "(`espdesk restore ID`, ids from `espdesk backups`)");
			return RC_ERR_ARG;
		}
		snprintf(c->j.backup, sizeof c->j.backup, "%s", e->id);
		backup_list_free(&l);
	}
	if ((rc = load_backup(c, &m, &data, &len, cause)) != RC_OK)
		return rc;
	flow_say(c, "  backup %s (%s, %" PRIu32 " KB, %s) verifies", c->j.backup, m.date,
	    m.flash_size / 1024, m.family);
	same = m.chip_id == c->info->chip_id && memcmp(m.mac, c->info->mac, 6) == 0;
	if (!same) {
		char *d = xfmt("This backup was taken from ANOTHER unit (chip id 0x%08" PRIx32 "). "
		    "Its firmware carries that unit's eWeLink device id and API key: restored here, "
		    "this device would appear in eWeLink as the other one (and clash with it if "
		    "both are online); its RF calibration also belongs to the other unit.",
		    m.chip_id);
		int yes = flow_ask(c, "Restore another unit's backup?", d, 1, c->o.other_unit,
		    "--other-unit");

		free(d);
		if (!yes) {
			free(data);
			*cause = xstrdup("refused to restore another unit's backup; give --other-unit "
			    "to accept its eWeLink identity");
			return RC_ERR_ARG;
		}
	}
	if (len > c->size) {
		free(data);
		*cause = xfmt("the backup has %zu KB, this chip only %" PRIu32 " KB; it cannot be "
		    "restored here", len / 1024, c->size / 1024);
		return RC_ERR_ARG;
	}
	if (len < c->size) {
		uint8_t *out = NULL;
		char *d = xfmt("The backup is %zu KB, the chip %" PRIu32 " KB: as it is, the "
		    "firmware would look for its parameters at the wrong place. Relayout moves "
		    "them.", len / 1024, c->size / 1024);
		int yes = flow_ask(c, "Relay the backup out for this chip?", d, 0, c->o.relayout,
		    "--relayout");

		free(d);
		if (!yes) {
			free(data);
			*cause = xstrdup("refused: the backup's size differs from the chip's; give "
			    "--relayout to move its system sectors to this size");
			return RC_ERR_ARG;
		}
		c->j.relayout = 1;
		if ((rc = image_relayout(data, len, c->size, &out, cause)) != RC_OK) {
			free(data);
			return rc;
		}
		free(data);
		data = out;
		len = c->size;
		flow_say(c, "  relaid out to %" PRIu32 " KB (the backup in the store is unchanged)",
		    c->size / 1024);
	}
	free(c->img);
	c->img = data;
	c->img_len = len;
	c->hdr.mode = c->hdr.size = c->hdr.freq = -1;
	return RC_OK;
}

int
flow_st_erase(struct flow_ctx *c, char **cause)
{
	return flasher_erase_chip(c->f, cause);
}

int
flow_st_write(struct flow_ctx *c, char **cause)
{
	struct flasher_write_result res;
	int rc;

	memset(&res, 0, sizeof res);
	rc = flasher_write(c->f, 0, c->img, c->img_len, &c->hdr, &res, cause);
	if (rc != RC_OK)
		return rc;
	flow_say(c, "  %" PRIu32 " bytes written, %" PRIu32 " already there (skipped)%s",
	    res.written, res.skipped, res.patched ? ", header patched" : "");
	return RC_OK;
}

int
flow_st_verify_write(struct flow_ctx *c, char **cause)
{
	return flasher_verify(c->f, 0, c->img, c->img_len, &c->hdr, cause);
}
