/*
 * profile_cli.c: `espdesk profiles` (list), `profiles show NAME`, `profiles match ...` and
 * `profiles check [FILE...]`. Exit codes: 0 fine, 1 an error in a profile (check) or the
 * hardware contradicts the chosen profile (match --profile), 2 bad invocation.
 * Text from profile files goes through esc_bytes() before it reaches the terminal: a profile
 * is somebody's file and may carry escape sequences.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/esc.h"
#include "core/xmalloc.h"
#include "profile/jedec.h"
#include "profile/profile.h"

extern const struct cli_cmd cli_cmd_profiles;

#define PC_WIDTH 79

/* Terminal-safe copy of s (static buffer, valid until the next call with the same slot). */
static const char *
safe(const char *s, int slot)
{
	static char buf[4][4096];

	if (s == NULL)
		return "";
	esc_bytes(buf[slot & 3], sizeof buf[0], s, strlen(s), ESC_KEEP_UTF8);
	return buf[slot & 3];
}

/* Copies src into dst[size], cut to fit and NUL-terminated. */
static void
copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
json_str(FILE *f, const char *s)
{
	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
json_strv(FILE *f, char *const *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_str(f, v[i]);
	}
	fputc(']', f);
}

/*
 * Prints prefix, then text wrapped at PC_WIDTH; continuation lines start at column `indent`.
 * The prefix is padded to `indent` when it is shorter.
 */
static void
wrap(FILE *f, const char *prefix, int indent, const char *text)
{
	const char *s = safe(text, 3);
	int col = (int)strlen(prefix), first = 1;

	fputs(prefix, f);
	for (; col < indent; col++)
		fputc(' ', f);
	while (*s == ' ')
		s++;
	while (*s != '\0') {
		size_t w = strcspn(s, " ");

		if (!first && col + 1 + (int)w > PC_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			first = 1;
		}
		if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(s, 1, w, f);
		col += (int)w;
		first = 0;
		s += w;
		while (*s == ' ')
			s++;
	}
	fputc('\n', f);
}

static void
print_set_errors(const struct profile_set *s)
{
	for (size_t i = 0; i < s->nerrors; i++)
		fprintf(stderr, "espdesk profiles: warning: %s\n", safe(s->errors[i], 0));
}

static void
sizes_text(const struct profile *p, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	if (p->nsizes == 0) {
		snprintf(buf, size, "?");
		return;
	}
	for (size_t i = 0; i < p->nsizes && off < size; i++) {
		uint32_t v = p->sizes[i];

		if (v >= (1u << 20))
			off += (size_t)snprintf(buf + off, size - off, "%s%u", i ? "/" : "", (unsigned)(v >> 20));
		else
			off += (size_t)snprintf(buf + off, size - off, "%s%uK", i ? "/" : "", (unsigned)(v >> 10));
	}
	if (off < size && p->sizes[p->nsizes - 1] >= (1u << 20))
		snprintf(buf + off, size - off, "MB");
}

static const char *
chip_short(const struct profile *p)
{
	switch (p->chip) {
	case PROFILE_CHIP_ESP8266:
		return "esp8266";
	case PROFILE_CHIP_ESP8285:
		return "esp8285";
	case PROFILE_CHIP_EITHER:
		return "8266/8285";
	case PROFILE_CHIP_NOT_ESP8266:
		return p->real_chip;
	}
	return "?";
}

static void
json_profile_brief(const struct profile *p)
{
	printf("{\"name\":");
	json_str(stdout, p->name);
	printf(",\"title\":");
	json_str(stdout, p->title);
	printf(",\"aliases\":");
	json_strv(stdout, p->aliases, p->naliases);
	printf(",\"kind\":\"%s\",\"chip\":\"%s\",\"real_chip\":", profile_kind_str(p->kind),
	    profile_chip_str(p->chip));
	json_str(stdout, p->real_chip);
	printf(",\"flash_sizes\":[");
	for (size_t i = 0; i < p->nsizes; i++)
		printf("%s%u", i ? "," : "", (unsigned)p->sizes[i]);
	printf("],\"flash_mode\":\"%s\",\"flash_freq_mhz\":%d,\"download_hint\":",
	    profile_mode_str(p->mode), p->freq_mhz);
	json_str(stdout, p->download_hint);
	printf(",\"mains_live_ground\":%s,\"path\":", p->mains_live ? "true" : "false");
	json_str(stdout, p->path);
	printf(",\"overrides\":");
	json_str(stdout, p->overrides);
	printf("}");
}

