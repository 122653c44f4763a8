/*
 * test_backup.c: the backup store. A save killed at every step never shows up as a backup; a
 * save whose bytes do not match the device MD5 stores nothing; bit rot and truncation are found;
 * the sidecar reads a hand-written file (tests/data/backup/good.yaml) and refuses damaged ones;
 * export copies exactly and never overwrites; `espdesk backups` shows what the store holds.
 * Hashes are computed here with libmd, independently of the store.
 */
#include "config.h"

#include <dirent.h>
#include <md5.h>
#include <sha2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backup/backup.h"
#include "core/afile.h"
#include "tap.h"

#define DUMP (64 * 1024)

static char base[256];
static int store_n;
static uint8_t dump[DUMP];

/* A fresh, empty store for each case. */
static void
fresh_store(void)
{
	char path[512];

	snprintf(path, sizeof path, "%s/s%d", base, ++store_n);
	mkdir(path, 0700);
	setenv("ESPDESK_DATA_HOME", path, 1);
}

static void
fill_meta(struct backup_meta *m, const uint8_t *data, size_t len, uint32_t chip_id)
{
	static const uint8_t mac[6] = { 0xc8, 0x2b, 0x96, 0x12, 0x34, 0x56 };
	MD5_CTX c;

	memset(m, 0, sizeof *m);
	snprintf(m->chip, sizeof m->chip, "ESP8285N08");
	m->esp8285 = 1;
	memcpy(m->mac, mac, 6);
	m->chip_id = chip_id;
	m->jedec = 0x1440c8;
	m->flash_size = (uint32_t)len;
	snprintf(m->profile, sizeof m->profile, "sonoff-basic-r2");
	snprintf(m->port, sizeof m->port, "/dev/ttyUSB0");
	m->baud = 460800;
	MD5Init(&c);
	MD5Update(&c, data, len);
	MD5Final(m->md5, &c);
}

/* Saves dump in 16 pieces; returns the commit's rc. */
static int
save(const uint8_t *data, size_t len, const struct backup_meta *m, char **id, char **cause)
{
	struct backup_save *s;
	int rc = backup_begin(m, &s, cause);

	if (rc != RC_OK)
		return rc;
	for (size_t off = 0; off < len; off += len / 16) {
		rc = backup_append(s, data + off, len / 16, cause);
		if (rc != RC_OK) {
			backup_abort(s);
			return rc;
		}
	}
	return backup_commit(s, id, cause);
}

static void
test_save_list_load(void)
{
	struct backup_meta m;
	struct backup_list l;
	char *id = NULL, *cause = NULL;
	uint8_t *data = NULL, sha[32];
	size_t len = 0;
	struct stat st;
	SHA2_CTX sc;

	fresh_store();
	fill_meta(&m, dump, DUMP, 0x00123456);
	T_EQ_INT(save(dump, DUMP, &m, &id, &cause), RC_OK);
	T_TRUE(id != NULL && strncmp(id, "00123456-c82b96123456/", 22) == 0);
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	T_EQ_INT((int)l.n, 1);
	T_EQ_INT((int)l.ignored, 0);
	if (l.n == 1) {
		T_EQ_STR(l.v[0].id, id);
		T_EQ_INT(l.v[0].meta.verified, 1);
		T_EQ_INT((int)l.v[0].meta.flash_size, DUMP);
		T_EQ_HEX(l.v[0].meta.jedec, 0x1440c8u);
		T_EQ_STR(l.v[0].meta.profile, "sonoff-basic-r2");
		T_EQ_STR(l.v[0].meta.version, PACKAGE_VERSION);
		T_TRUE(l.v[0].meta.family[0] != '\0');
		T_EQ_MEM(l.v[0].meta.md5, m.md5, 16);
		SHA256Init(&sc);
		SHA256Update(&sc, dump, DUMP);
		SHA256Final(sha, &sc);
		T_EQ_MEM(l.v[0].meta.sha256, sha, 32);
		/* Read-only files, the image byte for byte. */
		T_EQ_INT(stat(l.v[0].image, &st), 0);
		T_EQ_INT((int)(st.st_mode & 0777), 0444);
		T_EQ_INT(stat(l.v[0].sidecar, &st), 0);
		T_EQ_INT((int)(st.st_mode & 0777), 0444);
		T_EQ_INT(backup_load(&l.v[0], &data, &len, &cause), RC_OK);
		T_EQ_INT((int)len, DUMP);
		if (data != NULL)
			T_EQ_MEM(data, dump, DUMP);
		T_EQ_INT(backup_verify(&l.v[0], &cause), RC_OK);
		T_TRUE(backup_list_latest(&l, 0x00123456, m.mac) == &l.v[0]);
		T_TRUE(backup_list_latest(&l, 0x00123457, m.mac) == NULL);
	}
	free(data);
	free(id);
	backup_list_free(&l);
}

