/*
 * backup_yaml.c: the sidecar of a backup, written with libyaml's emitter and read back with its
 * parser. The only file of the backup store that includes yaml.h. The sidecar is a flat mapping
 * of scalars; unknown keys are ignored (a newer espdesk may add some), missing required keys and
 * malformed values are errors that name the file and line.
 */
#include "config.h"

#include "backup/backup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/xmalloc.h"

#define SIDECAR_MAX (64 * 1024)

void
backup_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

struct emit_buf {
	char *p;
	size_t len, cap;
};

static int
emit_write(void *arg, unsigned char *buf, size_t size)
{
	struct emit_buf *e = arg;

	if (e->len + size + 1 > SIDECAR_MAX)
		return 0;
	if (e->len + size + 1 > e->cap) {
		e->cap = (e->len + size + 1) * 2;
		e->p = xreallocarray(e->p, 1, e->cap);
	}
	memcpy(e->p + e->len, buf, size);
	e->len += size;
	e->p[e->len] = '\0';
	return 1;
}

static int
emit_scalar(yaml_emitter_t *em, const char *s, int plain)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s,
	    (int)strlen(s), 1, 1, plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE))
		return 0;
	return yaml_emitter_emit(em, &ev);
}

static int
emit_kv(yaml_emitter_t *em, const char *k, const char *v, int plain)
{
	return emit_scalar(em, k, 1) && emit_scalar(em, v, plain);
}

int
backup_yaml_emit(const struct backup_meta *m, char **text, size_t *len, char **cause)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	struct emit_buf b = { NULL, 0, 0 };
	char mac[18], md5[33], sha[65], num[32], jedec[16], cid[16];
	int ok;

	*text = NULL;
	*cause = NULL;
	snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m->mac[0], m->mac[1],
	    m->mac[2], m->mac[3], m->mac[4], m->mac[5]);
	backup_hex(m->md5, 16, md5);
	backup_hex(m->sha256, 32, sha);
	snprintf(cid, sizeof cid, "0x%08" PRIx32, m->chip_id);
	snprintf(jedec, sizeof jedec, "0x%06" PRIx32, m->jedec);
	if (!yaml_emitter_initialize(&em)) {
		*cause = xstrdup("cannot start the YAML emitter (out of memory)");
		return RC_ERR_IO;
	}
	yaml_emitter_set_output(&em, emit_write, &b);
	yaml_emitter_set_unicode(&em, 1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) &&
	    yaml_emitter_emit(&em, &ev);
	ok = ok && emit_kv(&em, "format", "espdesk-backup 1", 0);
	ok = ok && emit_kv(&em, "chip", m->chip, 0);
	ok = ok && emit_kv(&em, "esp8285", m->esp8285 ? "true" : "false", 1);
	ok = ok && emit_kv(&em, "mac", mac, 0);
	ok = ok && emit_kv(&em, "chip_id", cid, 0);
	ok = ok && emit_kv(&em, "jedec_id", jedec, 0);
	snprintf(num, sizeof num, "%" PRIu32, m->flash_size);
	ok = ok && emit_kv(&em, "flash_size", num, 1);
	ok = ok && emit_kv(&em, "profile", m->profile, 0);
	ok = ok && emit_kv(&em, "device_md5", md5, 0);
	ok = ok && emit_kv(&em, "sha256", sha, 0);
	ok = ok && emit_kv(&em, "date", m->date, 0);
	ok = ok && emit_kv(&em, "port", m->port, 0);
	snprintf(num, sizeof num, "%d", m->baud);
	ok = ok && emit_kv(&em, "baud", num, 1);
	ok = ok && emit_kv(&em, "espdesk_version", m->version, 0);
	ok = ok && emit_kv(&em, "family", m->family, 0);
	ok = ok && emit_kv(&em, "verified", m->verified ? "true" : "false", 1);
	ok = ok && yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
	    yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
	    yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
	    yaml_emitter_flush(&em);
	if (!ok) {
		*cause = xfmt("cannot write the backup sidecar: %s",
		    em.problem ? em.problem : "emitter failed");
		yaml_emitter_delete(&em);
		free(b.p);
		return RC_ERR_FORMAT;
	}
	yaml_emitter_delete(&em);
	*text = b.p;
	*len = b.len;
	return RC_OK;
}

/* Parsing. */

enum {
	K_CHIP = 1 << 0, K_MAC = 1 << 1, K_CHIPID = 1 << 2, K_SIZE = 1 << 3, K_MD5 = 1 << 4,
	K_SHA = 1 << 5, K_VERIFIED = 1 << 6, K_FORMAT = 1 << 7,
};
#define K_REQUIRED (K_CHIP | K_MAC | K_CHIPID | K_SIZE | K_MD5 | K_SHA | K_VERIFIED | K_FORMAT)

static int
parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		int c = s[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return 0;
}

static int
parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	if (strcmp(s, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(s, "false") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	char hex[13];
	size_t n = 0;

	if (strlen(s) != 17)
		return -1;
	for (size_t i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return -1;
		} else
			hex[n++] = s[i];
	}
	hex[n] = '\0';
	return parse_hex(hex, mac, 6);
}

static void
copy_str(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s);
}

