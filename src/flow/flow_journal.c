/*
 * flow_journal.c: the flow journal, "key value" lines, one per fact. Written whole and atomically
 * (afile) after every proven step; read back by a parser over the file's bytes that rejects any
 * line it does not understand, with the line number.
 */
#include "config.h"

#include "flow/flow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/backup.h"
#include "core/afile.h"
#include "core/xmalloc.h"

#define JOURNAL_MAX 8192

char *
flow_journal_path(void)
{
	char *root = backup_root(), *slash = strrchr(root, '/'), *p;

	/* backup_root() is DATA/espdesk/backups: the journal sits next to it. */
	if (slash != NULL)
		*slash = '\0';
	p = xfmt("%s/flow.journal", root);
	free(root);
	return p;
}

static int
set_str(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
set_u32(uint32_t *dst, const char *v)
{
	char *end;
	unsigned long long n;

	if (*v == '\0' || *v == '-' || *v == ' ')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno || *end || n > UINT32_MAX)
		return -1;
	*dst = (uint32_t)n;
	return 0;
}

static int
set_flag(int *dst, const char *v)
{
	if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
		return -1;
	*dst = *v == '1';
	return 0;
}

static int
set_mac(uint8_t mac[6], const char *v)
{
	unsigned b[6];
	char tail;

	if (strlen(v) != 17 || sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
	    &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int
apply(struct flow_journal *j, const char *k, const char *v)
{
	uint32_t u;

	if (strcmp(k, "flow") == 0)
		return set_str(j->flow, sizeof j->flow, v);
	if (strcmp(k, "port") == 0)
		return set_str(j->port, sizeof j->port, v);
	if (strcmp(k, "file") == 0)
		return set_str(j->file, sizeof j->file, v);
	if (strcmp(k, "backup") == 0)
		return set_str(j->backup, sizeof j->backup, v);
	if (strcmp(k, "profile") == 0)
		return set_str(j->profile, sizeof j->profile, v);
	if (strcmp(k, "failed") == 0)
		return set_str(j->failed, sizeof j->failed, v);
	if (strcmp(k, "chip_id") == 0) {
		j->have_device = 1;
		return set_u32(&j->chip_id, v);
	}
	if (strcmp(k, "mac") == 0) {
		j->have_mac = 1;
		return set_mac(j->mac, v);
	}
	if (strcmp(k, "done") == 0 || strcmp(k, "skipped") == 0) {
		if (set_u32(&u, v) != 0 || u >= (1u << FLOW_MAX_STEPS))
			return -1;
		if (k[0] == 'd')
			j->done = u;
		else
			j->skipped = u;
		return 0;
	}
	if (strcmp(k, "finished") == 0)
		return set_flag(&j->finished, v);
	if (strcmp(k, "manual") == 0)
		return set_flag(&j->manual, v);
	if (strcmp(k, "no_backup") == 0)
		return set_flag(&j->no_backup, v);
	if (strcmp(k, "other_unit") == 0)
		return set_flag(&j->other_unit, v);
	if (strcmp(k, "relayout") == 0)
		return set_flag(&j->relayout, v);
	return -2;
}

int
flow_journal_parse(const char *name, const uint8_t *buf, size_t len, struct flow_journal *j,
    char **cause)
{
	size_t pos = 0;
	unsigned line = 0;

	*cause = NULL;
	memset(j, 0, sizeof *j);
	if (len > JOURNAL_MAX) {
		*cause = xfmt("%s: %zu bytes is too large for a flow journal; run `espdesk flow "
		    "abort` to forget it", name, len);
		return RC_ERR_FORMAT;
	}
	while (pos < len) {
		char text[600], *sp;
		size_t end = pos;
		int r;

		while (end < len && buf[end] != '\n')
			end++;
		line++;
		if (end - pos >= sizeof text || memchr(buf + pos, '\0', end - pos) != NULL) {
			*cause = xfmt("%s:%u: line too long or not text; run `espdesk flow abort` to "
			    "forget the journal", name, line);
			return RC_ERR_FORMAT;
		}
		memcpy(text, buf + pos, end - pos);
		text[end - pos] = '\0';
		for (size_t i = 0; i < end - pos; i++)
			if ((uint8_t)text[i] < 0x20 && text[i] != '\t') {
				*cause = xfmt("%s:%u: control character in the line; run `espdesk flow "
				    "abort` to forget the journal", name, line);
				return RC_ERR_FORMAT;
			}
		pos = end + 1;
		if (text[0] == '\0' || text[0] == '#')
			continue;
		if ((sp = strchr(text, ' ')) == NULL) {
			*cause = xfmt("%s:%u: expected 'key value'; run `espdesk flow abort` to forget "
			    "the journal", name, line);
			return RC_ERR_FORMAT;
		}
		*sp = '\0';
		r = apply(j, text, sp + 1);
		if (r != 0) {
			*cause = xfmt("%s:%u: %s '%s'; run `espdesk flow abort` to forget the journal",
			    name, line, r == -2 ? "unknown key" : "bad value for", text);
			return RC_ERR_FORMAT;
		}
	}
	if (j->have_device != j->have_mac) {
		*cause = xfmt("%s: chip_id and mac go together, one is missing; run `espdesk flow "
		    "abort` to forget the journal", name);
		return RC_ERR_FORMAT;
	}
	if (flow_find(j->flow) == NULL) {
		*cause = xfmt("%s: no known flow named (\"%s\"); run `espdesk flow abort` to forget "
		    "the journal", name, j->flow);
		return RC_ERR_FORMAT;
	}
	return RC_OK;
}

/* One-line values only: newlines in a cause become spaces. */
static void
put(char **s, const char *k, const char *v)
{
	char *old = *s, *clean = xstrdup(v);

	for (char *p = clean; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	*s = xfmt("%s%s %s\n", old, k, clean);
	free(old);
	free(clean);
}

char *
flow_journal_format(const struct flow_journal *j)
{
	char *s = xstrdup("# espdesk flow journal: `espdesk flow status|resume|abort`\n"), num[32];

	put(&s, "flow", j->flow);
	if (j->port[0])
		put(&s, "port", j->port);
	if (j->file[0])
		put(&s, "file", j->file);
	if (j->backup[0])
		put(&s, "backup", j->backup);
	if (j->profile[0])
		put(&s, "profile", j->profile);
	if (j->have_device) {
		snprintf(num, sizeof num, "0x%08" PRIx32, j->chip_id);
		put(&s, "chip_id", num);
		snprintf(num, sizeof num, "%02x:%02x:%02x:%02x:%02x:%02x", j->mac[0], j->mac[1],
		    j->mac[2], j->mac[3], j->mac[4], j->mac[5]);
		put(&s, "mac", num);
	}
	snprintf(num, sizeof num, "%" PRIu32, j->done);
	put(&s, "done", num);
	if (j->skipped) {
		snprintf(num, sizeof num, "%" PRIu32, j->skipped);
		put(&s, "skipped", num);
	}
	put(&s, "finished", j->finished ? "1" : "0");
	put(&s, "manual", j->manual ? "1" : "0");
	put(&s, "no_backup", j->no_backup ? "1" : "0");
	put(&s, "other_unit", j->other_unit ? "1" : "0");
	put(&s, "relayout", j->relayout ? "1" : "0");
	if (j->failed[0])
		put(&s, "failed", j->failed);
	return s;
}

int
flow_journal_load(struct flow_journal *j, char **cause)
{
	char *path = flow_journal_path(), *why = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	*cause = NULL;
	if (access(path, F_OK) != 0) {
		*cause = xfmt("no flow to resume (%s does not exist)", path);
		free(path);
		return RC_ERR_ARG;
	}
	rc = afile_read(path, JOURNAL_MAX, &buf, &len, &why);
	if (rc == RC_OK)
		rc = flow_journal_parse(path, buf, len, j, cause);
	else {
		*cause = why;
		why = NULL;
	}
	free(buf);
	free(path);
	free(why);
	return rc;
}

int
flow_journal_save(const struct flow_journal *j, char **cause)
{
	char *path = flow_journal_path(), *text = flow_journal_format(j), *dir, *slash;

	int rc;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	/* mkdir -p of DATA/espdesk, 0700 like the store. */
	for (char *q = dir + 1; ; q++) {
		if (*q == '/' || *q == '\0') {
			char c = *q;

			*q = '\0';
			(void)mkdir(dir, 0700);
			if (c == '\0')
				break;
			*q = c;
		}
	}
	rc = afile_write(path, text, strlen(text), 0600, AFILE_OVERWRITE, cause);
	free(dir);
	free(text);
	free(path);
	return rc;
}
