/*
 * profile_set.c: the search path and loading many profiles at once.
 *
 * Precedence (doc/profiles.md, "Where profiles come from"): the search path is listed highest
 * precedence first, like $PATH. Loading walks it the other way round, lowest first, so "a later
 * file overrides an earlier one of the same name" and "the user's config wins over the
 * installed files" are the same rule. A clash of names or aliases between two different
 * profiles is blamed on the file loaded later (the higher-precedence one, usually the user's):
 * shipped profiles never disappear because of a user's typo, and the message says how to
 * override on purpose.
 */
#include "config.h"

#include "profile/profile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

static void
add_str(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = s;
}

int
profile_running_uninstalled(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	size_t bl = strlen(ESPDESK_BUILDDIR);

	if (n <= 0)
		return 0;
	self[n] = '\0';
	return strncmp(self, ESPDESK_BUILDDIR, bl) == 0 && self[bl] == '/';
}

char **
profile_search_path(int uninstalled)
{
	const char *env = getenv("ESPDESK_PROFILE_PATH"), *xdg, *home;
	char **v = NULL;
	size_t n = 0;

	if (env != NULL && *env != '\0') {
		char *copy = xstrdup(env), *save = NULL;

		for (char *tok = strtok_r(copy, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save))
			add_str(&v, &n, xstrdup(tok));
		free(copy);
	} else {
		xdg = getenv("XDG_CONFIG_HOME");
		home = getenv("HOME");
		if (xdg != NULL && xdg[0] == '/')
			add_str(&v, &n, xfmt("%s/espdesk/profiles", xdg));
		else if (home != NULL && *home != '\0')
			add_str(&v, &n, xfmt("%s/.config/espdesk/profiles", home));
		if (uninstalled)
			add_str(&v, &n, xfmt("%s/profiles", ESPDESK_SRCDIR));
		else
			add_str(&v, &n, xfmt("%s/profiles", ESPDESK_DATADIR));
	}
	add_str(&v, &n, NULL);
	return v;
}