/* A second save of the same device in the same second gets its own name; nothing is replaced. */
static void
test_two_saves_newest_first(void)
{
	struct backup_meta m;
	struct backup_list l;
	char *a = NULL, *b = NULL, *cause = NULL;

	fresh_store();
	fill_meta(&m, dump, DUMP, 0x00123456);
	T_EQ_INT(save(dump, DUMP, &m, &a, &cause), RC_OK);
	T_EQ_INT(save(dump, DUMP, &m, &b, &cause), RC_OK);
	T_TRUE(a != NULL && b != NULL && strcmp(a, b) != 0);
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	T_EQ_INT((int)l.n, 2);
	if (l.n == 2 && b != NULL)
		T_EQ_STR(l.v[0].id, b);
	backup_list_free(&l);
	free(a);
	free(b);
}

static int
store_is_empty_of_files(void)
{
	char *root = backup_root(), path[1024];
	DIR *d = opendir(root), *dd;
	struct dirent *de, *fe;
	int files = 0;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", root, de->d_name);
		if ((dd = opendir(path)) == NULL) {
			files++;
			continue;
		}
		while ((fe = readdir(dd)) != NULL)
			files += fe->d_name[0] != '.';
		closedir(dd);
	}
	if (d != NULL)
		closedir(d);
	free(root);
	return files == 0;
}