static int
pc_list(struct profile_set *s)
{
	char sz[32], name[32], chip[16], hint[64];
	size_t *count = xcalloc(s->ndirs + 1, sizeof *count);

	if (cli_common.json) {
		for (size_t i = 0; i < s->n; i++) {
			json_profile_brief(s->v[i]);
			putchar('\n');
		}
		free(count);
		return CLI_EXIT_OK;
	}
	printf("  %-17s %-9s %-8s %-4s %s\n", "NAME", "CHIP", "FLASH", "MODE", "DOWNLOAD MODE");
	for (size_t i = 0; i < s->n; i++) {
		const struct profile *p = s->v[i];

		count[p->origin]++;
		copy_cut(name, sizeof name, safe(p->name, 0));
		if (strlen(name) > 17)
			strcpy(name + 16, "~");
		copy_cut(chip, sizeof chip, safe(chip_short(p), 1));
		chip[strcspn(chip, " (")] = '\0';  /* "ESP32 (plus CC2652P)" -> "ESP32" */
		if (strlen(chip) > 9)
			strcpy(chip + 8, "~");
		sizes_text(p, sz, sizeof sz);
		if (p->chip == PROFILE_CHIP_NOT_ESP8266)
			copy_cut(hint, sizeof hint, p->locked ? "LOCKED: nobody can flash it" :
			    "other chip: espdesk cannot flash");
		else {
			copy_cut(hint, sizeof hint, p->mains_live ? "MAINS! " : "");
			copy_cut(hint + strlen(hint), sizeof hint - strlen(hint),
			    safe(p->download_hint ? p->download_hint : p->download_mode, 2));
		}
		if (strlen(hint) > 35)
			strcpy(hint + 34, "~");
		printf("%zu %-17s %-9s %-8s %-4s %s\n", p->origin + 1, name, chip,
		    p->chip == PROFILE_CHIP_NOT_ESP8266 ? "-" : sz,
		    p->chip == PROFILE_CHIP_NOT_ESP8266 ? "-" : profile_mode_str(p->mode), hint);
	}
	printf("\n%zu profiles. From:\n", s->n);
	for (size_t d = 0; d < s->ndirs; d++) {
		printf("  %zu = %s (%zu)\n", d + 1, safe(s->dirs[d], 0), count[d]);
	}
	printf("Earlier directories override later ones, by profile name.\n"
	    "MAINS! = ground tied to mains live. 'espdesk profiles show NAME' tells all.\n");
	free(count);
	return CLI_EXIT_OK;
}