static int
has_yaml_suffix(const char *s)
{
	size_t l = strlen(s);

	return (l > 5 && strcmp(s + l - 5, ".yaml") == 0) || (l > 4 && strcmp(s + l - 4, ".yml") == 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files an entry stands for, in strcmp order. A missing directory yields none. */
static char **
entry_files(const char *entry, size_t *n, struct profile_set *s)
{
	struct stat st;
	char **v = NULL;
	DIR *d;
	struct dirent *de;

	*n = 0;
	if (stat(entry, &st) != 0) {
		if (errno != ENOENT || has_yaml_suffix(entry))
			add_str(&s->errors, &s->nerrors, xfmt("%s: cannot open: %s", entry, strerror(errno)));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_str(&v, n, xstrdup(entry));
		return v;
	}
	if ((d = opendir(entry)) == NULL) {
		add_str(&s->errors, &s->nerrors, xfmt("%s: cannot read the directory: %s", entry,
		    strerror(errno)));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !has_yaml_suffix(de->d_name))
			continue;
		add_str(&v, n, xfmt("%s/%s", entry, de->d_name));
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

static int
names_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Is `key` the name or an alias of q? Returns 0, 1 (name) or 2 (alias). */
static int
profile_has_key(const struct profile *q, const char *key)
{
	if (names_equal(q->name, key))
		return 1;
	for (size_t i = 0; i < q->naliases; i++)
		if (names_equal(q->aliases[i], key))
			return 2;
	return 0;
}

/* Checks p's name and aliases against every profile in s but `skip`. Reports and returns -1. */
static int
check_clashes(struct profile_set *s, const struct profile *p, const struct profile *skip)
{
	for (size_t k = 0; k <= p->naliases; k++) {
		const char *key = k == 0 ? p->name : p->aliases[k - 1];
		int line = k == 0 ? p->name_line : p->alias_line[k - 1];
		int col = k == 0 ? p->name_col : p->alias_col[k - 1];

		for (size_t i = 0; i < s->n; i++) {
			const struct profile *q = s->v[i];
			int how;

			if (q == skip || (how = profile_has_key(q, key)) == 0)
				continue;
			add_str(&s->errors, &s->nerrors, xfmt("%s:%d:%d: %s '%s' is already %s profile '%s' "
			    "(%s:%d); choose another %s, or call this profile '%s' to replace that one; "
			    "this file was skipped", p->path, line, col, k == 0 ? "name" : "alias", key,
			    how == 1 ? "the name of" : "an alias of", q->name, q->path, q->line,
			    k == 0 ? "name" : "alias", q->name));
			return -1;
		}
	}
	return 0;
}

static void
set_add(struct profile_set *s, struct profile *p)
{
	struct profile *old = NULL;
	size_t oldi = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (names_equal(s->v[i]->name, p->name)) {
			old = s->v[i];
			oldi = i;
			break;
		}
	}
	if (old != NULL && old->origin == p->origin) {
		add_str(&s->errors, &s->nerrors, xfmt("%s:%d:%d: duplicate profile name '%s': %s:%d "
		    "already defines it in the same directory; rename one of them; this file was skipped",
		    p->path, p->name_line, p->name_col, p->name, old->path, old->line));
		profile_free(p);
		return;
	}
	if (check_clashes(s, p, old) != 0) {
		profile_free(p);
		return;
	}
	if (old != NULL) {
		/* The same file reached twice (checked by name and found on the path) is no override. */
		if (strcmp(old->path, p->path) != 0)
			p->overrides = xstrdup(old->path);
		profile_free(old);
		s->v[oldi] = p;
		return;
	}
	s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
	s->v[s->n++] = p;
}

static int
cmp_profile(const void *a, const void *b)
{
	return strcmp((*(struct profile *const *)a)->name, (*(struct profile *const *)b)->name);
}

struct profile_set *
profile_set_load(char *const *entries, size_t nentries)
{
	struct profile_set *s = xcalloc(1, sizeof *s);

	for (size_t i = 0; i < nentries; i++)
		add_str(&s->dirs, &s->ndirs, xstrdup(entries[i]));
	for (size_t e = nentries; e-- > 0;) {
		size_t nfiles;
		char **files = entry_files(entries[e], &nfiles, s);

		for (size_t f = 0; f < nfiles; f++) {
			struct profile *p;

			if (profile_parse_file(files[f], &p, &s->errors, &s->nerrors) == RC_OK) {
				p->origin = e;
				set_add(s, p);
			}
			free(files[f]);
		}
		free(files);
	}
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, cmp_profile);
	return s;
}

struct profile_set *
profile_set_load_default(void)
{
	char **path = profile_search_path(profile_running_uninstalled());
	size_t n = 0;
	struct profile_set *s;

	while (path[n] != NULL)
		n++;
	s = profile_set_load(path, n);
	for (size_t i = 0; i < n; i++)
		free(path[i]);
	free(path);
	return s;
}

void
profile_set_free(struct profile_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		profile_free(s->v[i]);
	free(s->v);
	for (size_t i = 0; i < s->nerrors; i++)
		free(s->errors[i]);
	free(s->errors);
	for (size_t i = 0; i < s->ndirs; i++)
		free(s->dirs[i]);
	free(s->dirs);
	free(s);
}

/* Lower-case with spaces, '-', '_' and '.' dropped: "Pow R2" and "pow-r2" compare equal. */
static void
squash(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < size; in++)
		if (*in != ' ' && *in != '-' && *in != '_' && *in != '.')
			out[o++] = (char)tolower((unsigned char)*in);
	out[o] = '\0';
}

const struct profile *
profile_set_find(const struct profile_set *s, const char *name)
{
	char want[128], have[128];

	for (size_t i = 0; i < s->n; i++)
		if (profile_has_key(s->v[i], name))
			return s->v[i];
	squash(name, want, sizeof want);
	if (want[0] == '\0')
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct profile *p = s->v[i];

		for (size_t k = 0; k <= p->naliases; k++) {
			squash(k == 0 ? p->name : p->aliases[k - 1], have, sizeof have);
			if (strcmp(want, have) == 0)
				return p;
		}
	}
	return NULL;
}

size_t
profile_set_suggest(const struct profile_set *s, const char *name, const char **out, size_t max)
{
	char want[128], have[128];
	size_t n = 0;

	squash(name, want, sizeof want);
	for (size_t d = 0; d <= 3 && n < max; d++) {
		for (size_t i = 0; i < s->n && n < max; i++) {
			const struct profile *p = s->v[i];
			size_t best = (size_t)-1;

			for (size_t k = 0; k <= p->naliases; k++) {
				size_t dist;

				squash(k == 0 ? p->name : p->aliases[k - 1], have, sizeof have);
				dist = profile_edit_distance(want, have);
				if (dist < best)
					best = dist;
			}
			if (best == d)
				out[n++] = p->name;
		}
	}
	return n;
}