static void
test_refuse_unverified(void)
{
	struct backup_meta m;
	struct backup_list l;
	struct backup_save *s;
	char *id = NULL, *cause = NULL;

	fresh_store();
	/* One flipped bit between the device MD5 and the bytes received. */
	fill_meta(&m, dump, DUMP, 0x00123456);
	dump[4096] ^= 0x10;
	T_EQ_INT(save(dump, DUMP, &m, &id, &cause), RC_ERR_VERIFY);
	dump[4096] ^= 0x10;
	T_CONTAINS(cause, "differs from the device's");
	T_CONTAINS(cause, "nothing was stored");
	T_TRUE(id == NULL);
	free(cause);
	cause = NULL;
	/* A read that stopped half-way. */
	T_EQ_INT(backup_begin(&m, &s, &cause), RC_OK);
	T_EQ_INT(backup_append(s, dump, DUMP / 2, &cause), RC_OK);
	T_EQ_INT(backup_commit(s, &id, &cause), RC_ERR_VERIFY);
	T_CONTAINS(cause, "32768 bytes but the flash has 65536");
	free(cause);
	cause = NULL;
	/* More bytes than the flash holds. */
	T_EQ_INT(backup_begin(&m, &s, &cause), RC_OK);
	T_EQ_INT(backup_append(s, dump, DUMP, &cause), RC_OK);
	T_EQ_INT(backup_append(s, dump, 1, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "pass the end");
	free(cause);
	cause = NULL;
	backup_abort(s);
	/* An unidentified chip. */
	m.flash_size = 1000;
	T_EQ_INT(backup_begin(&m, &s, &cause), RC_ERR_ARG);
	T_CONTAINS(cause, "4 KB sectors");
	free(cause);
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	T_EQ_INT((int)l.n, 0);
	T_TRUE(store_is_empty_of_files());
	backup_list_free(&l);
}

static int kill_at, hook_calls;

static void
kill_hook(int step)
{
	(void)step;
	if (++hook_calls == kill_at)
		_exit(42);
}

/*
 * Kill the saving process at every step: 16 appends, the checks, the image written, the sidecar
 * written. Before the sidecar is in place nothing may be listed; after it, exactly one verified
 * backup whose image re-hashes correctly.
 */
static void
test_kill_at_every_step(void)
{
	const int steps = 16 + 3;
	int bad = 0;

	for (int k = 1; k <= steps + 1; k++) {
		struct backup_list l;
		char *cause = NULL;
		pid_t pid;
		int st = 0;

		fresh_store();
		pid = fork();
		if (pid == 0) {
			struct backup_meta m;
			char *id = NULL;

			kill_at = k;
			backup_set_step_hook(kill_hook);
			fill_meta(&m, dump, DUMP, 0x00abcdef);
			_exit(save(dump, DUMP, &m, &id, &cause) == RC_OK ? 0 : 1);
		}
		waitpid(pid, &st, 0);
		T_TRUE(WIFEXITED(st));
		T_EQ_INT(WEXITSTATUS(st), k <= steps ? 42 : 0);
		T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
		if ((int)l.n != (k >= steps ? 1 : 0)) {
			printf("# killed at step %d: %zu backups listed\n", k, l.n);
			bad++;
		}
		if (k == steps - 1)
			T_EQ_INT((int)l.ignored, 1); /* the image without its sidecar */
		for (size_t i = 0; i < l.n; i++) {
			T_EQ_INT(l.v[i].meta.verified, 1);
			T_EQ_INT(backup_verify(&l.v[i], &cause), RC_OK);
		}
		backup_list_free(&l);
	}
	T_EQ_INT(bad, 0);
}

/*
 * SIGKILL at arbitrary moments of many 1 MB saves (inside the atomic writes too). Nothing about
 * time is asserted: whatever the store lists afterwards must be complete and verify.
 */
static void
test_sigkill_anywhere(void)
{
	static uint8_t big[1 << 20];
	struct backup_list l;
	char *cause = NULL;
	int listed_bad = 0;

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 12));
	fresh_store();
	for (int round = 0; round < 12; round++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			struct backup_meta m;

			fill_meta(&m, big, sizeof big, 0x00000001);
			for (;;) {
				char *id = NULL, *c = NULL;

				save(big, sizeof big, &m, &id, &c);
				free(id);
				free(c);
			}
		}
		usleep((useconds_t)(2000 + round * 15000));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	for (size_t i = 0; i < l.n; i++)
		if (backup_verify(&l.v[i], &cause) != RC_OK) {
			printf("# %s listed but does not verify: %s\n", l.v[i].id, cause);
			free(cause);
			cause = NULL;
			listed_bad++;
		}
	printf("# %zu complete backups, %zu partial files ignored\n", l.n, l.ignored);
	T_EQ_INT(listed_bad, 0);
	backup_list_free(&l);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* What a crash inside afile_write or a damaged store leaves: never listed. */
static void
test_leftovers_ignored(void)
{
	struct backup_meta m;
	struct backup_list l;
	char *root, dir[1024], path[1200], *cause = NULL, *text = NULL;
	size_t tlen;

	fresh_store();
	root = backup_root();
	snprintf(dir, sizeof dir, "%s/00123456-c82b96123456", root);
	snprintf(path, sizeof path, "%s/espdesk", getenv("ESPDESK_DATA_HOME"));
	mkdir(path, 0700);
	mkdir(root, 0700);
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/20261130T080000Z.bin.tmp.4242", dir);
	write_file(path, "partial");
	snprintf(path, sizeof path, "%s/20261130T080000Z.yaml.tmp.4242", dir);
	write_file(path, "format: \"espdesk-backup 1\"\n");
	/* A complete-looking sidecar next to an image of the wrong size. */
	fill_meta(&m, dump, DUMP, 0x00123456);
	m.verified = 1;
	T_EQ_INT(backup_yaml_emit(&m, &text, &tlen, &cause), RC_OK);
	snprintf(path, sizeof path, "%s/20261130T080001Z.yaml", dir);
	write_file(path, text);
	snprintf(path, sizeof path, "%s/20261130T080001Z.bin", dir);
	write_file(path, "short");
	/* A sidecar that says the backup was not verified. */
	free(text);
	m.verified = 0;
	T_EQ_INT(backup_yaml_emit(&m, &text, &tlen, &cause), RC_OK);
	snprintf(path, sizeof path, "%s/20261130T080002Z.yaml", dir);
	write_file(path, text);
	snprintf(path, sizeof path, "%s/20261130T080002Z.bin", dir);
	{
		FILE *f = fopen(path, "w");

		if (f != NULL) {
			fwrite(dump, 1, DUMP, f);
			fclose(f);
		}
	}
	/* A sidecar filed under another device's directory. */
	free(text);
	m.verified = 1;
	m.chip_id = 0x00999999;
	T_EQ_INT(backup_yaml_emit(&m, &text, &tlen, &cause), RC_OK);
	snprintf(path, sizeof path, "%s/20261130T080003Z.yaml", dir);
	write_file(path, text);
	snprintf(path, sizeof path, "%s/20261130T080003Z.bin", dir);
	{
		FILE *f = fopen(path, "w");

		if (f != NULL) {
			fwrite(dump, 1, DUMP, f);
			fclose(f);
		}
	}
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	T_EQ_INT((int)l.n, 0);
	T_EQ_INT((int)l.ignored, 5);
	backup_list_free(&l);
	free(text);
	free(root);
}

