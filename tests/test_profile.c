/*
 * test_profile.c: the profile loader, the shipped profiles, precedence and matching.
 *
 * Positions in the expected messages were counted by hand in the files under
 * tests/data/profiles/ (line and column of the offending key or value, 1-based). JEDEC ids and
 * sizes come from devices.md §5 and protocol.md §9.4.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/jedec.h"
#include "profile/profile.h"
#include "tap.h"

static char **errs;
static size_t nerrs;

static void
clear_errs(void)
{
	for (size_t i = 0; i < nerrs; i++)
		free(errs[i]);
	free(errs);
	errs = NULL;
	nerrs = 0;
}

/* Parses tests/data/profiles/REL; returns the profile or NULL (errors in errs). */
static struct profile *
parse(const char *rel)
{
	struct profile *p = NULL;
	char path[4096];

	clear_errs();
	snprintf(path, sizeof path, "%s", t_data(rel));
	profile_parse_file(path, &p, &errs, &nerrs);
	return p;
}

/* True if some error is exactly "<data dir>/REL:" followed by tail. */
static int
has_err(const char *rel, const char *tail)
{
	char want[16384];

	snprintf(want, sizeof want, "%s:%s", t_data(rel), tail);
	for (size_t i = 0; i < nerrs; i++)
		if (strcmp(errs[i], want) == 0)
			return 1;
	printf("# no error \"%s\"; got %zu:\n", want, nerrs);
	for (size_t i = 0; i < nerrs; i++)
		printf("#   %s\n", errs[i]);
	return 0;
}

/* True if some error starts with "<data dir>/REL:" + pos and contains needle. */
static int
has_err_like(const char *rel, const char *pos, const char *needle)
{
	char want[16384];

	snprintf(want, sizeof want, "%s:%s", t_data(rel), pos);
	for (size_t i = 0; i < nerrs; i++)
		if (strncmp(errs[i], want, strlen(want)) == 0 && strstr(errs[i], needle) != NULL)
			return 1;
	printf("# no error at \"%s\" containing \"%s\"; got %zu:\n", want, needle, nerrs);
	for (size_t i = 0; i < nerrs; i++)
		printf("#   %s\n", errs[i]);
	return 0;
}

static void
test_good_full(void)
{
	struct profile *p = parse("profiles/good/full.yaml");

	T_TRUE(p != NULL);
	T_EQ_INT(nerrs, 0);
	if (p == NULL)
		return;
	T_EQ_STR(p->name, "test-full");
	T_EQ_STR(p->title, "Test board 4CH");
	T_EQ_INT(p->naliases, 2);
	T_EQ_STR(p->aliases[1], "Test Board");
	T_EQ_INT(p->chip, PROFILE_CHIP_EITHER);
	T_EQ_INT(p->nclaims, 2);
	T_EQ_INT(p->claims[1].chip, PROFILE_CHIP_ESP8285);
	T_EQ_INT(p->claims[1].inferred, 1);
	T_EQ_STR(p->claims[1].note, "one unit");
	T_EQ_INT(p->nsizes, 2);
	T_EQ_HEX(p->sizes[0], 0x100000);
	T_EQ_HEX(p->sizes[1], 0x400000);
	T_EQ_HEX(p->firmware_size, 0x100000);
	T_EQ_INT(p->mode, PROFILE_MODE_DOUT);
	T_EQ_INT(p->freq_mhz, 26);
	T_EQ_INT(p->njedec, 2);
	T_EQ_HEX(p->jedec[0].id, 0xEF4016);
	T_EQ_STR(p->jedec[0].part, "W25Q32");
	T_EQ_INT(p->jedec[1].inferred, 1);
	T_EQ_INT(p->nheader_pins, 4);
	T_EQ_STR(p->header_pins[3], "GND");
	T_EQ_INT(p->mains_live, 1);
	T_EQ_INT(p->nwarnings, 1);
	T_EQ_HEX(p->map_size, 0x100000);
	T_EQ_INT(p->nregions, 2);
	T_EQ_HEX(p->regions[0].size, 0x1000);
	T_EQ_HEX(p->regions[1].offset, 0x1000);
	T_EQ_HEX(p->regions[1].size, 0x6A000);
	T_EQ_INT(p->ngpios, 2);
	T_EQ_INT(p->gpios[1].pin, 12);
	T_EQ_STR(p->gpios[1].use, "relay");
	T_EQ_INT(p->nnotes, 2);
	T_EQ_INT(p->nsources, 1);
	/* name is on line 2 col 1 key, value at col 7; aliases "[tb, " -> "Test Board" at col 15 */
	T_EQ_INT(p->name_line, 2);
	T_EQ_INT(p->name_col, 7);
	T_EQ_INT(p->alias_line[1], 4);
	T_EQ_INT(p->alias_col[1], 15);
	profile_free(p);
}

