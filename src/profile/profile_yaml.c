/*
 * profile_yaml.c: one YAML profile -> struct profile. The only file that includes yaml.h.
 *
 * Two passes. libyaml's event parser (a push-style stream over the byte buffer) builds a small
 * tree of nodes that keep their line and column; then a walker checks that tree against the
 * schema in doc/profiles.md and fills the struct. Keeping the marks on every node is what lets
 * every message point at the exact key or value. The tree is bounded (depth, node count, input
 * size), so hostile input costs little.
 */
#include "config.h"

#include "profile/profile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/xmalloc.h"

#define PY_MAX_INPUT (1u << 20)
#define PY_MAX_DEPTH 16
#define PY_MAX_NODES 20000
#define PY_MAX_ERRORS 20

enum yn_type { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode {
	enum yn_type type;
	size_t line, col;     /* 1-based */
	char *str;            /* scalars: NUL-terminated value */
	int quoted;           /* scalar was quoted, so never a number/bool */
	struct ynode **kids;  /* maps: key, value, key, value... */
	size_t nkids, cap;
};

struct pctx {
	const char *path;
	char ***errs;
	size_t *nerrs;
	int nerr;
};

static void ED_PRINTFLIKE(4, 5)
perr_at(struct pctx *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;

	c->nerr++;
	if (c->nerr > PY_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (c->nerr == PY_MAX_ERRORS)
		xasprintf(&full, "%s:%zu:%zu: %s (stopping after %d errors)", c->path, line, col, msg,
		    PY_MAX_ERRORS);
	else
		xasprintf(&full, "%s:%zu:%zu: %s", c->path, line, col, msg);
	free(msg);
	*c->errs = xreallocarray(*c->errs, *c->nerrs + 1, sizeof **c->errs);
	(*c->errs)[(*c->nerrs)++] = full;
}

#define perr(c, n, ...) perr_at((c), (n)->line, (n)->col, __VA_ARGS__)

static void
yn_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		yn_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static void
yn_add(struct ynode *parent, struct ynode *kid)
{
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->kids = xreallocarray(parent->kids, parent->cap, sizeof *parent->kids);
	}
	parent->kids[parent->nkids++] = kid;
}

static struct ynode *
yn_new(enum yn_type type, const yaml_mark_t *m)
{
	struct ynode *n = xcalloc(1, sizeof *n);

	n->type = type;
	n->line = m->line + 1;
	n->col = m->column + 1;
	return n;
}

static const char *
yn_what(const struct ynode *n)
{
	switch (n->type) {
	case YN_SCALAR:
		return "a single value";
	case YN_SEQ:
		return "a list";
	case YN_MAP:
		return "a mapping";
	}
	return "?";
}

/* Pass 1: events -> tree. Returns the document's root, or NULL after reporting why. */
static struct ynode *
yn_build(struct pctx *c, const void *data, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct ynode *stack[PY_MAX_DEPTH + 1], *root = NULL;
	size_t depth = 0, nodes = 0, docs = 0;
	int done = 0, failed = 0;

	if (!yaml_parser_initialize(&parser)) {
		perr_at(c, 1, 1, "cannot start the YAML parser (out of memory?)");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, data, len);
	while (!done && !failed) {
		struct ynode *n = NULL;

		if (!yaml_parser_parse(&parser, &ev)) {
			const char *problem = parser.problem ? parser.problem : "unknown error";

			if (parser.context != NULL)
				perr_at(c, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				    "malformed YAML: %s %s (from line %zu); check the indentation and quoting there",
				    problem, parser.context, parser.context_mark.line + 1);
			else
				perr_at(c, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				    "malformed YAML: %s; check the indentation and quoting there", problem);
			failed = 1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				perr_at(c, ev.start_mark.line + 1, ev.start_mark.column + 1,
				    "a second YAML document: a profile file holds exactly one profile; "
				    "put the next one in a file of its own");
				failed = 1;
			}
			break;
		case YAML_ALIAS_EVENT:
			perr_at(c, ev.start_mark.line + 1, ev.start_mark.column + 1,
			    "YAML alias '*%s' is not supported in profiles; write the value out in full",
			    (const char *)ev.data.alias.anchor);
			failed = 1;
			break;
		case YAML_SCALAR_EVENT:
			n = yn_new(YN_SCALAR, &ev.start_mark);
			n->str = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
			/* A NUL inside a scalar would hide the rest of the value from every check. */
			if (strlen(n->str) != ev.data.scalar.length) {
				perr(c, n, "a NUL byte inside a value; profiles are UTF-8 text");
				failed = 1;
			}
			n->quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
			break;
		case YAML_SEQUENCE_START_EVENT:
			n = yn_new(YN_SEQ, &ev.start_mark);
			break;
		case YAML_MAPPING_START_EVENT:
			n = yn_new(YN_MAP, &ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		if (n != NULL) {
			if (++nodes > PY_MAX_NODES) {
				perr(c, n, "too many values (more than %d); is this really a profile?", PY_MAX_NODES);
				yn_free(n);
				failed = 1;
			} else {
				if (depth > 0)
					yn_add(stack[depth - 1], n);
				else if (root == NULL)
					root = n;
				else
					yn_free(n); /* cannot happen: one root per document */
				if (n->type != YN_SCALAR) {
					if (depth >= PY_MAX_DEPTH) {
						perr(c, n, "nested more than %d levels deep; profiles need 3",
						    PY_MAX_DEPTH);
						failed = 1;
					} else
						stack[depth++] = n;
				}
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (failed) {
		yn_free(root);
		return NULL;
	}
	if (root == NULL || (root->type == YN_SCALAR && root->str[0] == '\0')) {
		perr_at(c, 1, 1, "the file is empty; expected a mapping that starts with 'name:'");
		yn_free(root);
		return NULL;
	}
	return root;
}

/* ---- pass 2: the schema ---- */

static const char *const top_keys[] = {
	"name", "title", "aliases", "vendor", "kind", "revisions", "chip", "chip_note",
	"chip_claims", "real_chip", "locked", "flash_size", "firmware_size", "flash_mode",
	"flash_mode_reason", "flash_freq", "flash_ids", "flash_note", "header", "header_note",
	"download_mode", "download_hint", "mains_live_ground", "warnings", "flash_map", "gpio",
	"notes", "sources", NULL
};
static const char *const claim_keys[] = { "chip", "source", "note", "inferred", NULL };
static const char *const jedec_keys[] = { "id", "part", "source", "note", "inferred", NULL };
static const char *const map_keys[] = { "size", "layout", "regions", NULL };
static const char *const region_keys[] = { "name", "offset", "size", "note", NULL };

/* Reports unknown and duplicate keys of a mapping (with a suggestion). */
static void
check_keys(struct pctx *c, const struct ynode *map, const char *const *allowed, const char *where)
{
	for (size_t i = 0; i < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i];
		const char *best = NULL;
		size_t bestd = (size_t)-1;
		int known = 0;

		if (k->type != YN_SCALAR) {
			perr(c, k, "a key must be a plain word, not %s", yn_what(k));
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			const struct ynode *o = map->kids[j];

			if (o->type == YN_SCALAR && strcmp(o->str, k->str) == 0) {
				perr(c, k, "duplicate key '%s' (first given at line %zu); keep one", k->str,
				    o->line);
				break;
			}
		}
		for (size_t j = 0; allowed[j] != NULL; j++) {
			size_t d;

			if (strcmp(allowed[j], k->str) == 0) {
				known = 1;
				break;
			}
			d = profile_edit_distance(allowed[j], k->str);
			if (d < bestd) {
				bestd = d;
				best = allowed[j];
			}
		}
		if (known)
			continue;
		if (best != NULL && bestd <= 2 + strlen(k->str) / 8)
			perr(c, k, "unknown key '%s' (did you mean '%s'?)", k->str, best);
		else {
			char list[512];
			size_t off = 0;

			list[0] = '\0';
			for (size_t j = 0; allowed[j] != NULL && off < sizeof list; j++)
				off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", j ? ", " : "",
				    allowed[j]);
			perr(c, k, "unknown key '%s' in %s (known keys: %s)", k->str, where, list);
		}
	}
}

static const struct ynode *
get(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->nkids; i += 2)
		if (map->kids[i]->type == YN_SCALAR && strcmp(map->kids[i]->str, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

static const struct ynode *
need(struct pctx *c, const struct ynode *map, const char *key, const char *why)
{
	const struct ynode *v = get(map, key);

	if (v == NULL)
		perr(c, map, "missing required key '%s'%s%s", key, why ? " " : "", why ? why : "");
	return v;
}

static int
is_null(const struct ynode *v)
{
	return v->type == YN_SCALAR && !v->quoted &&
	    (v->str[0] == '\0' || strcmp(v->str, "~") == 0 || strcmp(v->str, "null") == 0);
}

/* A non-empty string. Numbers and booleans are accepted as their text (titles like "4CH"). */
static char *
to_str(struct pctx *c, const struct ynode *v, const char *key)
{
	if (v->type != YN_SCALAR) {
		perr(c, v, "'%s' must be a single string, got %s", key, yn_what(v));
		return NULL;
	}
	if (is_null(v)) {
		perr(c, v, "'%s' is empty; give it a value or remove the key", key);
		return NULL;
	}
	return xstrdup(v->str);
}

static char *
opt_str(struct pctx *c, const struct ynode *map, const char *key)
{
	const struct ynode *v = get(map, key);

	return v ? to_str(c, v, key) : NULL;
}

static char *
req_str(struct pctx *c, const struct ynode *map, const char *key, const char *why)
{
	const struct ynode *v = need(c, map, key, why);

	return v ? to_str(c, v, key) : NULL;
}

static int
to_bool(struct pctx *c, const struct ynode *v, const char *key)
{
	if (v->type == YN_SCALAR && !v->quoted) {
		if (strcmp(v->str, "true") == 0 || strcmp(v->str, "yes") == 0)
			return 1;
		if (strcmp(v->str, "false") == 0 || strcmp(v->str, "no") == 0)
			return 0;
	}
	perr(c, v, "'%s' must be true or false, got %s%s%s", key,
	    v->type == YN_SCALAR ? "'" : "", v->type == YN_SCALAR ? v->str : yn_what(v),
	    v->type == YN_SCALAR ? "'" : "");
	return 0;
}

/* A list of strings; a single string is taken as a list of one when `single_ok`. */
static char **
to_strv(struct pctx *c, const struct ynode *v, const char *key, size_t *n, int single_ok)
{
	char **out = NULL;

	*n = 0;
	if (v->type == YN_SCALAR && single_ok && !is_null(v)) {
		out = xmalloc(sizeof *out);
		out[0] = xstrdup(v->str);
		*n = 1;
		return out;
	}
	if (v->type != YN_SEQ) {
		perr(c, v, "'%s' must be a list of strings, e.g. [a, b] or one '- item' per line; got %s",
		    key, yn_what(v));
		return NULL;
	}
	if (v->nkids > 0)
		out = xcalloc(v->nkids, sizeof *out);
	for (size_t i = 0; i < v->nkids; i++) {
		char *s = to_str(c, v->kids[i], key);

		if (s != NULL)
			out[(*n)++] = s;
	}
	return out;
}

/* Parses an unsigned number: decimal or 0x hex, with an optional KB/MB unit when `units`. */
static int
parse_num(const char *s, int units, uint32_t *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return -1;
	while (*end == ' ')
		end++;
	if (*end != '\0') {
		if (!units)
			return -1;
		if (strcasecmp(end, "KB") == 0 || strcasecmp(end, "K") == 0 || strcasecmp(end, "KiB") == 0)
			mul = 1024;
		else if (strcasecmp(end, "MB") == 0 || strcasecmp(end, "M") == 0 || strcasecmp(end, "MiB") == 0)
			mul = 1024 * 1024;
		else
			return -1;
	}
	if (v > 0xffffffffULL / mul)
		return -1;
	*out = (uint32_t)(v * mul);
	return 0;
}

static int
to_num(struct pctx *c, const struct ynode *v, const char *key, int units, uint32_t *out)
{
	if (v->type != YN_SCALAR || v->quoted || parse_num(v->str, units, out) != 0) {
		if (v->type != YN_SCALAR)
			perr(c, v, "'%s' must be a number, got %s", key, yn_what(v));
		else
			perr(c, v, "'%s' must be %s, got '%s'", key,
			    units ? "a size such as 1MB, 512KB or 0x100000" :
			    "a number such as 4096 or 0x1000", v->str);
		return -1;
	}
	return 0;
}

/* A flash size: a number with a unit, and a power of two from 256 KB to 256 MB. */
static int
to_size(struct pctx *c, const struct ynode *v, const char *key, uint32_t *out)
{
	if (to_num(c, v, key, 1, out) != 0)
		return -1;
	if (*out == 0 || (*out & (*out - 1)) != 0) {
		perr(c, v, "'%s' is %s, which is not a power of two; flash chips come in 256KB, "
		    "512KB, 1MB, 2MB, 4MB, 8MB or 16MB", key, v->str);
		return -1;
	}
	if (*out < (256u << 10) || *out > (256u << 20)) {
		perr(c, v, "'%s' is %s; expected a flash size from 256KB to 256MB", key, v->str);
		return -1;
	}
	return 0;
}

/* Matches v against a table of names; reports the allowed values otherwise. */
static int
to_enum(struct pctx *c, const struct ynode *v, const char *key, const char *const *names, int *out)
{
	char list[256];
	size_t off = 0;

	if (v->type == YN_SCALAR) {
		for (int i = 0; names[i] != NULL; i++) {
			if (strcasecmp(names[i], v->str) == 0) {
				*out = i;
				return 0;
			}
		}
	}
	list[0] = '\0';
	for (int i = 0; names[i] != NULL && off < sizeof list; i++)
		off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", names[i]);
	if (v->type == YN_SCALAR)
		perr(c, v, "'%s' is '%s'; allowed values: %s", key, v->str, list);
	else
		perr(c, v, "'%s' must be one of %s, got %s", key, list, yn_what(v));
	return -1;
}

static const char *const chip_names[] = { "esp8266", "esp8285", "esp8266-or-esp8285", "not-esp8266", NULL };
static const char *const mode_names[] = { "qio", "qout", "dio", "dout", NULL };
static const char *const freq_names[] = { "80m", "40m", "26m", "20m", NULL };
static const int freq_mhz[] = { 80, 40, 26, 20 };
static const char *const kind_names[] = { "device", "generic", NULL };

static int
valid_name(const char *s)
{
	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return 0;
	for (const char *q = s; *q != '\0'; q++)
		if (!islower((unsigned char)*q) && !isdigit((unsigned char)*q) && *q != '-' && *q != '.')
			return 0;
	return strlen(s) <= 64;
}

static void
walk_claims(struct pctx *c, const struct ynode *v, struct profile *p)
{
	if (v->type != YN_SEQ) {
		perr(c, v, "'chip_claims' must be a list of {chip, source} mappings, got %s", yn_what(v));
		return;
	}
	if (v->nkids > 0)
		p->claims = xcalloc(v->nkids, sizeof *p->claims);
	for (size_t i = 0; i < v->nkids; i++) {
		const struct ynode *m = v->kids[i], *x;
		struct profile_claim *cl = &p->claims[p->nclaims];
		int chip = 0;

		if (m->type != YN_MAP) {
			perr(c, m, "each chip claim must be a mapping with 'chip' and 'source', got %s",
			    yn_what(m));
			continue;
		}
		check_keys(c, m, claim_keys, "a chip claim");
		if ((x = need(c, m, "chip", "(esp8266, esp8285 or not-esp8266)")) != NULL)
			to_enum(c, x, "chip", chip_names, &chip);
		cl->chip = (enum profile_chip)chip;
		cl->source = req_str(c, m, "source", "(who says so: repo:path, owner/repo#N or a URL)");
		cl->note = opt_str(c, m, "note");
		if ((x = get(m, "inferred")) != NULL)
			cl->inferred = to_bool(c, x, "inferred");
		p->nclaims++;
	}
}

static void
walk_jedec(struct pctx *c, const struct ynode *v, struct profile *p)
{
	if (v->type != YN_SEQ) {
		perr(c, v, "'flash_ids' must be a list of {id, source} mappings, got %s", yn_what(v));
		return;
	}
	if (v->nkids > 0)
		p->jedec = xcalloc(v->nkids, sizeof *p->jedec);
	for (size_t i = 0; i < v->nkids; i++) {
		const struct ynode *m = v->kids[i], *x;
		struct profile_jedec *j = &p->jedec[p->njedec];

		if (m->type != YN_MAP) {
			perr(c, m, "each flash id must be a mapping with 'id' and 'source', got %s", yn_what(m));
			continue;
		}
		check_keys(c, m, jedec_keys, "a flash id");
		if ((x = need(c, m, "id", "(JEDEC order, e.g. 0xEF4016)")) != NULL &&
		    to_num(c, x, "id", 0, &j->id) == 0) {
			if (j->id > 0xffffff)
				perr(c, x, "flash id %s has more than 3 bytes; write it as 0xMMTTCC "
				    "(manufacturer, type, capacity), e.g. 0xEF4016", x->str);
			else if (j->id == 0 || j->id == 0xffffff)
				perr(c, x, "flash id %s is what a flash that did not answer reads as; "
				    "remove it", x->str);
		}
		j->part = opt_str(c, m, "part");
		j->source = req_str(c, m, "source", "(who reported it)");
		j->note = opt_str(c, m, "note");
		if ((x = get(m, "inferred")) != NULL)
			j->inferred = to_bool(c, x, "inferred");
		p->njedec++;
	}
}

static void
walk_map(struct pctx *c, const struct ynode *v, struct profile *p)
{
	const struct ynode *x, *regs;

	if (v->type != YN_MAP) {
		perr(c, v, "'flash_map' must be a mapping with size, layout and regions, got %s", yn_what(v));
		return;
	}
	check_keys(c, v, map_keys, "flash_map");
	if ((x = need(c, v, "size", "(the flash size this map is laid out for, e.g. 1MB)")) != NULL)
		to_size(c, x, "size", &p->map_size);
	p->map_layout = opt_str(c, v, "layout");
	if ((regs = need(c, v, "regions", NULL)) == NULL)
		return;
	if (regs->type != YN_SEQ) {
		perr(c, regs, "'regions' must be a list of {name, offset, size} mappings, got %s",
		    yn_what(regs));
		return;
	}
	if (regs->nkids > 0)
		p->regions = xcalloc(regs->nkids, sizeof *p->regions);
	for (size_t i = 0; i < regs->nkids; i++) {
		const struct ynode *m = regs->kids[i], *off, *sz;
		struct profile_region *r = &p->regions[p->nregions];

		if (m->type != YN_MAP) {
			perr(c, m, "each region must be a mapping with name, offset and size, got %s",
			    yn_what(m));
			continue;
		}
		check_keys(c, m, region_keys, "a flash map region");
		r->name = req_str(c, m, "name", NULL);
		r->note = opt_str(c, m, "note");
		off = need(c, m, "offset", "(e.g. 0x1000)");
		sz = need(c, m, "size", "(e.g. 0x1000 or 4KB)");
		p->nregions++;
		if (off == NULL || sz == NULL || to_num(c, off, "offset", 0, &r->offset) != 0 ||
		    to_num(c, sz, "size", 1, &r->size) != 0)
			continue;
		if (r->size == 0)
			perr(c, sz, "region size is 0");
		else if (p->map_size != 0 && ((uint64_t)r->offset + r->size > p->map_size))
			perr(c, off, "region %s+%s ends past the map's size 0x%X", off->str, sz->str,
			    (unsigned)p->map_size);
	}
}

static void
walk_gpio(struct pctx *c, const struct ynode *v, struct profile *p)
{
	if (v->type != YN_MAP) {
		perr(c, v, "'gpio' must be a mapping of pin numbers to uses (e.g. 12: relay), got %s",
		    yn_what(v));
		return;
	}
	if (v->nkids > 0)
		p->gpios = xcalloc(v->nkids / 2 + 1, sizeof *p->gpios);
	for (size_t i = 0; i + 1 < v->nkids; i += 2) {
		const struct ynode *k = v->kids[i], *val = v->kids[i + 1];
		uint32_t pin;
		char *use;

		if (k->type != YN_SCALAR || parse_num(k->str, 0, &pin) != 0 || pin > 16) {
			perr(c, k, "GPIO '%s' is not a pin number; the ESP8266 has GPIO 0 to 16",
			    k->type == YN_SCALAR ? k->str : yn_what(k));
			continue;
		}
		for (size_t j = 0; j < p->ngpios; j++)
			if (p->gpios[j].pin == (int)pin)
				perr(c, k, "GPIO %u is listed twice; describe all its uses in one line",
				    (unsigned)pin);
		if ((use = to_str(c, val, "gpio")) == NULL)
			continue;
		p->gpios[p->ngpios].pin = (int)pin;
		p->gpios[p->ngpios++].use = use;
	}
}

/* The sizes must tell one story: a firmware map cannot be larger than the chip. */
static void
check_sizes(struct pctx *c, const struct ynode *root, struct profile *p)
{
	const struct ynode *fw = get(root, "firmware_size"), *map = get(root, "flash_map"), *ms;
	uint32_t biggest = 0;

	for (size_t i = 0; i < p->nsizes; i++)
		if (p->sizes[i] > biggest)
			biggest = p->sizes[i];
	if (fw != NULL && p->firmware_size != 0 && biggest != 0 && p->firmware_size > biggest)
		perr(c, fw, "firmware_size %s is larger than the biggest flash_size seen (0x%X bytes); "
		    "fix one of them", fw->str, (unsigned)biggest);
	if (map != NULL && map->type == YN_MAP && (ms = get(map, "size")) != NULL && p->map_size != 0) {
		if (p->firmware_size != 0 && p->map_size != p->firmware_size)
			perr(c, ms, "flash_map size %s differs from firmware_size 0x%X; the map is the "
			    "stock firmware's, so they must agree", ms->str, (unsigned)p->firmware_size);
		else if (p->firmware_size == 0 && biggest != 0 && p->map_size > biggest)
			perr(c, ms, "flash_map size %s is larger than the biggest flash_size seen (0x%X bytes)",
			    ms->str, (unsigned)biggest);
	}
}

static void
walk_profile(struct pctx *c, const struct ynode *root, struct profile *p)
{
	const struct ynode *v;
	int e;

	if (root->type != YN_MAP) {
		perr(c, root, "a profile must be a mapping of keys (name:, title:, ...), got %s",
		    yn_what(root));
		return;
	}
	check_keys(c, root, top_keys, "a profile");
	p->line = (int)root->line;

	if ((v = get(root, "name")) != NULL) {
		p->name_line = (int)v->line;
		p->name_col = (int)v->col;
	}
	if ((p->name = req_str(c, root, "name", "(the profile's id, e.g. pow-r2)")) != NULL &&
	    !valid_name(p->name))
		perr(c, get(root, "name"), "name '%s' must be lower-case letters, digits, '-' and '.' "
		    "(e.g. 'pow-r2'); put the display name in 'title'", p->name);
	p->title = req_str(c, root, "title", "(the name people know, e.g. \"Sonoff Pow R2\")");
	p->vendor = req_str(c, root, "vendor", NULL);
	if ((v = get(root, "aliases")) != NULL) {
		p->aliases = to_strv(c, v, "aliases", &p->naliases, 0);
		if (p->naliases > 0) {
			p->alias_line = xcalloc(p->naliases, sizeof *p->alias_line);
			p->alias_col = xcalloc(p->naliases, sizeof *p->alias_col);
			for (size_t i = 0, k = 0; i < v->nkids && k < p->naliases; i++) {
				if (v->kids[i]->type != YN_SCALAR || is_null(v->kids[i]))
					continue;
				p->alias_line[k] = (int)v->kids[i]->line;
				p->alias_col[k++] = (int)v->kids[i]->col;
			}
		}
		for (size_t i = 0; i < p->naliases; i++) {
			for (size_t j = 0; j < i; j++)
				if (strcasecmp(p->aliases[i], p->aliases[j]) == 0)
					perr_at(c, (size_t)p->alias_line[i], (size_t)p->alias_col[i],
					    "alias '%s' is listed twice", p->aliases[i]);
			if (p->name != NULL && strcasecmp(p->aliases[i], p->name) == 0)
				perr_at(c, (size_t)p->alias_line[i], (size_t)p->alias_col[i],
				    "alias '%s' is the profile's own name", p->aliases[i]);
		}
	}
	if ((v = get(root, "kind")) != NULL && to_enum(c, v, "kind", kind_names, &e) == 0)
		p->kind = (enum profile_kind)e;
	p->revisions = opt_str(c, root, "revisions");

	if ((v = need(c, root, "chip", "(esp8266, esp8285, esp8266-or-esp8285 or not-esp8266)")) != NULL &&
	    to_enum(c, v, "chip", chip_names, &e) == 0)
		p->chip = (enum profile_chip)e;
	p->chip_note = opt_str(c, root, "chip_note");
	if ((v = get(root, "chip_claims")) != NULL)
		walk_claims(c, v, p);
	if ((v = get(root, "locked")) != NULL)
		p->locked = to_bool(c, v, "locked");

	if (get(root, "chip") == NULL) {
		/* already reported */
	} else if (p->chip == PROFILE_CHIP_NOT_ESP8266) {
		p->real_chip = req_str(c, root, "real_chip", "(chip: not-esp8266 needs the real chip, e.g. ESP32-C3)");
	} else {
		if ((v = get(root, "real_chip")) != NULL)
			perr(c, v, "'real_chip' is only for chip: not-esp8266; remove it");
		if ((v = get(root, "locked")) != NULL)
			perr(c, v, "'locked' is only for chip: not-esp8266; remove it");
	}

	if ((v = get(root, "flash_size")) != NULL) {
		if (v->type == YN_SEQ) {
			if (v->nkids > 0)
				p->sizes = xcalloc(v->nkids, sizeof *p->sizes);
			for (size_t i = 0; i < v->nkids; i++)
				if (to_size(c, v->kids[i], "flash_size", &p->sizes[p->nsizes]) == 0)
					p->nsizes++;
		} else {
			p->sizes = xcalloc(1, sizeof *p->sizes);
			if (to_size(c, v, "flash_size", &p->sizes[0]) == 0)
				p->nsizes = 1;
		}
	}
	if ((v = get(root, "firmware_size")) != NULL)
		to_size(c, v, "firmware_size", &p->firmware_size);
	p->mode = PROFILE_MODE_DOUT;
	p->freq_mhz = 40;
	if (p->chip != PROFILE_CHIP_NOT_ESP8266) {
		if ((v = need(c, root, "flash_mode", "(the mode to write: qio, qout, dio or dout)")) != NULL &&
		    to_enum(c, v, "flash_mode", mode_names, &e) == 0)
			p->mode = (enum profile_mode)e;
		p->mode_reason = req_str(c, root, "flash_mode_reason", "(why this mode; people check it)");
		p->download_mode = req_str(c, root, "download_mode",
		    "(how to hold GPIO0 low at power-up, in words a person can follow)");
	} else {
		if ((v = get(root, "flash_mode")) != NULL && to_enum(c, v, "flash_mode", mode_names, &e) == 0)
			p->mode = (enum profile_mode)e;
		p->mode_reason = opt_str(c, root, "flash_mode_reason");
		p->download_mode = opt_str(c, root, "download_mode");
	}
	if ((v = get(root, "flash_freq")) != NULL && to_enum(c, v, "flash_freq", freq_names, &e) == 0)
		p->freq_mhz = freq_mhz[e];
	if ((v = get(root, "flash_ids")) != NULL)
		walk_jedec(c, v, p);
	p->flash_note = opt_str(c, root, "flash_note");
	if ((v = get(root, "header")) != NULL)
		p->header_pins = to_strv(c, v, "header", &p->nheader_pins, 0);
	p->header_note = opt_str(c, root, "header_note");
	p->download_hint = opt_str(c, root, "download_hint");
	if (p->download_hint != NULL && strlen(p->download_hint) > 35)
		perr(c, get(root, "download_hint"), "'download_hint' is %zu characters; keep it to 35 "
		    "so the profile table fits 80 columns (the full text goes in download_mode)",
		    strlen(p->download_hint));
	if ((v = get(root, "mains_live_ground")) != NULL)
		p->mains_live = to_bool(c, v, "mains_live_ground");
	if ((v = get(root, "warnings")) != NULL)
		p->warnings = to_strv(c, v, "warnings", &p->nwarnings, 1);
	if (p->mains_live && p->nwarnings == 0)
		perr(c, get(root, "mains_live_ground"), "mains_live_ground is true but there are no "
		    "'warnings'; say what to do (never connect serial while it is on mains)");
	if ((v = get(root, "flash_map")) != NULL)
		walk_map(c, v, p);
	if ((v = get(root, "gpio")) != NULL)
		walk_gpio(c, v, p);
	check_sizes(c, root, p);
	if ((v = get(root, "notes")) != NULL)
		p->notes = to_strv(c, v, "notes", &p->nnotes, 1);
	if ((v = need(c, root, "sources", "(where the facts come from)")) != NULL) {
		p->sources = to_strv(c, v, "sources", &p->nsources, 1);
		if (p->nsources == 0 && v->type == YN_SEQ)
			perr(c, v, "'sources' is empty; every profile cites where its facts come from");
	}
}

int
profile_parse(const char *path, const void *data, size_t len, struct profile **out, char ***errs,
    size_t *nerrs)
{
	struct pctx c = { path, errs, nerrs, 0 };
	struct ynode *root;
	struct profile *p;

	*out = NULL;
	if (len > PY_MAX_INPUT) {
		perr_at(&c, 1, 1, "the file is %zu bytes; a profile is a few KB (limit %u)", len,
		    PY_MAX_INPUT);
		return RC_ERR_FORMAT;
	}
	if ((root = yn_build(&c, data, len)) == NULL)
		return RC_ERR_FORMAT;
	p = xcalloc(1, sizeof *p);
	p->path = xstrdup(path);
	walk_profile(&c, root, p);
	yn_free(root);
	if (c.nerr > 0) {
		profile_free(p);
		return RC_ERR_FORMAT;
	}
	*out = p;
	return RC_OK;
}

int
profile_parse_file(const char *path, struct profile **out, char ***errs, size_t *nerrs)
{
	FILE *f;
	char *data = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		*errs = xreallocarray(*errs, *nerrs + 1, sizeof **errs);
		(*errs)[(*nerrs)++] = xfmt("%s: cannot open: %s", path, strerror(errno));
		return RC_ERR_IO;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			data = xreallocarray(data, cap, 1);
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len <= PY_MAX_INPUT);
	if (ferror(f)) {
		*errs = xreallocarray(*errs, *nerrs + 1, sizeof **errs);
		(*errs)[(*nerrs)++] = xfmt("%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		free(data);
		return RC_ERR_IO;
	}
	fclose(f);
	rc = profile_parse(path, data, len, out, errs, nerrs);
	free(data);
	return rc;
}