/* Applies key = val; returns the key bit, 0 for an unknown key, -1 for a bad value. */
static int
apply(struct backup_meta *m, const char *key, const char *val)
{
	uint32_t u;

	if (strcmp(key, "format") == 0)
		return strcmp(val, "espdesk-backup 1") == 0 ? K_FORMAT : -1;
	if (strcmp(key, "chip") == 0) {
		if (*val == '\0' || strlen(val) >= sizeof m->chip)
			return -1;
		copy_str(m->chip, sizeof m->chip, val);
		return K_CHIP;
	}
	if (strcmp(key, "esp8285") == 0)
		return parse_bool(val, &m->esp8285) == 0 ? 0 : -1;
	if (strcmp(key, "mac") == 0)
		return parse_mac(val, m->mac) == 0 ? K_MAC : -1;
	if (strcmp(key, "chip_id") == 0)
		return parse_u32(val, &m->chip_id) == 0 ? K_CHIPID : -1;
	if (strcmp(key, "jedec_id") == 0)
		return parse_u32(val, &m->jedec) == 0 ? 0 : -1;
	if (strcmp(key, "flash_size") == 0)
		return parse_u32(val, &m->flash_size) == 0 && m->flash_size > 0 ? K_SIZE : -1;
	if (strcmp(key, "profile") == 0) {
		if (strlen(val) >= sizeof m->profile)
			return -1;
		copy_str(m->profile, sizeof m->profile, val);
		return 0;
	}
	if (strcmp(key, "device_md5") == 0)
		return parse_hex(val, m->md5, 16) == 0 ? K_MD5 : -1;
	if (strcmp(key, "sha256") == 0)
		return parse_hex(val, m->sha256, 32) == 0 ? K_SHA : -1;
	if (strcmp(key, "date") == 0) {
		if (strlen(val) >= sizeof m->date)
			return -1;
		copy_str(m->date, sizeof m->date, val);
		return 0;
	}
	if (strcmp(key, "port") == 0) {
		if (strlen(val) >= sizeof m->port)
			return -1;
		copy_str(m->port, sizeof m->port, val);
		return 0;
	}
	if (strcmp(key, "baud") == 0) {
		if (parse_u32(val, &u) != 0 || u > 100000000u)
			return -1;
		m->baud = (int)u;
		return 0;
	}
	if (strcmp(key, "espdesk_version") == 0) {
		if (strlen(val) >= sizeof m->version)
			return -1;
		copy_str(m->version, sizeof m->version, val);
		return 0;
	}
	if (strcmp(key, "family") == 0) {
		if (strlen(val) >= sizeof m->family)
			return -1;
		copy_str(m->family, sizeof m->family, val);
		return 0;
	}
	if (strcmp(key, "verified") == 0)
		return parse_bool(val, &m->verified) == 0 ? K_VERIFIED : -1;
	return 0;
}

int
backup_yaml_parse(const char *name, const uint8_t *text, size_t len, struct backup_meta *m,
    char **cause)
{
	yaml_parser_t p;
	yaml_event_t ev;
	char *key = NULL;
	unsigned seen = 0, depth = 0;
	int rc = RC_OK, done = 0, in_map = 0;

	*cause = NULL;
	memset(m, 0, sizeof *m);
	if (len > SIDECAR_MAX) {
		*cause = xfmt("%s: %zu bytes is too large for a backup sidecar (at most %d)", name, len,
		    SIDECAR_MAX);
		return RC_ERR_FORMAT;
	}
	if (!yaml_parser_initialize(&p)) {
		*cause = xfmt("%s: cannot start the YAML parser (out of memory)", name);
		return RC_ERR_IO;
	}
	yaml_parser_set_input_string(&p, text, len);
	while (!done && rc == RC_OK) {
		unsigned long line;

		if (!yaml_parser_parse(&p, &ev)) {
			*cause = xfmt("%s:%lu: not valid YAML: %s; the sidecar is damaged, compare it "
			    "with an exported copy", name, (unsigned long)p.problem_mark.line + 1,
			    p.problem ? p.problem : "parse error");
			rc = RC_ERR_FORMAT;
			break;
		}
		line = (unsigned long)ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
			if (depth++ != 0 || in_map) {
				*cause = xfmt("%s:%lu: nested mapping; a sidecar holds only key: value lines",
				    name, line);
				rc = RC_ERR_FORMAT;
			}
			in_map = 1;
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_ALIAS_EVENT:
			*cause = xfmt("%s:%lu: unexpected %s; a sidecar holds only key: value lines", name,
			    line, ev.type == YAML_ALIAS_EVENT ? "alias" : "list");
			rc = RC_ERR_FORMAT;
			break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;

			if (!in_map) {
				*cause = xfmt("%s:%lu: expected a mapping of key: value lines", name, line);
				rc = RC_ERR_FORMAT;
			} else if (strlen(s) != ev.data.scalar.length) {
				*cause = xfmt("%s:%lu: NUL byte in a value", name, line);
				rc = RC_ERR_FORMAT;
			} else if (key == NULL) {
				key = xstrdup(s);
			} else {
				int bit = apply(m, key, s);

				if (bit < 0) {
					*cause = xfmt("%s:%lu: bad value for '%s'; the sidecar is damaged",
					    name, line, key);
					rc = RC_ERR_FORMAT;
				} else if (bit > 0 && (seen & (unsigned)bit)) {
					*cause = xfmt("%s:%lu: '%s' given twice", name, line, key);
					rc = RC_ERR_FORMAT;
				}
				if (bit > 0)
					seen |= (unsigned)bit;
				free(key);
				key = NULL;
			}
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	free(key);
	yaml_parser_delete(&p);
	if (rc == RC_OK && (seen & K_REQUIRED) != K_REQUIRED) {
		static const char *names[] = { "chip", "mac", "chip_id", "flash_size", "device_md5",
			"sha256", "verified", "format" };
		const char *missing = "?";

		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (!(seen & (1u << i))) {
				missing = names[i];
				break;
			}
		*cause = xfmt("%s: '%s' is missing; this is not a complete backup sidecar", name,
		    missing);
		rc = RC_ERR_FORMAT;
	}
	return rc;
}
