/*
 * backup.c: the backup store (see backup.h for the layout and the safety rules).
 */
#include "config.h"

#include "backup/backup.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <md5.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/afile.h"
#include "core/xmalloc.h"
#include "image/image.h"

#define SIDECAR_MAX (64 * 1024)
#define IMAGE_MAX (16u * 1024 * 1024)

struct backup_save {
	struct backup_meta meta;
	uint8_t *buf;
	size_t len;
};

static void (*step_hook)(int);

void
backup_set_step_hook(void (*hook)(int step))
{
	step_hook = hook;
}

static void
step(int k)
{
	if (step_hook != NULL)
		step_hook(k);
}

char *
backup_root(void)
{
	const char *e = getenv("ESPDESK_DATA_HOME");
	const char *home;

	if (e == NULL || *e == '\0')
		e = getenv("XDG_DATA_HOME");
	if (e != NULL && *e == '/')
		return xfmt("%s/espdesk/backups", e);
	home = getenv("HOME");
	if (home == NULL || *home == '\0')
		home = "/";
	return xfmt("%s/.local/share/espdesk/backups", home);
}

void
backup_device_name(uint32_t chip_id, const uint8_t mac[6], char *buf, size_t size)
{
	char hex[13];

	backup_hex(mac, 6, hex);
	snprintf(buf, size, "%08" PRIx32 "-%s", chip_id, hex);
}

/* mkdir -p for the store's directories (0700: a dump holds Wi-Fi credentials). */
static int
make_dirs(const char *path, char **cause)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				*cause = xfmt("cannot create the backup directory %s: %s; check the "
				    "permissions or set ESPDESK_DATA_HOME", p, strerror(errno));
				free(p);
				return RC_ERR_IO;
			}
			if (c == '\0')
				break;
			*s = c;
		}
	}
	free(p);
	return RC_OK;
}

int
backup_begin(const struct backup_meta *m, struct backup_save **out, char **cause)
{
	struct backup_save *s;

	*out = NULL;
	*cause = NULL;
	if (m->flash_size == 0 || m->flash_size > IMAGE_MAX || m->flash_size % 4096 != 0) {
		*cause = xfmt("flash size %" PRIu32 " is not a whole number of 4 KB sectors up to "
		    "16 MB; identify the chip's flash first", m->flash_size);
		return RC_ERR_ARG;
	}
	if (m->chip[0] == '\0') {
		*cause = xstrdup("the chip is not named; identify the device before backing it up");
		return RC_ERR_ARG;
	}
	s = xcalloc(1, sizeof *s);
	s->meta = *m;
	s->buf = xmalloc(m->flash_size);
	*out = s;
	return RC_OK;
}

int
backup_append(struct backup_save *s, const void *data, size_t len, char **cause)
{
	*cause = NULL;
	if (len > s->meta.flash_size - s->len) {
		*cause = xfmt("%zu more bytes would pass the end of the %" PRIu32 "-byte flash "
		    "(already %zu)", len, s->meta.flash_size, s->len);
		return RC_ERR_ARG;
	}
	if (len > 0)
		memcpy(s->buf + s->len, data, len);
	s->len += len;
	step(0);
	return RC_OK;
}