static void
test_good_small(void)
{
	struct profile *p = parse("profiles/good/min.yaml");

	T_TRUE(p != NULL);
	T_EQ_INT(nerrs, 0);
	if (p != NULL) {
		T_EQ_INT(p->freq_mhz, 40);  /* default */
		T_EQ_INT(p->kind, PROFILE_KIND_DEVICE);
		T_EQ_INT(p->nsizes, 0);
	}
	profile_free(p);
	p = parse("profiles/good/other.yaml");
	T_TRUE(p != NULL);
	if (p != NULL) {
		T_EQ_INT(p->chip, PROFILE_CHIP_NOT_ESP8266);
		T_EQ_STR(p->real_chip, "ESP32-C3");
	}
	profile_free(p);
}

static void
test_bad_unknown_key(void)
{
	T_TRUE(parse("profiles/bad/unknown-key.yaml") == NULL);
	T_TRUE(has_err("profiles/bad/unknown-key.yaml", "5:1: unknown key 'flash_sise' (did you mean 'flash_size'?)"));
	T_EQ_INT(nerrs, 1);
	T_TRUE(parse("profiles/bad/nested-unknown.yaml") == NULL);
	T_TRUE(has_err("profiles/bad/nested-unknown.yaml", "7:5: unknown key 'sorce' (did you mean 'source'?)"));
	T_TRUE(has_err_like("profiles/bad/nested-unknown.yaml", "6:5: ", "missing required key 'source'"));
	T_EQ_INT(nerrs, 2);
}

static void
test_bad_types(void)
{
	T_TRUE(parse("profiles/bad/wrong-type.yaml") == NULL);
	T_TRUE(has_err("profiles/bad/wrong-type.yaml", "2:8: 'title' must be a single string, got a list"));
	T_TRUE(has_err("profiles/bad/wrong-type.yaml", "4:10: 'aliases' must be a list of strings, e.g. [a, b] or one '- item' per line; got a single value"));
	T_TRUE(has_err("profiles/bad/wrong-type.yaml", "9:20: 'mains_live_ground' must be true or false, got 'maybe'"));
	T_EQ_INT(nerrs, 3);
}

static void
test_bad_sizes(void)
{
	T_TRUE(parse("profiles/bad/not-pow2.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/not-pow2.yaml", "5:19: ", "'flash_size' is 3MB, which is not a power of two"));
	T_TRUE(has_err_like("profiles/bad/not-pow2.yaml", "6:16: ", "'firmware_size' is 1000KB, which is not a power of two"));
	T_EQ_INT(nerrs, 2);
	T_TRUE(parse("profiles/bad/size-story.yaml") == NULL);
	T_TRUE(has_err("profiles/bad/size-story.yaml", "6:16: firmware_size 4MB is larger than the biggest flash_size seen (0x100000 bytes); fix one of them"));
	T_TRUE(has_err_like("profiles/bad/size-story.yaml", "11:9: ", "flash_map size 2MB differs from firmware_size 0x400000"));
	T_EQ_INT(nerrs, 2);
}

static void
test_bad_missing(void)
{
	T_TRUE(parse("profiles/bad/missing.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/missing.yaml", "1:1: ", "missing required key 'download_mode'"));
	T_TRUE(has_err("profiles/bad/missing.yaml", "1:1: missing required key 'sources' (where the facts come from)"));
	T_EQ_INT(nerrs, 2);
	T_TRUE(parse("profiles/bad/other.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/other.yaml", "1:1: ", "missing required key 'real_chip'"));
	T_TRUE(has_err_like("profiles/bad/other.yaml", "5:10: ", "'sources' is empty"));
	T_EQ_INT(nerrs, 2);
}

static void
test_bad_enums(void)
{
	T_TRUE(parse("profiles/bad/enum.yaml") == NULL);
	T_TRUE(has_err("profiles/bad/enum.yaml", "4:7: 'chip' is 'esp32'; allowed values: esp8266, esp8285, esp8266-or-esp8285, not-esp8266"));
	T_TRUE(has_err("profiles/bad/enum.yaml", "5:13: 'flash_mode' is 'fast'; allowed values: qio, qout, dio, dout"));
	T_TRUE(has_err("profiles/bad/enum.yaml", "7:13: 'flash_freq' is '60m'; allowed values: 80m, 40m, 26m, 20m"));
	T_EQ_INT(nerrs, 3);
}