static void
test_bit_rot_and_truncation(void)
{
	struct backup_meta m;
	struct backup_list l;
	char *id = NULL, *cause = NULL;
	FILE *f;

	fresh_store();
	fill_meta(&m, dump, DUMP, 0x00123456);
	T_EQ_INT(save(dump, DUMP, &m, &id, &cause), RC_OK);
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	T_EQ_INT((int)l.n, 1);
	if (l.n == 1) {
		/* One bit flips on disk. */
		chmod(l.v[0].image, 0644);
		f = fopen(l.v[0].image, "r+b");
		T_TRUE(f != NULL);
		if (f != NULL) {
			fseek(f, 12345, SEEK_SET);
			fputc(dump[12345] ^ 0x01, f);
			fclose(f);
		}
		T_EQ_INT(backup_verify(&l.v[0], &cause), RC_ERR_VERIFY);
		T_CONTAINS(cause, "bit rot");
		T_CONTAINS(cause, l.v[0].image);
		free(cause);
		cause = NULL;
		T_EQ_INT(truncate(l.v[0].image, DUMP - 4096), 0);
		T_EQ_INT(backup_verify(&l.v[0], &cause), RC_ERR_VERIFY);
		T_CONTAINS(cause, "61440 bytes, its sidecar says 65536");
		free(cause);
	}
	backup_list_free(&l);
	free(id);
}

static void
test_find(void)
{
	struct backup_meta m;
	struct backup_list l;
	char *a = NULL, *b = NULL, *cause = NULL;
	const struct backup_entry *e;

	fresh_store();
	fill_meta(&m, dump, DUMP, 0x00123456);
	T_EQ_INT(save(dump, DUMP, &m, &a, &cause), RC_OK);
	fill_meta(&m, dump, DUMP, 0x00654321);
	T_EQ_INT(save(dump, DUMP, &m, &b, &cause), RC_OK);
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	e = backup_list_find(&l, a, &cause);
	T_TRUE(e != NULL && strcmp(e->id, a) == 0);
	e = backup_list_find(&l, "0065", &cause);
	T_TRUE(e != NULL && strcmp(e->id, b) == 0);
	e = backup_list_find(&l, "2", &cause); /* both stamps start with the year */
	T_TRUE(e == NULL);
	T_CONTAINS(cause, "matches 2 backups");
	free(cause);
	e = backup_list_find(&l, "ffff", &cause);
	T_TRUE(e == NULL);
	T_CONTAINS(cause, "no backup 'ffff'");
	free(cause);
	backup_list_free(&l);
	free(a);
	free(b);
}

static void
test_export(void)
{
	struct backup_meta m;
	struct backup_list l;
	char *id = NULL, *cause = NULL, dir[512], path[1024], *flat;
	uint8_t *data = NULL;
	size_t len = 0;
	struct stat st;

	fresh_store();
	fill_meta(&m, dump, DUMP, 0x00123456);
	T_EQ_INT(save(dump, DUMP, &m, &id, &cause), RC_OK);
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	snprintf(dir, sizeof dir, "%s/export%d", base, store_n);
	mkdir(dir, 0700);
	if (l.n == 1 && id != NULL) {
		T_EQ_INT(backup_export(&l.v[0], dir, &cause), RC_OK);
		flat = strdup(id);
		*strchr(flat, '/') = '-';
		snprintf(path, sizeof path, "%s/%s.bin", dir, flat);
		T_EQ_INT(afile_read(path, DUMP + 1, &data, &len, &cause), RC_OK);
		T_EQ_INT((int)len, DUMP);
		if (data != NULL)
			T_EQ_MEM(data, dump, DUMP);
		T_EQ_INT(stat(path, &st), 0);
		T_EQ_INT((int)(st.st_mode & 0777), 0444);
		snprintf(path, sizeof path, "%s/%s.yaml", dir, flat);
		T_EQ_INT(stat(path, &st), 0);
		/* A second export refuses to overwrite the first. */
		T_EQ_INT(backup_export(&l.v[0], dir, &cause), RC_ERR_BUSY);
		T_CONTAINS(cause, "already exists");
		free(cause);
		free(flat);
	}
	free(data);
	free(id);
	backup_list_free(&l);
}