static void
unknown_profile(struct profile_set *s, const char *name)
{
	const char *sug[3];
	size_t n = profile_set_suggest(s, name, sug, 3);

	fprintf(stderr, "espdesk profiles: no profile named '%s'", safe(name, 0));
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s'%s'", i == 0 ? " (did you mean " : " or ", sug[i]);
	fprintf(stderr, "%s; 'espdesk profiles' lists them all\n", n ? "?)" : "");
}

static void
json_profile_full(const struct profile *p)
{
	printf("{\"name\":");
	json_str(stdout, p->name);
	printf(",\"title\":");
	json_str(stdout, p->title);
	printf(",\"aliases\":");
	json_strv(stdout, p->aliases, p->naliases);
	printf(",\"vendor\":");
	json_str(stdout, p->vendor);
	printf(",\"kind\":\"%s\",\"revisions\":", profile_kind_str(p->kind));
	json_str(stdout, p->revisions);
	printf(",\"chip\":\"%s\",\"chip_note\":", profile_chip_str(p->chip));
	json_str(stdout, p->chip_note);
	printf(",\"chip_claims\":[");
	for (size_t i = 0; i < p->nclaims; i++) {
		printf("%s{\"chip\":\"%s\",\"source\":", i ? "," : "", profile_chip_str(p->claims[i].chip));
		json_str(stdout, p->claims[i].source);
		printf(",\"note\":");
		json_str(stdout, p->claims[i].note);
		printf(",\"inferred\":%s}", p->claims[i].inferred ? "true" : "false");
	}
	printf("],\"real_chip\":");
	json_str(stdout, p->real_chip);
	printf(",\"locked\":%s,\"flash_sizes\":[", p->locked ? "true" : "false");
	for (size_t i = 0; i < p->nsizes; i++)
		printf("%s%u", i ? "," : "", (unsigned)p->sizes[i]);
	printf("],\"firmware_size\":%u,\"flash_mode\":\"%s\",\"flash_mode_reason\":",
	    (unsigned)p->firmware_size, profile_mode_str(p->mode));
	json_str(stdout, p->mode_reason);
	printf(",\"flash_freq_mhz\":%d,\"flash_ids\":[", p->freq_mhz);
	for (size_t i = 0; i < p->njedec; i++) {
		printf("%s{\"id\":\"0x%06X\",\"part\":", i ? "," : "", (unsigned)p->jedec[i].id);
		json_str(stdout, p->jedec[i].part);
		printf(",\"source\":");
		json_str(stdout, p->jedec[i].source);
		printf(",\"note\":");
		json_str(stdout, p->jedec[i].note);
		printf(",\"inferred\":%s}", p->jedec[i].inferred ? "true" : "false");
	}
	printf("],\"flash_note\":");
	json_str(stdout, p->flash_note);
	printf(",\"header\":");
	json_strv(stdout, p->header_pins, p->nheader_pins);
	printf(",\"header_note\":");
	json_str(stdout, p->header_note);
	printf(",\"download_mode\":");
	json_str(stdout, p->download_mode);
	printf(",\"download_hint\":");
	json_str(stdout, p->download_hint);
	printf(",\"mains_live_ground\":%s,\"warnings\":", p->mains_live ? "true" : "false");
	json_strv(stdout, p->warnings, p->nwarnings);
	if (p->map_size) {
		printf(",\"flash_map\":{\"size\":%u,\"layout\":", (unsigned)p->map_size);
		json_str(stdout, p->map_layout);
		printf(",\"regions\":[");
		for (size_t i = 0; i < p->nregions; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, p->regions[i].name);
			printf(",\"offset\":%u,\"size\":%u,\"note\":", (unsigned)p->regions[i].offset,
			    (unsigned)p->regions[i].size);
			json_str(stdout, p->regions[i].note);
			printf("}");
		}
		printf("]}");
	} else
		printf(",\"flash_map\":null");
	printf(",\"gpio\":{");
	for (size_t i = 0; i < p->ngpios; i++) {
		printf("%s\"%d\":", i ? "," : "", p->gpios[i].pin);
		json_str(stdout, p->gpios[i].use);
	}
	printf("},\"notes\":");
	json_strv(stdout, p->notes, p->nnotes);
	printf(",\"sources\":");
	json_strv(stdout, p->sources, p->nsources);
	printf(",\"path\":");
	json_str(stdout, p->path);
	printf(",\"overrides\":");
	json_str(stdout, p->overrides);
	printf("}\n");
}

static void
show_field(const char *label, const char *text)
{
	if (text == NULL)
		return;
	/* Continuation lines line up under the value. */
	wrap(stdout, label, 15, text);
}