static void
test_bad_yaml(void)
{
	/* libyaml's own words, at the mark it gives, which is where we counted. */
	T_TRUE(parse("profiles/bad/tab.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/tab.yaml", "3:1: ", "malformed YAML: found a tab character"));
	T_EQ_INT(nerrs, 1);
	T_TRUE(parse("profiles/bad/colon.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/colon.yaml", "2:14: ", "malformed YAML: mapping values are not allowed in this context"));
	T_EQ_INT(nerrs, 1);
	T_TRUE(parse("profiles/bad/alias.yaml") == NULL);
	T_TRUE(has_err("profiles/bad/alias.yaml", "3:9: YAML alias '*t' is not supported in profiles; write the value out in full"));
	T_TRUE(parse("profiles/bad/two-docs.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/two-docs.yaml", "2:1: ", "a second YAML document"));
	T_TRUE(parse("profiles/bad/empty.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/empty.yaml", "1:1: ", "the file is empty"));
	T_TRUE(parse("profiles/bad/dupkey.yaml") == NULL);
	T_TRUE(has_err("profiles/bad/dupkey.yaml", "4:1: duplicate key 'title' (first given at line 2); keep one"));
	T_EQ_INT(nerrs, 1);
}

static void
test_bad_values(void)
{
	T_TRUE(parse("profiles/bad/jedec.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/jedec.yaml", "8:10: ", "flash id 0x1234567 has more than 3 bytes"));
	T_TRUE(has_err_like("profiles/bad/jedec.yaml", "9:10: ", "flash id 0xFFFFFF is what a flash that did not answer reads as"));
	T_TRUE(has_err("profiles/bad/jedec.yaml", "10:10: 'id' must be a number such as 4096 or 0x1000, got 'EF4016'"));
	T_EQ_INT(nerrs, 3);
	T_TRUE(parse("profiles/bad/map.yaml") == NULL);
	T_TRUE(has_err("profiles/bad/map.yaml", "11:29: region 0xFF000+8KB ends past the map's size 0x100000"));
	T_TRUE(has_err("profiles/bad/map.yaml", "13:3: GPIO '17' is not a pin number; the ESP8266 has GPIO 0 to 16"));
	T_TRUE(has_err_like("profiles/bad/map.yaml", "15:3: ", "GPIO 0 is listed twice"));
	T_EQ_INT(nerrs, 3);
	T_TRUE(parse("profiles/bad/name.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/name.yaml", "1:7: ", "name 'Pow R2' must be lower-case letters"));
	T_TRUE(parse("profiles/bad/mains.yaml") == NULL);
	T_TRUE(has_err_like("profiles/bad/mains.yaml", "8:16: ", "'download_hint' is 51 characters"));
	T_TRUE(has_err_like("profiles/bad/mains.yaml", "9:20: ", "mains_live_ground is true but there are no 'warnings'"));
	T_TRUE(has_err("profiles/bad/mains.yaml", "10:12: 'real_chip' is only for chip: not-esp8266; remove it"));
	T_EQ_INT(nerrs, 3);
}

static void
test_bad_shapes(void)
{
	const char *f = "profiles/bad/shapes.yaml";

	T_TRUE(parse(f) == NULL);
	T_TRUE(has_err(f, "3:9: 'vendor' is empty; give it a value or remove the key"));
	T_TRUE(has_err(f, "4:14: alias 'A' is listed twice"));
	T_TRUE(has_err(f, "4:17: alias 'test-bad' is the profile's own name"));
	T_TRUE(has_err(f, "6:9: 'locked' is only for chip: not-esp8266; remove it"));
	T_TRUE(has_err(f, "7:14: 'chip_claims' must be a list of {chip, source} mappings, got a single value"));
	T_TRUE(has_err(f, "8:14: 'flash_size' is 128KB; expected a flash size from 256KB to 256MB"));
	T_TRUE(has_err(f, "9:16: 'firmware_size' must be a number, got a list"));
	T_TRUE(has_err(f, "10:13: 'flash_mode' must be one of qio, qout, dio, dout, got a list"));
	T_TRUE(has_err(f, "12:13: each flash id must be a mapping with 'id' and 'source', got a single value"));
	T_TRUE(has_err(f, "14:12: 'flash_map' must be a mapping with size, layout and regions, got a list"));
	T_TRUE(has_err(f, "15:7: 'gpio' must be a mapping of pin numbers to uses (e.g. 12: relay), got a list"));
	T_TRUE(has_err_like(f, "16:1: ", "unknown key 'colour' in a profile (known keys: name, title, aliases,"));
	T_TRUE(has_err(f, "17:3: a key must be a plain word, not a list"));
	T_EQ_INT(nerrs, 13);
	f = "profiles/bad/regions.yaml";
	T_TRUE(parse(f) == NULL);
	T_TRUE(has_err(f, "6:15: each chip claim must be a mapping with 'chip' and 'source', got a single value"));
	T_TRUE(has_err(f, "7:12: 'flash_ids' must be a list of {id, source} mappings, got a single value"));
	T_TRUE(has_err(f, "11:7: each region must be a mapping with name, offset and size, got a single value"));
	T_TRUE(has_err(f, "12:43: region size is 0"));
	T_EQ_INT(nerrs, 4);
	f = "profiles/bad/root-list.yaml";
	T_TRUE(parse(f) == NULL);
	T_TRUE(has_err(f, "1:1: a profile must be a mapping of keys (name:, title:, ...), got a list"));
	T_EQ_INT(nerrs, 1);
}

