/*
 * backup.h: the backup store. Every whole-flash dump espdesk takes lands here, under
 *   $ESPDESK_DATA_HOME/espdesk/backups/<chip id>-<mac>/   (tests, scripts), else
 *   $XDG_DATA_HOME/espdesk/backups/<chip id>-<mac>/       (else ~/.local/share/...),
 * as two read-only files: STAMP.bin (the image) and STAMP.yaml (the sidecar: chip, ESP8285 flag,
 * MAC, chip id, JEDEC id, flash size, profile, device-side MD5, file SHA-256, date, port, baud,
 * espdesk version, firmware family). A backup's id is "<chip id>-<mac>/STAMP".
 *
 * Safety rules (a user's only copy of the factory firmware passes through here):
 * - A save is backup_begin(), backup_append()..., backup_commit() or backup_abort(). Nothing is
 *   written to the store before commit. Commit refuses (RC_ERR_VERIFY, nothing written) unless
 *   the bytes appended are exactly the flash size and their MD5 equals the device-side MD5.
 * - Commit writes the image atomically (afile: temp, fsync, rename, directory fsync, mode 0444),
 *   then the sidecar the same way. Only a sidecar that parses, says "verified: true" and sits
 *   next to an image of its size is listed: a process killed at any point leaves at most a
 *   stray temp file or an image without a sidecar, and neither is ever shown as a backup.
 * - Nothing in the store is ever overwritten or deleted by this module.
 *
 * Errors: enum rc; `char **cause` (caller frees with free()) says what happened, where and what
 * to do next. The module never prints.
 */
#ifndef ESPDESK_BACKUP_H
#define ESPDESK_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

/* What a sidecar records. Plain data, nothing to free. */
struct backup_meta {
	char chip[24];          /* "ESP8266EX", "ESP8285N08", ... */
	int esp8285;
	uint8_t mac[6];
	uint32_t chip_id;
	uint32_t jedec;         /* RDID word as the flasher reports it (manufacturer in bits 7..0) */
	uint32_t flash_size;    /* bytes: the JEDEC size, which is the size of the image */
	char profile[64];       /* matched device profile id, "" when none */
	uint8_t md5[16];        /* MD5 of the whole flash as the device computed it */
	uint8_t sha256[32];     /* SHA-256 of the image file (filled by commit) */
	char date[32];          /* UTC, ISO 8601 "2026-11-30T08:29:00Z" (filled by commit) */
	char port[128];
	int baud;
	char version[32];       /* espdesk version (filled by commit) */
	char family[24];        /* firmware family by image-info's markers (filled by commit) */
	int verified;           /* device MD5 matched the bytes (always 1 in a listed backup) */
};

/* One listed backup. */
struct backup_entry {
	char id[96];            /* "<chip id>-<mac>/STAMP" */
	char *image;            /* path of STAMP.bin (owned by the list) */
	char *sidecar;          /* path of STAMP.yaml (owned by the list) */
	struct backup_meta meta;
};

struct backup_list {
	struct backup_entry *v; /* newest first */
	size_t n;
	size_t ignored;         /* files seen that are not backups (temp files, orphans, bad sidecars) */
};

/* The store's root directory (new string, caller frees). Does not create it. */
char *backup_root(void);
/* The device directory name "<chip id %08x>-<mac as 12 hex digits>" into buf (>= 24 bytes). */
void backup_device_name(uint32_t chip_id, const uint8_t mac[6], char *buf, size_t size);

struct backup_save;

/*
 * Starts a save of a dump described by m (chip, MAC, chip id, JEDEC, flash size > 0, port,
 * baud, profile, device MD5). Creates the device directory. *out: free with backup_commit() or
 * backup_abort(). RC_ERR_ARG for a bad meta, RC_ERR_IO when the directory cannot be made.
 */
int backup_begin(const struct backup_meta *m, struct backup_save **out, char **cause);
/* Appends dump bytes in flash order. RC_ERR_ARG past the flash size. */
int backup_append(struct backup_save *s, const void *data, size_t len, char **cause);
/*
 * Checks size and device MD5, fills sha256/date/version/family, writes image then sidecar.
 * s is freed in every case. On success *id (if not NULL) is the new backup's id (caller frees).
 */
int backup_commit(struct backup_save *s, char **id, char **cause);
/* Drops a save; nothing was written. NULL is a no-op. */
void backup_abort(struct backup_save *s);

/*
 * Test hook: called at each step of a commit (1 = checked, 2 = image written, 3 = sidecar
 * written) and from backup_append (0). A test forks, _exit()s in the hook at step k, and checks
 * what the store shows. NULL removes it.
 */
void backup_set_step_hook(void (*hook)(int step));

/* Lists the store (an empty or missing store is an empty list). Free with backup_list_free(). */
int backup_list_read(struct backup_list *l, char **cause);
void backup_list_free(struct backup_list *l);
/*
 * Finds id in l: the full id, the STAMP alone, or a unique prefix of either. Returns the entry
 * (borrowed from l) or NULL with *cause saying "no backup" or "ambiguous: ...".
 */
const struct backup_entry *backup_list_find(const struct backup_list *l, const char *id,
    char **cause);
/* The newest backup of this device (chip id and MAC), or NULL. Borrowed from l. */
const struct backup_entry *backup_list_latest(const struct backup_list *l, uint32_t chip_id,
    const uint8_t mac[6]);

/* Re-hashes e's image: RC_OK, RC_ERR_VERIFY (bit rot or wrong size; the cause says which) or
 * RC_ERR_IO. */
int backup_verify(const struct backup_entry *e, char **cause);
/* Reads e's image after checking its SHA-256 (*data caller frees). Same errors as verify. */
int backup_load(const struct backup_entry *e, uint8_t **data, size_t *len, char **cause);
/* Copies image and sidecar into dir (which must exist) as <chip id>-<mac>-STAMP.bin/.yaml,
 * read-only, refusing to overwrite. The copy is checked against the SHA-256 first. */
int backup_export(const struct backup_entry *e, const char *dir, char **cause);

/* backup_yaml.c: the sidecar as YAML text (libyaml emitter) and back (libyaml parser).
 * emit: *text is a new string (caller frees). parse: name is used in messages ("name:LINE: ..."). */
int backup_yaml_emit(const struct backup_meta *m, char **text, size_t *len, char **cause);
int backup_yaml_parse(const char *name, const uint8_t *text, size_t len, struct backup_meta *m,
    char **cause);

/* Hex helpers: "18fe34a1b2c3" and the MD5/SHA-256 as lowercase hex. */
void backup_hex(const uint8_t *b, size_t n, char *out);

#endif