static void
test_sidecar_hand_written(void)
{
	struct backup_meta m;
	uint8_t *text = NULL;
	size_t len;
	char *cause = NULL;
	static const uint8_t mac[6] = { 0xc8, 0x2b, 0x96, 0x12, 0x34, 0x56 };
	static const uint8_t md5[16] = { 0xb6, 0xd8, 0x1b, 0x36, 0x0a, 0x56, 0x72, 0xd8, 0x0c, 0x27,
		0x43, 0x0f, 0x39, 0x15, 0x3e, 0x2c };

	T_EQ_INT(afile_read(t_data("backup/good.yaml"), 65536, &text, &len, &cause), RC_OK);
	T_EQ_INT(backup_yaml_parse("good.yaml", text, len, &m, &cause), RC_OK);
	T_EQ_STR(m.chip, "ESP8285N08");
	T_EQ_INT(m.esp8285, 1);
	T_EQ_MEM(m.mac, mac, 6);
	T_EQ_HEX(m.chip_id, 0x00123456u);
	T_EQ_HEX(m.jedec, 0x1440c8u);
	T_EQ_INT((int)m.flash_size, 1048576);
	T_EQ_STR(m.profile, "sonoff-basic-r2");
	T_EQ_MEM(m.md5, md5, 16);
	T_EQ_INT(m.sha256[0], 0x9e);
	T_EQ_INT(m.sha256[31], 0x91);
	T_EQ_STR(m.date, "2026-11-30T08:00:00Z");
	T_EQ_STR(m.port, "/dev/ttyUSB0");
	T_EQ_INT(m.baud, 460800);
	T_EQ_STR(m.family, "stock");
	T_EQ_INT(m.verified, 1);
	free(text);
}

static void
bad_sidecar(const char *text, const char *expect)
{
	struct backup_meta m;
	char *cause = NULL;

	T_EQ_INT(backup_yaml_parse("s.yaml", (const uint8_t *)text, strlen(text), &m, &cause),
	    RC_ERR_FORMAT);
	T_CONTAINS(cause, expect);
	free(cause);
}

#define HEAD "format: \"espdesk-backup 1\"\nchip: ESP8266EX\nmac: \"18:fe:34:a1:b2:c3\"\n" \
	"chip_id: 0x00a1b2c3\nflash_size: 1048576\n" \
	"device_md5: 00112233445566778899aabbccddeeff\n"
#define SHA "sha256: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"

static void
test_sidecar_damaged(void)
{
	bad_sidecar(HEAD SHA, "s.yaml: 'verified' is missing");
	bad_sidecar(HEAD SHA "verified: yes\n", "s.yaml:8: bad value for 'verified'");
	bad_sidecar(HEAD SHA "verified: true\nchip: again\n", "s.yaml:9: 'chip' given twice");
	bad_sidecar(HEAD "sha256: 0011\nverified: true\n", "s.yaml:7: bad value for 'sha256'");
	bad_sidecar("format: \"espdesk-backup 2\"\n", "s.yaml:1: bad value for 'format'");
	bad_sidecar(HEAD SHA "verified: true\nport: [a]\n", "s.yaml:9: unexpected list");
	bad_sidecar(HEAD SHA "verified: true\nmac: \"18-fe-34-a1-b2-c3\"\n",
	    "s.yaml:9: bad value for 'mac'");
	bad_sidecar(HEAD SHA "verified: true\nflash_size: 0\n", "bad value for 'flash_size'");
	bad_sidecar("chip: \"unterminated\n", "s.yaml:");
	bad_sidecar("- a\n- b\n", "s.yaml:1: unexpected list");
	bad_sidecar("", "is missing");
}