static void
test_parse_buffer_limits(void)
{
	static const char deep[] = "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n";
	struct profile *p = NULL;

	clear_errs();
	T_EQ_INT(profile_parse("deep.yaml", deep, sizeof deep - 1, &p, &errs, &nerrs), RC_ERR_FORMAT);
	T_TRUE(p == NULL);
	T_TRUE(nerrs == 1 && strstr(errs[0], "deep.yaml:1:") == errs[0] && strstr(errs[0], "nested more than") != NULL);
	clear_errs();
	T_EQ_INT(profile_parse("nul.yaml", "name: \"a\\0b\"\n", 13, &p, &errs, &nerrs), RC_ERR_FORMAT);
	T_TRUE(nerrs >= 1 && strstr(errs[0], "NUL byte") != NULL);
	clear_errs();
	{
		size_t big = (1u << 20) + 1;
		char *buf = malloc(big);

		memset(buf, ' ', big);
		T_EQ_INT(profile_parse("big.yaml", buf, big, &p, &errs, &nerrs), RC_ERR_FORMAT);
		T_TRUE(nerrs == 1 && strstr(errs[0], "big.yaml:1:1: the file is 1048577 bytes") == errs[0]);
		free(buf);
		clear_errs();
	}
	{
		/* 20001 values in one list; and 25 unknown keys, of which 20 are reported. */
		size_t cap = 64 + 2 * 20001, off = 0;
		char *buf = malloc(cap);

		off += (size_t)snprintf(buf, cap, "a: [");
		for (int i = 0; i < 20001; i++)
			buf[off++] = i ? ',' : '1', buf[off++] = '1';
		buf[off++] = ']';
		T_EQ_INT(profile_parse("many.yaml", buf, off, &p, &errs, &nerrs), RC_ERR_FORMAT);
		T_TRUE(nerrs == 1 && strstr(errs[0], "too many values (more than 20000)") != NULL);
		clear_errs();
		off = 0;
		for (int i = 0; i < 25; i++)
			off += (size_t)snprintf(buf + off, cap - off, "zzzzzzzz%02d: 1\n", i);
		T_EQ_INT(profile_parse("keys.yaml", buf, off, &p, &errs, &nerrs), RC_ERR_FORMAT);
		T_EQ_INT(nerrs, 20);
		T_TRUE(nerrs == 20 && strstr(errs[19], "keys.yaml:20:1: unknown key 'zzzzzzzz19'") == errs[19] &&
		    strstr(errs[19], "(stopping after 20 errors)") != NULL);
		free(buf);
		clear_errs();
	}
}

static void
test_set_dup_and_clash(void)
{
	char dir[4096];
	char *entries[1];
	struct profile_set *s;
	char want[16384];

	snprintf(dir, sizeof dir, "%s", t_data("profiles/dup"));
	entries[0] = dir;
	s = profile_set_load(entries, 1);
	T_EQ_INT(s->n, 1);
	T_EQ_INT(s->nerrors, 2);
	if (s->nerrors == 2) {
		/* b.yaml: name value at 1:7; c.yaml: the alias list starts "aliases: [" -> col 11 */
		snprintf(want, sizeof want, "%s/b.yaml:1:7: duplicate profile name 'dup-one': %s/a.yaml:1 "
		    "already defines it in the same directory; rename one of them; this file was skipped", dir, dir);
		T_EQ_STR(s->errors[0], want);
		snprintf(want, sizeof want, "%s/c.yaml:2:11: alias 'dup-alias' is already an alias of profile "
		    "'dup-one' (%s/a.yaml:1); choose another alias, or call this profile 'dup-one' to replace "
		    "that one; this file was skipped", dir, dir);
		T_EQ_STR(s->errors[1], want);
	}
	T_TRUE(profile_set_find(s, "DUP-ALIAS") != NULL);
	T_EQ_STR(profile_set_find(s, "dup-one")->title, "A");
	profile_set_free(s);
}