static void
show_text(const struct profile *p)
{
	char buf[1024], one[32], name[96];
	size_t off;

	printf("%s (%s)\n", safe(p->title, 0), safe(p->name, 1));
	for (size_t i = 0; i < p->nwarnings; i++) {
		wrap(stdout, "!! ", 3, p->warnings[i]);
	}
	if (p->chip == PROFILE_CHIP_NOT_ESP8266) {
		struct profile_detected none = { 0, 0, 0, 0 };
		char **m;
		size_t n = profile_contradictions(p, &none, &m);

		for (size_t i = 0; i < n; i++) {
			wrap(stdout, "!! ", 3, m[i]);
			free(m[i]);
		}
		free(m);
	}
	if (p->naliases) {
		off = 0;
		buf[0] = '\0';
		for (size_t i = 0; i < p->naliases && off < sizeof buf; i++)
			off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? ", " : "", p->aliases[i]);
		show_field("aliases:", buf);
	}
	show_field("vendor:", p->vendor);
	show_field("kind:", profile_kind_str(p->kind));
	show_field("revisions:", p->revisions);
	if (p->chip == PROFILE_CHIP_NOT_ESP8266)
		snprintf(buf, sizeof buf, "%s (not an ESP8266)%s", p->real_chip, p->locked ? ", flash locked" : "");
	else
		snprintf(buf, sizeof buf, "%s%s%s", profile_chip_str(p->chip), p->chip_note ? "; " : "",
		    p->chip_note ? p->chip_note : "");
	show_field("chip:", buf);
	for (size_t i = 0; i < p->nclaims; i++) {
		snprintf(buf, sizeof buf, "%s%s, says %s%s%s%s", profile_chip_str(p->claims[i].chip),
		    p->claims[i].inferred ? " (inferred)" : "", p->claims[i].source,
		    p->claims[i].note ? " (" : "", p->claims[i].note ? p->claims[i].note : "",
		    p->claims[i].note ? ")" : "");
		show_field("  claim:", buf);
	}
	if (p->nsizes > 0 || p->firmware_size) {
		off = 0;
		buf[0] = '\0';
		for (size_t i = 0; i < p->nsizes && off < sizeof buf; i++)
			off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? " or " : "",
			    jedec_size_str(p->sizes[i], one, sizeof one));
		if (p->nsizes > 0 && off < sizeof buf)
			off += (size_t)snprintf(buf + off, sizeof buf - off, " chip");
		if (p->firmware_size && off < sizeof buf)
			snprintf(buf + off, sizeof buf - off, "%sstock firmware uses %s", off ? "; " : "",
			    jedec_size_str(p->firmware_size, one, sizeof one));
		show_field("flash:", buf);
	} else if (p->chip != PROFILE_CHIP_NOT_ESP8266)
		show_field("flash:", "size unknown: read the JEDEC id and dump the whole chip");
	show_field("", p->flash_note);
	for (size_t i = 0; i < p->njedec; i++) {
		const struct profile_jedec *j = &p->jedec[i];

		snprintf(buf, sizeof buf, "%s%s%s%s, %s %s%s%s", jedec_name(j->id, name, sizeof name),
		    j->part ? " (" : "", j->part ? j->part : "", j->part ? ")" : "",
		    j->inferred ? "expected (inferred) from" : "reported by", j->source,
		    j->note ? "; " : "", j->note ? j->note : "");
		show_field("  flash id:", buf);
	}
	if (p->chip != PROFILE_CHIP_NOT_ESP8266 || p->mode_reason != NULL) {
		snprintf(buf, sizeof buf, "%s at %d MHz. %s", profile_mode_str(p->mode), p->freq_mhz,
		    p->mode_reason ? p->mode_reason : "");
		show_field("write mode:", buf);
	}
	if (p->nheader_pins || p->header_note) {
		off = 0;
		buf[0] = '\0';
		for (size_t i = 0; i < p->nheader_pins && off < sizeof buf; i++)
			off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? ", " : "", p->header_pins[i]);
		if (p->header_note && off < sizeof buf)
			snprintf(buf + off, sizeof buf - off, "%s%s", off ? " -- " : "", p->header_note);
		show_field("header:", buf);
	}
	show_field("download mode:", p->download_mode);
	if (p->map_size) {
		snprintf(buf, sizeof buf, "%s%s%s", jedec_size_str(p->map_size, one, sizeof one),
		    p->map_layout ? ", " : "", p->map_layout ? p->map_layout : "");
		show_field("flash map:", buf);
		for (size_t i = 0; i < p->nregions; i++) {
			const struct profile_region *r = &p->regions[i];

			snprintf(buf, sizeof buf, "  0x%06X-0x%06X %-16.64s ", (unsigned)r->offset,
			    (unsigned)(r->offset + r->size - 1), safe(r->name, 0));
			wrap(stdout, buf, 6, r->note ? r->note : "");
		}
	}
	if (p->ngpios) {
		printf("gpio:\n");
		for (size_t i = 0; i < p->ngpios; i++) {
			snprintf(buf, sizeof buf, "  GPIO%-2d ", p->gpios[i].pin);
			wrap(stdout, buf, 11, p->gpios[i].use);
		}
	}
	for (size_t i = 0; i < p->nnotes; i++)
		show_field("note:", p->notes[i]);
	for (size_t i = 0; i < p->nsources; i++)
		show_field(i == 0 ? "sources:" : "", p->sources[i]);
	show_field("file:", p->path);
	if (p->overrides != NULL)
		show_field("overrides:", p->overrides);
}