void
backup_abort(struct backup_save *s)
{
	if (s == NULL)
		return;
	free(s->buf);
	free(s);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
backup_commit(struct backup_save *s, char **id, char **cause)
{
	struct backup_meta *m = &s->meta;
	uint8_t md5[16];
	char dev[32], stamp[40], *root = NULL, *dir = NULL, *bin = NULL, *yml = NULL;
	char *text = NULL, *why = NULL;
	size_t tlen;
	const char *marker;
	uint32_t foff;
	time_t now = time(NULL);
	struct tm tm;
	MD5_CTX mc;
	SHA2_CTX sc;
	int rc;

	if (id != NULL)
		*id = NULL;
	*cause = NULL;
	if (s->len != m->flash_size) {
		*cause = xfmt("the dump has %zu bytes but the flash has %" PRIu32 "; the read did not "
		    "finish, nothing was stored; read the whole chip again", s->len, m->flash_size);
		backup_abort(s);
		return RC_ERR_VERIFY;
	}
	MD5Init(&mc);
	MD5Update(&mc, s->buf, s->len);
	MD5Final(md5, &mc);
	if (memcmp(md5, m->md5, 16) != 0) {
		char a[33], b[33];

		backup_hex(md5, 16, a);
		backup_hex(m->md5, 16, b);
		*cause = xfmt("the dump's MD5 %s differs from the device's %s; nothing was stored; "
		    "read the chip again (check the cable, try a lower baud)", a, b);
		backup_abort(s);
		return RC_ERR_VERIFY;
	}
	m->verified = 1;
	SHA256Init(&sc);
	SHA256Update(&sc, s->buf, s->len);
	SHA256Final(m->sha256, &sc);
	gmtime_r(&now, &tm);
	strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(m->version, sizeof m->version, "%s", PACKAGE_VERSION);
	snprintf(m->family, sizeof m->family, "%s",
	    image_family_name(image_family_detect(s->buf, s->len, &marker, &foff)));
	step(1);

	backup_device_name(m->chip_id, m->mac, dev, sizeof dev);
	root = backup_root();
	dir = xfmt("%s/%s", root, dev);
	if ((rc = make_dirs(dir, cause)) != RC_OK)
		goto out;
	afile_sync_dir(dir);
	for (int n = 1; ; n++) {
		char base[24];

		strftime(base, sizeof base, "%Y%m%dT%H%M%SZ", &tm);
		if (n == 1)
			snprintf(stamp, sizeof stamp, "%s", base);
		else
			snprintf(stamp, sizeof stamp, "%s-%d", base, n);
		free(bin);
		free(yml);
		bin = xfmt("%s/%s.bin", dir, stamp);
		yml = xfmt("%s/%s.yaml", dir, stamp);
		if (!exists(bin) && !exists(yml))
			break;
	}
	if ((rc = backup_yaml_emit(m, &text, &tlen, cause)) != RC_OK)
		goto out;
	/* The image first, then the sidecar: a sidecar is what makes a backup. */
	if ((rc = afile_write(bin, s->buf, s->len, 0444, 0, &why)) != RC_OK) {
		*cause = xfmt("%s; the backup was not stored", why);
		goto out;
	}
	step(2);
	if ((rc = afile_write(yml, text, tlen, 0444, 0, &why)) != RC_OK) {
		*cause = xfmt("%s; the image %s has no sidecar and is not listed as a backup", why,
		    bin);
		goto out;
	}
	afile_sync_dir(yml);
	step(3);
	if (id != NULL)
		*id = xfmt("%s/%s", dev, stamp);
out:
	free(why);
	free(text);
	free(bin);
	free(yml);
	free(dir);
	free(root);
	backup_abort(s);
	return rc;
}

/* Listing. */

static int
is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
is_device_dir(const char *name)
{
	return strlen(name) == 21 && name[8] == '-' && is_hex(name, 8) && is_hex(name + 9, 12);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A stamp is 16 characters "YYYYMMDDTHHMMSSZ", optionally "-N". */
static int
is_stamp(const char *s, size_t n)
{
	if (n < 16 || n > 24)
		return 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 8 ? s[i] != 'T' : i == 15 ? s[i] != 'Z' : (s[i] < '0' || s[i] > '9'))
			return 0;
	}
	if (n == 16)
		return 1;
	if (s[16] != '-' || n == 17)
		return 0;
	for (size_t i = 17; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static void
add_entry(struct backup_list *l, const char *dev, const char *dirpath, const char *stamp,
    size_t *cap)
{
	char *yml = xfmt("%s/%s.yaml", dirpath, stamp), *bin = xfmt("%s/%s.bin", dirpath, stamp);
	char *cause = NULL, name[32];
	uint8_t *text = NULL;
	size_t len;
	struct backup_meta m;
	struct stat st;

	if (afile_read(yml, SIDECAR_MAX, &text, &len, &cause) != RC_OK ||
	    backup_yaml_parse(yml, text, len, &m, &cause) != RC_OK || !m.verified ||
	    stat(bin, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != m.flash_size) {
		l->ignored++;
		goto out;
	}
	backup_device_name(m.chip_id, m.mac, name, sizeof name);
	if (strcmp(name, dev) != 0) {
		l->ignored++;
		goto out;
	}
	if (l->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		l->v = xreallocarray(l->v, *cap, sizeof *l->v);
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	snprintf(l->v[l->n].id, sizeof l->v[l->n].id, "%s/%s", dev, stamp);
	l->v[l->n].image = bin;
	l->v[l->n].sidecar = yml;
	l->v[l->n].meta = m;
	l->n++;
	bin = yml = NULL;
out:
	free(cause);
	free(text);
	free(bin);
	free(yml);
}

static int
newest_first(const void *a, const void *b)
{
	const struct backup_entry *x = a, *y = b;
	const char *sx = strchr(x->id, '/') + 1, *sy = strchr(y->id, '/') + 1;
	size_t lx = strlen(sx), ly = strlen(sy);
	int c;

	/* Longer stamps ("-2") come later in the same second. */
	if ((c = strncmp(sy, sx, 16)) != 0)
		return c;
	if (lx != ly)
		return lx < ly ? 1 : -1;
	if ((c = strcmp(sy, sx)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

int
backup_list_read(struct backup_list *l, char **cause)
{
	char *root = backup_root();
	DIR *d, *dd;
	struct dirent *de, *fe;
	size_t cap = 0;

	*cause = NULL;
	memset(l, 0, sizeof *l);
	d = opendir(root);
	if (d == NULL) {
		if (errno == ENOENT) {
			free(root);
			return RC_OK;
		}
		*cause = xfmt("cannot read the backup store %s: %s", root, strerror(errno));
		free(root);
		return RC_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		char *sub;

		if (de->d_name[0] == '.')
			continue;
		if (!is_device_dir(de->d_name)) {
			l->ignored++;
			continue;
		}
		sub = xfmt("%s/%s", root, de->d_name);
		dd = opendir(sub);
		if (dd == NULL) {
			l->ignored++;
			free(sub);
			continue;
		}
		while ((fe = readdir(dd)) != NULL) {
			const char *n = fe->d_name;
			size_t len = strlen(n);

			if (n[0] == '.')
				continue;
			if (ends_with(n, ".yaml") && is_stamp(n, len - 5)) {
				char stamp[32];

				snprintf(stamp, sizeof stamp, "%.*s", (int)(len - 5), n);
				add_entry(l, de->d_name, sub, stamp, &cap);
			} else if (ends_with(n, ".bin") && is_stamp(n, len - 4)) {
				/* Counted through its sidecar; an image alone is an orphan. */
				char *y = xfmt("%s/%.*s.yaml", sub, (int)(len - 4), n);

				if (!exists(y))
					l->ignored++;
				free(y);
			} else
				l->ignored++;
		}
		closedir(dd);
		free(sub);
	}
	closedir(d);
	free(root);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, newest_first);
	return RC_OK;
}

void
backup_list_free(struct backup_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].image);
		free(l->v[i].sidecar);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

const struct backup_entry *
backup_list_find(const struct backup_list *l, const char *id, char **cause)
{
	const struct backup_entry *hit = NULL;
	size_t n = strlen(id), nhits = 0;

	*cause = NULL;
	if (n == 0) {
		*cause = xstrdup("empty backup id; `espdesk backups` lists the ids");
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++) {
		const char *stamp = strchr(l->v[i].id, '/') + 1;

		if (strcmp(l->v[i].id, id) == 0 || strcmp(stamp, id) == 0)
			return &l->v[i];
		if (strncmp(l->v[i].id, id, n) == 0 || strncmp(stamp, id, n) == 0) {
			hit = &l->v[i];
			nhits++;
		}
	}
	if (nhits == 1)
		return hit;
	if (nhits == 0)
		*cause = xfmt("no backup '%s' in the store; `espdesk backups` lists the ids", id);
	else
		*cause = xfmt("'%s' matches %zu backups; give more of the id (see `espdesk backups`)",
		    id, nhits);
	return NULL;
}

const struct backup_entry *
backup_list_latest(const struct backup_list *l, uint32_t chip_id, const uint8_t mac[6])
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].meta.chip_id == chip_id && memcmp(l->v[i].meta.mac, mac, 6) == 0)
			return &l->v[i];
	return NULL;
}

int
backup_load(const struct backup_entry *e, uint8_t **data, size_t *len, char **cause)
{
	uint8_t sha[32];
	char *why = NULL;
	SHA2_CTX sc;
	int rc;

	*data = NULL;
	*cause = NULL;
	rc = afile_read(e->image, (size_t)e->meta.flash_size + 1, data, len, &why);
	if (rc != RC_OK) {
		*cause = xfmt("backup %s: %s", e->id, why);
		free(why);
		return rc == RC_ERR_ARG || rc == RC_ERR_FORMAT ? RC_ERR_VERIFY : rc;
	}
	if (*len != e->meta.flash_size) {
		*cause = xfmt("backup %s: %s has %zu bytes, its sidecar says %" PRIu32 "; the file "
		    "was truncated or replaced; use an exported copy", e->id, e->image, *len,
		    e->meta.flash_size);
		rc = RC_ERR_VERIFY;
		goto fail;
	}
	SHA256Init(&sc);
	SHA256Update(&sc, *data, *len);
	SHA256Final(sha, &sc);
	if (memcmp(sha, e->meta.sha256, 32) != 0) {
		char a[65], b[65];

		backup_hex(sha, 32, a);
		backup_hex(e->meta.sha256, 32, b);
		*cause = xfmt("backup %s: bit rot: %s now hashes to SHA-256 %s, the sidecar recorded "
		    "%s; do not restore it; use an exported copy or take a new backup", e->id,
		    e->image, a, b);
		rc = RC_ERR_VERIFY;
		goto fail;
	}
	return RC_OK;
fail:
	free(*data);
	*data = NULL;
	return rc;
}

int
backup_verify(const struct backup_entry *e, char **cause)
{
	uint8_t *data;
	size_t len;
	int rc = backup_load(e, &data, &len, cause);

	free(data);
	return rc;
}

int
backup_export(const struct backup_entry *e, const char *dir, char **cause)
{
	uint8_t *data = NULL, *text = NULL;
	size_t len, tlen;
	char *bin = NULL, *yml = NULL, *why = NULL, *flat = xstrdup(e->id), *slash;
	int rc;

	*cause = NULL;
	if ((slash = strchr(flat, '/')) != NULL)
		*slash = '-';
	if ((rc = backup_load(e, &data, &len, cause)) != RC_OK)
		goto out;
	if ((rc = afile_read(e->sidecar, SIDECAR_MAX, &text, &tlen, &why)) != RC_OK)
		goto why;
	bin = xfmt("%s/%s.bin", dir, flat);
	yml = xfmt("%s/%s.yaml", dir, flat);
	if ((rc = afile_write(bin, data, len, 0444, 0, &why)) != RC_OK)
		goto why;
	if ((rc = afile_write(yml, text, tlen, 0444, 0, &why)) != RC_OK)
		goto why;
	goto out;
why:
	*cause = xfmt("export of %s: %s", e->id, why);
out:
	free(why);
	free(data);
	free(text);
	free(bin);
	free(yml);
	free(flat);
	return rc;
}