static void
test_set_override(void)
{
	char high[4096], low[4096], want[16384];
	char *entries[2] = { high, low };
	struct profile_set *s;
	const struct profile *p;

	snprintf(high, sizeof high, "%s", t_data("profiles/override/high"));
	snprintf(low, sizeof low, "%s", t_data("profiles/override/low"));
	s = profile_set_load(entries, 2);
	/* high wins for 'ovr'; high/clash.yaml reuses low-only's alias 'lo' and is skipped. */
	T_EQ_INT(s->n, 2);
	p = profile_set_find(s, "ovr");
	T_TRUE(p != NULL);
	if (p != NULL) {
		T_EQ_STR(p->title, "High");
		snprintf(want, sizeof want, "%s/ovr.yaml", high);
		T_EQ_STR(p->path, want);
		snprintf(want, sizeof want, "%s/ovr.yaml", low);
		T_EQ_STR(p->overrides, want);
		T_EQ_INT(p->origin, 0);
	}
	/* The replaced profile's alias is gone with it; the winner's alias works. */
	T_TRUE(profile_set_find(s, "low-alias") == NULL);
	T_TRUE(profile_set_find(s, "high-alias") == p);
	T_TRUE(profile_set_find(s, "lo") != NULL && strcmp(profile_set_find(s, "lo")->name, "low-only") == 0);
	T_EQ_INT(s->nerrors, 1);
	if (s->nerrors == 1)
		T_TRUE(strncmp(s->errors[0], high, strlen(high)) == 0 &&
		    strstr(s->errors[0], "/clash.yaml:2:11: alias 'lo' is already an alias of profile 'low-only'") != NULL);
	profile_set_free(s);

	/* The other way round, low wins. */
	entries[0] = low;
	entries[1] = high;
	s = profile_set_load(entries, 2);
	p = profile_set_find(s, "ovr");
	T_TRUE(p != NULL && strcmp(p->title, "Low") == 0);
	profile_set_free(s);
}

static void
test_search_path(void)
{
	char **v;

	setenv("ESPDESK_PROFILE_PATH", "/a:/b", 1);
	v = profile_search_path(0);
	T_EQ_STR(v[0], "/a");
	T_EQ_STR(v[1], "/b");
	T_TRUE(v[2] == NULL);
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
	setenv("ESPDESK_PROFILE_PATH", t_data("profiles/good"), 1);
	{
		struct profile_set *s = profile_set_load_default();

		T_EQ_INT(s->n, 3);
		T_EQ_INT(s->nerrors, 0);
		T_EQ_STR(s->v[0]->name, "test-full");  /* sorted by name */
		profile_set_free(s);
	}
	unsetenv("ESPDESK_PROFILE_PATH");
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	v = profile_search_path(0);
	T_EQ_STR(v[0], "/xdg/espdesk/profiles");
	T_EQ_STR(v[1], ESPDESK_DATADIR "/profiles");
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/u", 1);
	v = profile_search_path(1);
	T_EQ_STR(v[0], "/home/u/.config/espdesk/profiles");
	T_EQ_STR(v[1], ESPDESK_SRCDIR "/profiles");
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* ---- the shipped profiles ---- */

static struct profile_set *shipped;

static void
test_shipped_all_load(void)
{
	char dir[4096];
	char *entries[1] = { dir };
	DIR *d;
	struct dirent *de;
	size_t files = 0;

	snprintf(dir, sizeof dir, "%s/profiles", ESPDESK_SRCDIR);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);

			files += l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0;
		}
		closedir(d);
	}
	shipped = profile_set_load(entries, 1);
	for (size_t i = 0; i < shipped->nerrors; i++)
		printf("# %s\n", shipped->errors[i]);
	T_EQ_INT(shipped->nerrors, 0);
	T_EQ_INT(shipped->n, files);
	/* devices.md: 42 ESP8266/ESP8285 rows (a few revision pairs share a file), 10 other chips. */
	T_TRUE(shipped->n >= 50);
}