static int
pc_show(struct profile_set *s, int argc, char **argv)
{
	const struct profile *p;

	if (argc != 1)
		return cli_usage_error(&cli_cmd_profiles, "show takes one profile name (or alias)");
	if ((p = profile_set_find(s, argv[0])) == NULL) {
		unknown_profile(s, argv[0]);
		return CLI_EXIT_FAIL;
	}
	if (cli_common.json)
		json_profile_full(p);
	else
		show_text(p);
	return CLI_EXIT_OK;
}

/* Reads a flash id: "0xEF4016" / "EF4016" (JEDEC order, as the chip sends it) or esptool's
 * "ef/4016" (Manufacturer / Device). */
static int
parse_flash_id(const char *s, int le, uint32_t *out)
{
	unsigned long long v;
	char *end;
	const char *slash = strpbrk(s, "/:");

	errno = 0;
	if (slash != NULL && !le) {
		unsigned long mfr, dev;

		mfr = strtoul(s, &end, 16);
		if (end != slash || mfr > 0xff)
			return -1;
		dev = strtoul(slash + 1, &end, 16);
		if (*end != '\0' || end == slash + 1 || dev > 0xffff)
			return -1;
		*out = (uint32_t)((mfr << 16) | dev);
		return 0;
	}
	v = strtoull(s, &end, 16);
	if (errno != 0 || end == s || *end != '\0' || v > 0xffffff)
		return -1;
	*out = le ? jedec_from_le((uint32_t)v) : (uint32_t)v;
	return 0;
}

static int
pc_match(struct profile_set *s, int argc, char **argv)
{
	struct profile_detected d = { 0, 0, 0, 0 };
	const char *profile = NULL;
	struct profile_fit *v;
	size_t n;
	int rc = CLI_EXIT_OK, given = 0;
	char name[96], *cause;

	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL)
			return cli_usage_error(&cli_cmd_profiles, "%s needs a value", opt);
		i++;
		if (strcmp(opt, "--chip") == 0) {
			d.chip_known = 1;
			if (strcasecmp(val, "esp8285") == 0 || strncasecmp(val, "esp8285", 7) == 0)
				d.esp8285 = 1;
			else if (strcasecmp(val, "esp8266") == 0 || strcasecmp(val, "esp8266ex") == 0)
				d.esp8285 = 0;
			else
				return cli_usage_error(&cli_cmd_profiles, "--chip '%s': expected esp8266 or esp8285 "
				    "(what 'espdesk chip-id' reports)", val);
		} else if (strcmp(opt, "--flash-id") == 0 || strcmp(opt, "--flash-id-le") == 0) {
			int le = strcmp(opt, "--flash-id-le") == 0;

			if (parse_flash_id(val, le, &d.jedec) != 0)
				return cli_usage_error(&cli_cmd_profiles, "%s '%s': expected %s", opt, val, le ?
				    "the little-endian RDID word, e.g. 0x1640EF (SPI_W0, ESP.getFlashChipId())" :
				    "a JEDEC id in the order the chip sends it, e.g. 0xEF4016, or esptool's "
				    "Manufacturer/Device, e.g. ef/4016");
			if (jedec_is_blank(d.jedec))
				return cli_usage_error(&cli_cmd_profiles, "flash id 0x%06X is what a flash that "
				    "did not answer reads as; check the wiring and read it again", (unsigned)d.jedec);
		} else if (strcmp(opt, "--size") == 0) {
			if (cli_parse_size(val, &d.size, &cause) != RC_OK) {
				cli_usage_error(&cli_cmd_profiles, "--size: %s", cause);
				free(cause);
				return CLI_EXIT_USAGE;
			}
			if (d.size == 0 || (d.size & (d.size - 1)) != 0)
				return cli_usage_error(&cli_cmd_profiles, "--size '%s' is not a power of two "
				    "(flash comes in 512KB, 1MB, 2MB, 4MB...)", val);
		} else if (strcmp(opt, "--profile") == 0) {
			profile = val;
			continue;
		} else
			return cli_usage_error(&cli_cmd_profiles, "match: unknown option '%s'", opt);
		given = 1;
	}
	if (!given)
		return cli_usage_error(&cli_cmd_profiles, "match needs at least one of --chip, --flash-id, --size");
	if (profile != NULL) {
		const struct profile *p = profile_set_find(s, profile);
		char **m;
		size_t nm;

		if (p == NULL) {
			unknown_profile(s, profile);
			return CLI_EXIT_FAIL;
		}
		nm = profile_contradictions(p, &d, &m);
		for (size_t i = 0; i < nm; i++) {
			if (cli_common.json) {
				printf("{\"profile\":");
				json_str(stdout, p->name);
				printf(",\"contradiction\":");
				json_str(stdout, m[i]);
				printf("}\n");
			} else
				printf("%s: %s\n", safe(p->name, 0), safe(m[i], 1));
			free(m[i]);
		}
		free(m);
		if (nm > 0) {
			if (!cli_common.json)
				printf("The detected hardware wins: pick a profile from the list below.\n\n");
			rc = CLI_EXIT_FAIL;
		} else if (!cli_common.json)
			printf("%s: consistent with the detected hardware\n\n", safe(p->name, 0));
	}
	n = profile_match(s, &d, &v);
	if (!cli_common.json) {
		printf("Detected:");
		if (d.chip_known)
			printf(" %s", d.esp8285 ? "ESP8285" : "ESP8266EX");
		if (d.jedec)
			printf(", flash %s", jedec_describe(d.jedec, name, sizeof name));
		if (d.size) {
			char one[32];

			printf(", size %s", jedec_size_str(d.size, one, sizeof one));
		}
		printf("\n%zu profile%s fit, best first:\n", n, n == 1 ? "" : "s");
	}
	for (size_t i = 0; i < n; i++) {
		if (cli_common.json) {
			printf("{\"name\":");
			json_str(stdout, v[i].p->name);
			printf(",\"title\":");
			json_str(stdout, v[i].p->title);
			printf(",\"score\":%d,\"reasons\":", v[i].score);
			json_strv(stdout, v[i].reasons, v[i].nreasons);
			printf(",\"path\":");
			json_str(stdout, v[i].p->path);
			printf("}\n");
			continue;
		}
		printf("%3d  %-18s %s\n", v[i].score, safe(v[i].p->name, 0), safe(v[i].p->title, 1));
		for (size_t k = 0; k < v[i].nreasons; k++)
			wrap(stdout, "       - ", 9, v[i].reasons[k]);
	}
	profile_fits_free(v, n);
	return rc;
}