/* What we emit reads back to the same fields, including text that needs quoting. */
static void
test_sidecar_round_trip(void)
{
	struct backup_meta m, r;
	char *text = NULL, *cause = NULL;
	size_t len;

	fill_meta(&m, dump, DUMP, 0x00123456);
	snprintf(m.port, sizeof m.port, "rfc2217://host:4000/\"x\": y\n# z");
	snprintf(m.family, sizeof m.family, "tasmota");
	memset(m.sha256, 0xa5, 32);
	snprintf(m.date, sizeof m.date, "2026-11-30T08:00:00Z");
	m.verified = 1;
	T_EQ_INT(backup_yaml_emit(&m, &text, &len, &cause), RC_OK);
	T_EQ_INT(backup_yaml_parse("rt.yaml", (uint8_t *)text, len, &r, &cause), RC_OK);
	T_EQ_STR(r.port, m.port);
	T_EQ_MEM(r.sha256, m.sha256, 32);
	T_EQ_MEM(r.md5, m.md5, 16);
	T_EQ_MEM(r.mac, m.mac, 6);
	T_EQ_INT(r.chip_id, m.chip_id);
	T_EQ_STR(r.family, "tasmota");
	free(text);
}

static char out[1 << 16];

static int
run(const char *args)
{
	char cmd[4096];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof cmd, "'%s/espdesk' %s 2>&1", ESPDESK_BUILDDIR, args);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_cli(void)
{
	struct backup_meta m;
	struct backup_list l;
	char *id = NULL, *cause = NULL, args[1024];

	fresh_store();
	T_EQ_INT(run("backups"), 0);
	T_CONTAINS(out, "no backups in");
	fill_meta(&m, dump, DUMP, 0x00123456);
	T_EQ_INT(save(dump, DUMP, &m, &id, &cause), RC_OK);
	T_EQ_INT(run("backups list"), 0);
	T_CONTAINS(out, "00123456-c82b96123456/");
	T_CONTAINS(out, "c8:2b:96:12:34:56");
	T_CONTAINS(out, "64KB");
	T_CONTAINS(out, "verified");
	snprintf(args, sizeof args, "backups show %s", id ? id : "x");
	T_EQ_INT(run(args), 0);
	T_CONTAINS(out, "chip id:     0x00123456");
	T_CONTAINS(out, "jedec id:    0x1440c8");
	T_CONTAINS(out, "profile:     sonoff-basic-r2");
	T_EQ_INT(run("backups verify"), 0);
	T_CONTAINS(out, "1 backup checked, 0 damaged");
	T_EQ_INT(run("backups show nosuch"), 1);
	T_CONTAINS(out, "no backup 'nosuch'");
	T_EQ_INT(run("backups show"), 2);
	T_EQ_INT(backup_list_read(&l, &cause), RC_OK);
	if (l.n == 1) {
		FILE *f;

		chmod(l.v[0].image, 0644);
		if ((f = fopen(l.v[0].image, "r+b")) != NULL) {
			fputc(dump[0] ^ 0x80, f);
			fclose(f);
		}
	}
	backup_list_free(&l);
	T_EQ_INT(run("backups verify"), 1);
	T_CONTAINS(out, "FAILED");
	T_CONTAINS(out, "bit rot");
	T_CONTAINS(out, "1 backup checked, 1 damaged");
	free(id);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, sizeof base, "%s/test_backup.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < DUMP; i++)
		dump[i] = (uint8_t)((i * 131) ^ (i >> 8));
	T_RUN(test_save_list_load);
	T_RUN(test_two_saves_newest_first);
	T_RUN(test_refuse_unverified);
	T_RUN(test_kill_at_every_step);
	T_RUN(test_sigkill_anywhere);
	T_RUN(test_leftovers_ignored);
	T_RUN(test_bit_rot_and_truncation);
	T_RUN(test_find);
	T_RUN(test_export);
	T_RUN(test_sidecar_hand_written);
	T_RUN(test_sidecar_damaged);
	T_RUN(test_sidecar_round_trip);
	T_RUN(test_cli);
	{
		char cmd[1024];

		snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' && rm -rf '%s'", base, base);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", base);
	}
	return t_done();
}