static void
test_shipped_facts(void)
{
	const struct profile *p;
	size_t other = 0, mains = 0;

	/* Every Sonoff ESP8266/ESP8285 profile writes DOUT (devices.md §3, §6 fact 1). */
	for (size_t i = 0; i < shipped->n; i++) {
		p = shipped->v[i];
		if (p->kind == PROFILE_KIND_DEVICE && p->chip != PROFILE_CHIP_NOT_ESP8266) {
			T_CHECK_(p->mode == PROFILE_MODE_DOUT, "%s writes %s", p->name, profile_mode_str(p->mode));
			T_CHECK_(p->download_mode != NULL && p->download_hint != NULL, "%s lacks download mode", p->name);
		}
		if (p->chip == PROFILE_CHIP_NOT_ESP8266)
			other++;
		mains += p->mains_live;
		T_CHECK_(p->nsources > 0, "%s has no sources", p->name);
	}
	T_EQ_INT(other, 10);  /* devices.md §2 without the unconfirmed BL602 bulbs and Zigbee end devices */
	T_EQ_INT(mains, 3);   /* Pow, Pow R2, S31 (devices.md rows 8, 9, 24) */
	p = profile_set_find(shipped, "Pow R2");
	T_TRUE(p != NULL);
	if (p != NULL) {
		T_EQ_STR(p->name, "pow-r2");
		T_EQ_INT(p->chip, PROFILE_CHIP_EITHER);
		T_EQ_INT(p->nclaims, 2);
		T_EQ_HEX(p->sizes[0], 4u << 20);
		T_EQ_HEX(p->firmware_size, 1u << 20);
		T_EQ_INT(p->mains_live, 1);
	}
	p = profile_set_find(shipped, "basic-r4");
	T_TRUE(p != NULL && p->chip == PROFILE_CHIP_NOT_ESP8266 && strcmp(p->real_chip, "ESP32-C3") == 0);
	p = profile_set_find(shipped, "4ch-pro");
	T_TRUE(p != NULL && p->njedec == 1 && p->jedec[0].id == 0x514014);
	/* The stock 1 MB map (protocol.md §13.1): RF cal 0xFB000, init data 0xFC000, params 0xFD000. */
	p = profile_set_find(shipped, "basic-r2");
	T_TRUE(p != NULL && p->map_size == 0x100000 && p->nregions >= 6);
	if (p != NULL) {
		int rf = 0, phy = 0, sys = 0, u2 = 0;

		for (size_t i = 0; i < p->nregions; i++) {
			rf |= strcmp(p->regions[i].name, "rf-cal") == 0 && p->regions[i].offset == 0xFB000;
			phy |= strcmp(p->regions[i].name, "phy-init-data") == 0 && p->regions[i].offset == 0xFC000;
			sys |= strcmp(p->regions[i].name, "system-parameter") == 0 && p->regions[i].offset == 0xFD000 &&
			    p->regions[i].size == 0x3000;
			u2 |= strcmp(p->regions[i].name, "user2") == 0 && p->regions[i].offset == 0x81000;
		}
		T_TRUE(rf && phy && sys && u2);
	}
}

/* ---- JEDEC and matching ---- */

static void
test_jedec(void)
{
	char buf[128];

	/* protocol.md §9.2: W25Q32 reads W0 = 0x001640EF; esptool prints Manufacturer ef, Device 4016. */
	T_EQ_HEX(jedec_from_le(0x001640EF), 0xEF4016);
	/* devices.md §5c: ESPHome's "Flash Chip Id 0x144051" is 0x51 / 0x4014. */
	T_EQ_HEX(jedec_from_le(0x144051), 0x514014);
	T_EQ_HEX(jedec_size(0xEF4016), 4u << 20);
	T_EQ_HEX(jedec_size(0x856014), 1u << 20);
	T_EQ_HEX(jedec_size(0xC84012), 256u << 10);
	T_EQ_HEX(jedec_size(0x000018), 16u << 20);
	T_EQ_HEX(jedec_size(0x00003A), 64u << 20);
	T_EQ_HEX(jedec_size(0x000020), 64u << 20);
	T_EQ_HEX(jedec_size(0x000022), 256u << 20);
	T_EQ_HEX(jedec_size(0x00001B), 128u << 20);
	T_EQ_HEX(jedec_size(0x000011), 0);
	T_EQ_HEX(jedec_size(0xFFFFFF), 0);
	T_EQ_HEX(jedec_size(0x1F4401), 512u << 10);  /* Adesto: low 5 bits of type = 4 */
	T_EQ_HEX(jedec_size(0x1F4901), 16u << 20);   /* = 9 */
	T_EQ_STR(jedec_vendor_name(0xEF), "Winbond");
	T_EQ_STR(jedec_vendor_name(0xC8), "GigaDevice");
	T_EQ_STR(jedec_vendor_name(0x85), "Puya");
	T_EQ_STR(jedec_vendor_name(0x5E), "Zbit");
	T_EQ_STR(jedec_vendor_name(0xE0), "BergMicro");
	T_EQ_STR(jedec_vendor_name(0x20), "XMC");
	T_EQ_STR(jedec_vendor_name(0x1C), "EON");
	T_EQ_STR(jedec_vendor_name(0xA1), "Fudan");
	T_EQ_STR(jedec_vendor_name(0x9D), "ISSI");
	T_EQ_STR(jedec_vendor_name(0xC2), "Macronix");
	T_TRUE(jedec_vendor_name(0x51) == NULL);
	T_TRUE(jedec_is_blank(0) && jedec_is_blank(0xFFFFFF) && !jedec_is_blank(0xEF4016));
	T_EQ_STR(jedec_name(0xEF4016, buf, sizeof buf), "0xEF4016 Winbond W25Q32");
	T_EQ_STR(jedec_describe(0x514014, buf, sizeof buf), "0x514014 ESP8285 embedded flash, 1 MB");
	T_EQ_STR(jedec_describe(0x123456, buf, sizeof buf), "0x123456 (vendor unknown), unknown size code 0x56");
}