static int
pc_check(int argc, char **argv)
{
	char **path = profile_search_path(profile_running_uninstalled());
	size_t npath = 0, nent, bad = 0;
	char **entries;
	struct profile_set *s;

	while (path[npath] != NULL)
		npath++;
	for (int i = 0; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			char *msg = xfmt("%s: cannot open: %s", argv[i], strerror(errno));

			if (cli_common.json) {
				printf("{\"error\":");
				json_str(stdout, msg);
				printf("}\n");
			} else
				fprintf(stderr, "%s\n", safe(msg, 0));
			free(msg);
			bad++;
		}
	}
	/* The files go first (highest precedence), so a clash is blamed on them, and a file that
	 * is already in a profile directory simply replaces itself. */
	nent = (size_t)argc + npath;
	entries = xcalloc(nent, sizeof *entries);
	for (int i = 0; i < argc; i++)
		entries[i] = argv[i];
	for (size_t i = 0; i < npath; i++)
		entries[argc + i] = path[i];
	s = profile_set_load(entries, nent);
	for (size_t e = 0; e < s->nerrors; e++) {
		int ours = argc == 0;

		for (int i = 0; i < argc && !ours; i++)
			ours = strncmp(s->errors[e], argv[i], strlen(argv[i])) == 0 &&
			    s->errors[e][strlen(argv[i])] == ':';
		if (!ours)
			continue;
		bad++;
		if (cli_common.json) {
			printf("{\"error\":");
			json_str(stdout, s->errors[e]);
			printf("}\n");
		} else
			fprintf(stderr, "%s\n", safe(s->errors[e], 0));
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct profile *p = s->v[i];

		if (argc > 0 && p->origin >= (size_t)argc)
			continue;
		if (cli_common.json) {
			printf("{\"ok\":");
			json_str(stdout, p->path);
			printf(",\"name\":");
			json_str(stdout, p->name);
			printf("}\n");
		} else if (argc > 0)
			printf("%s: ok (profile '%s')\n", safe(p->path, 0), safe(p->name, 1));
	}
	if (!cli_common.json) {
		if (argc == 0)
			printf("%zu profiles loaded from the search path, %zu error%s\n", s->n, bad,
			    bad == 1 ? "" : "s");
		else if (bad > 0)
			printf("%zu error%s; fix %s and run 'espdesk profiles check' again\n", bad,
			    bad == 1 ? "" : "s", bad == 1 ? "it" : "them");
	}
	profile_set_free(s);
	free(entries);
	for (size_t i = 0; i < npath; i++)
		free(path[i]);
	free(path);
	return bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int
