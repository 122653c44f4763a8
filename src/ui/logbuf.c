/* The log pane's scrollback: a ring of lines with a follow/frozen view, search and save. */
#include "config.h"

#include "ui/logbuf.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "core/esc.h"
#include "core/xmalloc.h"

struct logbuf {
	struct logbuf_line *v;  /* ring of cap lines */
	size_t cap, start, n;
	uint64_t next_seq, dropped;
	int frozen;
	uint64_t bottom_seq;    /* while frozen: the bottom line shown */
	uint64_t unseen;        /* lines added while frozen */
};

struct logbuf *
logbuf_new(size_t max_lines)
{
	struct logbuf *lb = xcalloc(1, sizeof *lb);

	lb->cap = max_lines ? max_lines : LOGBUF_DEFAULT_LINES;
	lb->v = xcalloc(lb->cap, sizeof *lb->v);
	lb->next_seq = 1;
	return lb;
}

static void
logbuf_line_free(struct logbuf_line *l)
{
	free(l->text);
	free(l->raw);
	free(l->annot);
	memset(l, 0, sizeof *l);
}

void
logbuf_free(struct logbuf *lb)
{
	if (lb == NULL)
		return;
	logbuf_clear(lb);
	free(lb->v);
	free(lb);
}

uint64_t
logbuf_add(struct logbuf *lb, enum logbuf_role role, int64_t time_ms, const void *raw,
    size_t len, const char *annot)
{
	struct logbuf_line *l;
	size_t tsize = len * 4 + 1;

	if (lb->n == lb->cap) {
		logbuf_line_free(&lb->v[lb->start]);
		lb->start = (lb->start + 1) % lb->cap;
		lb->n--;
		lb->dropped++;
	}
	l = &lb->v[(lb->start + lb->n) % lb->cap];
	lb->n++;
	l->seq = lb->next_seq++;
	l->time_ms = time_ms;
	l->role = role;
	l->text = xmalloc(tsize);
	/* Notes are our own text; device bytes are escaped (a lone ESC must not reach the tty). */
	esc_bytes(l->text, tsize, raw, len, ESC_KEEP_UTF8);
	if (role != LOGBUF_NOTE && len > 0) {
		l->raw = xmalloc(len);
		memcpy(l->raw, raw, len);
		l->rawlen = len;
	}
	l->annot = annot != NULL && *annot != '\0' ? xstrdup(annot) : NULL;
	if (lb->frozen)
		lb->unseen++;
	return l->seq;
}

void
logbuf_clear(struct logbuf *lb)
{
	for (size_t i = 0; i < lb->n; i++)
		logbuf_line_free(&lb->v[(lb->start + i) % lb->cap]);
	lb->start = lb->n = 0;
	lb->frozen = 0;
	lb->unseen = 0;
}

size_t
logbuf_count(const struct logbuf *lb)
{
	return lb->n;
}

size_t
logbuf_max(const struct logbuf *lb)
{
	return lb->cap;
}

uint64_t
logbuf_dropped(const struct logbuf *lb)
{
	return lb->dropped;
}

const struct logbuf_line *
logbuf_get(const struct logbuf *lb, size_t idx)
{
	if (idx >= lb->n)
		return NULL;
	return &lb->v[(lb->start + idx) % lb->cap];
}

long
logbuf_find_seq(const struct logbuf *lb, uint64_t seq)
{
	uint64_t first;

	if (lb->n == 0)
		return -1;
	first = logbuf_get(lb, 0)->seq;
	if (seq < first || seq >= first + lb->n)
		return -1;
	return (long)(seq - first);
}

int
logbuf_following(const struct logbuf *lb)
{
	return !lb->frozen;
}

long
logbuf_bottom(const struct logbuf *lb)
{
	long idx;

	if (lb->n == 0)
		return -1;
	if (!lb->frozen)
		return (long)lb->n - 1;
	/* The frozen line may have been dropped from the ring since: show the oldest held. */
	if ((idx = logbuf_find_seq(lb, lb->bottom_seq)) < 0)
		return 0;
	return idx;
}

uint64_t
logbuf_unseen(const struct logbuf *lb)
{
	return lb->frozen ? lb->unseen : 0;
}

void
logbuf_show(struct logbuf *lb, size_t idx)
{
	if (lb->n == 0)
		return;
	if (idx >= lb->n - 1) {
		logbuf_follow(lb);
		return;
	}
	if (!lb->frozen)
		lb->unseen = 0;
	lb->frozen = 1;
	lb->bottom_seq = logbuf_get(lb, idx)->seq;
}

void
logbuf_follow(struct logbuf *lb)
{
	lb->frozen = 0;
	lb->unseen = 0;
}

void
logbuf_scroll(struct logbuf *lb, long delta)
{
	long b = logbuf_bottom(lb);

	if (b < 0)
		return;
	b += delta;
	if (b < 0)
		b = 0;
	if (b >= (long)lb->n - 1)
		logbuf_follow(lb);
	else
		logbuf_show(lb, (size_t)b);
}

long
logbuf_search(const struct logbuf *lb, const char *re, int icase, int dir, long from,
    char **cause)
{
	regex_t rx;
	int r;
	long i;

	*cause = NULL;
	if ((r = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0))) != 0) {
		char msg[160];

		regerror(r, &rx, msg, sizeof msg);
		*cause = xfmt("search: '%s' is not a valid regular expression: %s; fix it and search "
		    "again (a plain word works)", re, msg);
		return RC_ERR_FORMAT;
	}
	if (dir >= 0)
		i = from < 0 ? 0 : from + 1;
	else
		i = from < 0 ? (long)lb->n - 1 : from - 1;
	for (; i >= 0 && i < (long)lb->n; i += dir >= 0 ? 1 : -1) {
		const struct logbuf_line *l = logbuf_get(lb, (size_t)i);

		if (regexec(&rx, l->text, 0, NULL, 0) == 0 ||
		    (l->annot != NULL && regexec(&rx, l->annot, 0, NULL, 0) == 0))
			break;
	}
	regfree(&rx);
	return i >= 0 && i < (long)lb->n ? i : -1;
}

void
logbuf_stamp(int64_t time_ms, char *dst, size_t size)
{
	time_t t = (time_t)(time_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(dst, size, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(time_ms % 1000));
}

char *
logbuf_hex(const struct logbuf_line *l, char *dst, size_t size)
{
	size_t o = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < l->rawlen && o + 4 <= size; i++)
		o += (size_t)snprintf(dst + o, size - o, i ? " %02x" : "%02x", l->raw[i]);
	return dst;
}

int
logbuf_save(const struct logbuf *lb, const char *path, int stamps, char **cause)
{
	FILE *f;
	char ts[32];

	*cause = NULL;
	if ((f = fopen(path, "w")) == NULL) {
		*cause = xfmt("cannot save the log to %s: %s; choose another file", path,
		    strerror(errno));
		return RC_ERR_IO;
	}
	for (size_t i = 0; i < lb->n; i++) {
		const struct logbuf_line *l = logbuf_get(lb, i);

		if (stamps) {
			logbuf_stamp(l->time_ms, ts, sizeof ts);
			fprintf(f, "%s ", ts);
		}
		fprintf(f, "%s\n", l->text);
		if (l->annot != NULL)
			fprintf(f, "    = %s\n", l->annot);
	}
	if (ferror(f) | (fclose(f) != 0)) {
		*cause = xfmt("writing the log to %s failed: %s; check the disk space", path,
		    strerror(errno));
		return RC_ERR_IO;
	}
	return RC_OK;
}