static int
fit_has(const struct profile_fit *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].p->name, name) == 0)
			return (int)i + 1;
	return 0;
}

static void
test_match_esp8285_basic(void)
{
	/* letscontrolit/ESPEasy#2931: ESP8285 Basics report 0x51 / 0x4014. */
	struct profile_detected d = { 1, 1, 0x514014, 0 };
	struct profile_fit *v;
	size_t n = profile_match(shipped, &d, &v);

	T_TRUE(n > 10);
	T_TRUE(fit_has(v, n, "basic-r2") != 0);
	T_TRUE(fit_has(v, n, "4ch-pro") != 0);
	T_TRUE(fit_has(v, n, "esp8285") != 0);
	T_TRUE(fit_has(v, n, "pow") == 0);       /* ESP8266 with 4 MB */
	T_TRUE(fit_has(v, n, "sv") == 0);        /* ESP8266 */
	T_TRUE(fit_has(v, n, "basic-r4") == 0);  /* ESP32-C3 */
	/* Profiles that report this very id rank first. */
	if (n > 0) {
		/* 10 base + 40 same chip + 30 reported id + 20 size seen (profile_match.c) */
		T_EQ_INT(v[0].score, 100);
		T_TRUE(strcmp(v[0].p->name, "4ch-pro") == 0 || strcmp(v[0].p->name, "basic-r2") == 0 ||
		    strcmp(v[0].p->name, "esp8285") == 0);
	}
	for (size_t i = 1; i < n; i++)
		T_TRUE(v[i - 1].score >= v[i].score);
	profile_fits_free(v, n);
}

static void
test_match_esp8266_puya(void)
{
	/* letscontrolit/ESPEasy#2931: most ESP8266 Basics report 0x85 / 0x6014 (Puya, 1 MB). */
	struct profile_detected d = { 1, 0, 0x856014, 0 };
	struct profile_fit *v;
	size_t n = profile_match(shipped, &d, &v);

	T_TRUE(n > 0 && strcmp(v[0].p->name, "basic") == 0);
	T_TRUE(fit_has(v, n, "basic-r2") == 0);
	T_TRUE(fit_has(v, n, "pow-r2") == 0);   /* 4 MB */
	T_TRUE(fit_has(v, n, "s20") != 0);
	profile_fits_free(v, n);
}

static void
test_match_other_ids(void)
{
	/* letscontrolit/ESPEasy#2931: one ESP8266 Basic reported 0x5E / 0x4014 (Zbit, 1 MB). */
	struct profile_detected d = { 1, 0, 0x5E4014, 0 };
	struct profile_fit *v;
	size_t n = profile_match(shipped, &d, &v);

	T_TRUE(n > 0 && strcmp(v[0].p->name, "basic") == 0);
	/* 10 + 25 (the Basic may be either chip) + 30 reported id + 20 size seen */
	T_TRUE(n > 0 && v[0].score == 85);
	profile_fits_free(v, n);
	/* esphome/esphome#381: "Flash Chip Id 0x144051" is the little-endian word of 0x514014. */
	d.esp8285 = 1;
	d.jedec = jedec_from_le(0x144051);
	n = profile_match(shipped, &d, &v);
	T_TRUE(fit_has(v, n, "4ch-pro") != 0 && v[fit_has(v, n, "4ch-pro") - 1].score == 100);
	profile_fits_free(v, n);
	/* An unknown id of a known vendor: no id bonus, the size still counts (GD25Q80 = 0xC84014). */
	d.esp8285 = 0;
	d.jedec = 0xC84014;
	n = profile_match(shipped, &d, &v);
	T_TRUE(fit_has(v, n, "sv") != 0 && v[fit_has(v, n, "sv") - 1].score == 70);
	profile_fits_free(v, n);
}