pc_run(int argc, char **argv)
{
	const char *action = "list";
	char **rest;
	int nrest = 0, rc;
	struct profile_set *s;

	/* Options may follow the action ("profiles show pow --json"); match has its own options,
	 * so only the common ones are taken out here and everything else is kept in order. */
	rest = xcalloc((size_t)argc + 1, sizeof *rest);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0)
			cli_common.json = 1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			free(rest);
			cli_print_help(&cli_cmd_profiles, stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			if (cli_common_opt(&cli_cmd_profiles, 'v', NULL) < 0) {
				free(rest);
				return CLI_EXIT_FAIL;
			}
		} else if (strcmp(a, "--debug-log") == 0) {
			if (i + 1 >= argc) {
				free(rest);
				return cli_usage_error(&cli_cmd_profiles, "--debug-log needs a file");
			}
			if (cli_common_opt(&cli_cmd_profiles, CLI_OPT_DEBUG_LOG, argv[++i]) < 0) {
				free(rest);
				return CLI_EXIT_FAIL;
			}
		} else
			rest[nrest++] = argv[i];
	}
	if (nrest > 0 && rest[0][0] != '-') {
		action = rest[0];
		memmove(rest, rest + 1, (size_t)nrest * sizeof *rest);
		nrest--;
	}
	if (strcmp(action, "check") == 0) {
		rc = pc_check(nrest, rest);
		free(rest);
		return rc;
	}
	if (strcmp(action, "list") != 0 && strcmp(action, "show") != 0 && strcmp(action, "match") != 0) {
		free(rest);
		return cli_usage_error(&cli_cmd_profiles, "unknown action '%s' (list, show, match or check)", action);
	}
	if (strcmp(action, "list") == 0 && nrest > 0) {
		rc = cli_usage_error(&cli_cmd_profiles, "list takes no arguments, got '%s'", rest[0]);
		free(rest);
		return rc;
	}
	s = profile_set_load_default();
	print_set_errors(s);
	if (s->n == 0 && strcmp(action, "list") == 0 && !cli_common.json)
		fprintf(stderr, "espdesk profiles: no profiles found; set ESPDESK_PROFILE_PATH or install espdesk\n");
	if (strcmp(action, "list") == 0)
		rc = pc_list(s);
	else if (strcmp(action, "show") == 0)
		rc = pc_show(s, nrest, rest);
	else
		rc = pc_match(s, nrest, rest);
	profile_set_free(s);
	free(rest);
	return rc;
}

const struct cli_cmd cli_cmd_profiles = {
	"profiles", "[list | show NAME | match OPTIONS | check [FILE...]] [--json]",
	"device profiles: list, show one, match detected hardware, check your own",
	"actions:\n"
	"  list (default)       table of every profile: name, chip, flash, mode, download hint\n"
	"  show NAME            everything about one profile (name or alias, any case)\n"
	"  match OPTIONS        profiles that fit the detected hardware, best first:\n"
	"    --chip esp8266|esp8285   what 'espdesk chip-id' reports\n"
	"    --flash-id ID            JEDEC id as the chip sends it (0xEF4016) or esptool's ef/4016\n"
	"    --flash-id-le WORD       the same, little-endian (0x1640EF: SPI_W0, getFlashChipId)\n"
	"    --size SIZE              flash size (1MB, 4MB, 0x100000)\n"
	"    --profile NAME           also say where NAME contradicts the hardware (exit 1 if so)\n"
	"  check [FILE...]      validate profile files (default: everything on the search path);\n"
	"                       exit 1 on any error\n"
	"\nSearch path, highest precedence first: $ESPDESK_PROFILE_PATH (colon-separated) if set;\n"
	"otherwise $XDG_CONFIG_HOME/espdesk/profiles, then the installed profiles. See doc/profiles.md.\n",
	pc_run,
};