static void
test_match_pow_disputed(void)
{
	/* Pow R2: ESP8266 + 4 MB per ESPurna, ESP8285 per a Tasmota comment; both detected chips fit. */
	struct profile_detected d8266 = { 1, 0, 0x856016, 0 }, d8285 = { 1, 1, 0, 4u << 20 };
	struct profile_fit *v;
	size_t n = profile_match(shipped, &d8266, &v);
	int at = fit_has(v, n, "pow-r2");

	T_TRUE(at != 0);
	if (at != 0)
		T_CONTAINS(v[at - 1].reasons[0], "sources disagree");
	T_TRUE(fit_has(v, n, "pow") != 0);
	T_TRUE(fit_has(v, n, "basic") == 0);
	profile_fits_free(v, n);
	n = profile_match(shipped, &d8285, &v);
	T_TRUE(fit_has(v, n, "pow-r2") != 0);
	T_TRUE(fit_has(v, n, "pow") == 0);
	profile_fits_free(v, n);
}

static void
test_contradictions(void)
{
	struct profile_detected d = { 1, 0, 0xEF4016, 0 };
	const struct profile *p = profile_set_find(shipped, "basic");
	char **m;
	size_t n;

	T_TRUE(p != NULL);
	if (p == NULL)
		return;
	n = profile_contradictions(p, &d, &m);
	T_EQ_INT(n, 1);
	if (n == 1)
		T_EQ_STR(m[0], "profile says 1 MB, chip reports 4 MB (0xEF4016 Winbond W25Q32)");
	for (size_t i = 0; i < n; i++)
		free(m[i]);
	free(m);

	p = profile_set_find(shipped, "basic-r2");
	d.jedec = 0;
	n = profile_contradictions(p, &d, &m);
	T_EQ_INT(n, 1);
	if (n == 1)
		T_CONTAINS(m[0], "profile says an ESP8285 (embedded flash), chip reports an ESP8266EX");
	for (size_t i = 0; i < n; i++)
		free(m[i]);
	free(m);

	p = profile_set_find(shipped, "Basic R4");
	n = profile_contradictions(p, &d, &m);
	T_EQ_INT(n, 1);
	if (n == 1)
		T_CONTAINS(m[0], "the Sonoff Basic R4 is an ESP32-C3: espdesk cannot flash it");
	for (size_t i = 0; i < n; i++)
		free(m[i]);
	free(m);

	p = profile_set_find(shipped, "mini-r4m");
	n = profile_contradictions(p, &d, &m);
	T_TRUE(n == 1 && strstr(m[0], "locked") != NULL);
	for (size_t i = 0; i < n; i++)
		free(m[i]);
	free(m);

	/* Nothing detected: nothing to contradict. */
	memset(&d, 0, sizeof d);
	n = profile_contradictions(profile_set_find(shipped, "pow"), &d, &m);
	T_EQ_INT(n, 0);
	free(m);
}

static void
test_find_and_suggest(void)
{
	const char *sug[4];
	size_t n;

	T_TRUE(profile_set_find(shipped, "POW-R2") != NULL);
	T_TRUE(profile_set_find(shipped, "powr2") != NULL);
	T_TRUE(profile_set_find(shipped, "4CH Pro R2") != NULL);
	T_TRUE(profile_set_find(shipped, "no-such-thing") == NULL);
	n = profile_set_suggest(shipped, "pow-r5", sug, 4);
	T_TRUE(n >= 1);
	T_TRUE(n >= 1 && strncmp(sug[0], "pow", 3) == 0);
	T_EQ_INT(profile_edit_distance("flash_sise", "flash_size"), 1);
	T_EQ_INT(profile_edit_distance("", "abc"), 3);
	T_EQ_INT(profile_edit_distance("kitten", "sitting"), 3);
}

int
main(void)
{
	T_RUN(test_good_full);
	T_RUN(test_good_small);
	T_RUN(test_bad_unknown_key);
	T_RUN(test_bad_types);
	T_RUN(test_bad_sizes);
	T_RUN(test_bad_missing);
	T_RUN(test_bad_enums);
	T_RUN(test_bad_yaml);
	T_RUN(test_bad_values);
	T_RUN(test_bad_shapes);
	T_RUN(test_parse_buffer_limits);
	T_RUN(test_set_dup_and_clash);
	T_RUN(test_set_override);
	T_RUN(test_search_path);
	T_RUN(test_shipped_all_load);
	T_RUN(test_shipped_facts);
	T_RUN(test_jedec);
	T_RUN(test_match_esp8285_basic);
	T_RUN(test_match_esp8266_puya);
	T_RUN(test_match_other_ids);
	T_RUN(test_match_pow_disputed);
	T_RUN(test_contradictions);
	T_RUN(test_find_and_suggest);
	clear_errs();
	profile_set_free(shipped);
	return t_done();
}
