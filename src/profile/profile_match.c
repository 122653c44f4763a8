/*
 * profile_match.c: which profiles fit what the flasher detected, and where a chosen profile
 * disagrees with the hardware. The hardware always wins: a profile is a claim from sources, the
 * eFuse ESP8285 flag and the JEDEC id are measurements (devices.md §6, fact 3).
 *
 * Score (0..100): 10 for an ESP8266-family profile that nothing contradicts, +40 when the
 * profile names the detected chip (+25 when it allows either), +30 when the detected JEDEC id
 * is one reported for the model (+20 when that report is inferred, +10 for the same flash
 * vendor only), +20 when the detected size is one the model was seen with (+5 when the profile
 * does not know its size). A contradiction (other chip, size not among those seen, a chip
 * espdesk cannot flash) removes the profile from the list.
 */
#include "config.h"

#include "profile/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "profile/jedec.h"

static void
add_msg(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = s;
}

static uint32_t
detected_size(const struct profile_detected *d)
{
	if (d->size != 0)
		return d->size;
	return d->jedec != 0 ? jedec_size(d->jedec) : 0;
}

/* "1 MB" or "1 MB or 4 MB". */
static void
sizes_str(const struct profile *p, char *buf, size_t size)
{
	size_t off = 0;
	char one[32];

	buf[0] = '\0';
	for (size_t i = 0; i < p->nsizes && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? " or " : "",
		    jedec_size_str(p->sizes[i], one, sizeof one));
}

static const char *
chip_words(enum profile_chip c)
{
	switch (c) {
	case PROFILE_CHIP_ESP8266:
		return "an ESP8266 (external flash)";
	case PROFILE_CHIP_ESP8285:
		return "an ESP8285 (embedded flash)";
	case PROFILE_CHIP_EITHER:
		return "an ESP8266 or an ESP8285";
	case PROFILE_CHIP_NOT_ESP8266:
		return "not an ESP8266";
	}
	return "?";
}

size_t
profile_contradictions(const struct profile *p, const struct profile_detected *d, char ***msgs)
{
	size_t n = 0;
	uint32_t size = detected_size(d);

	*msgs = NULL;
	if (p->chip == PROFILE_CHIP_NOT_ESP8266) {
		if (p->locked)
			add_msg(msgs, &n, xfmt("the %s is an %s with its flash locked (secure boot or flash "
			    "encryption): espdesk cannot flash it, and neither can any other tool",
			    p->title, p->real_chip));
		else
			add_msg(msgs, &n, xfmt("the %s is an %s: espdesk cannot flash it (it speaks only "
			    "to ESP8266/ESP8285); use a tool for that chip, such as esptool",
			    p->title, p->real_chip));
		return n;
	}
	if (d->chip_known) {
		if (d->esp8285 && p->chip == PROFILE_CHIP_ESP8266)
			add_msg(msgs, &n, xfmt("profile says %s, chip reports an ESP8285 (eFuse flag): "
			    "this is another revision or another model; check the board", chip_words(p->chip)));
		else if (!d->esp8285 && p->chip == PROFILE_CHIP_ESP8285)
			add_msg(msgs, &n, xfmt("profile says %s, chip reports an ESP8266EX (no ESP8285 "
			    "eFuse flag): this is another revision or another model; check the board",
			    chip_words(p->chip)));
	}
	if (size != 0 && p->nsizes > 0) {
		int seen = 0;

		for (size_t i = 0; i < p->nsizes; i++)
			seen |= p->sizes[i] == size;
		if (!seen) {
			char want[96], got[32], name[96];

			sizes_str(p, want, sizeof want);
			jedec_size_str(size, got, sizeof got);
			if (d->jedec != 0)
				add_msg(msgs, &n, xfmt("profile says %s, chip reports %s (%s)", want, got,
				    jedec_name(d->jedec, name, sizeof name)));
			else
				add_msg(msgs, &n, xfmt("profile says %s, chip reports %s", want, got));
		}
	}
	return n;
}

static int
cmp_fit(const void *a, const void *b)
{
	const struct profile_fit *x = a, *y = b;

	if (x->score != y->score)
		return y->score - x->score;
	return strcmp(x->p->name, y->p->name);
}

static int
score_one(const struct profile *p, const struct profile_detected *d, char ***reasons, size_t *nreasons)
{
	int score = 10;
	uint32_t size = detected_size(d);
	char buf[96];

	if (d->chip_known) {
		const char *chip = d->esp8285 ? "ESP8285" : "ESP8266EX";

		if (p->chip == PROFILE_CHIP_EITHER) {
			score += 25;
			add_msg(reasons, nreasons, xfmt("chip %s: the profile allows either chip%s", chip,
			    p->nclaims ? " (its sources disagree; the detected chip decides)" : ""));
		} else {
			score += 40;
			add_msg(reasons, nreasons, xfmt("chip %s, as the profile says", chip));
		}
	}
	if (d->jedec != 0 && !jedec_is_blank(d->jedec)) {
		int best = 0;
		const struct profile_jedec *hit = NULL;

		for (size_t i = 0; i < p->njedec; i++) {
			const struct profile_jedec *j = &p->jedec[i];
			int s = j->id == d->jedec ? (j->inferred ? 20 : 30) :
			    JEDEC_MFR(j->id) == JEDEC_MFR(d->jedec) ? 10 : 0;

			if (s > best) {
				best = s;
				hit = j;
			}
		}
		if (hit != NULL) {
			score += best;
			jedec_name(d->jedec, buf, sizeof buf);
			if (best >= 20)
				add_msg(reasons, nreasons, xfmt("flash id %s %s for this model (%s)", buf,
				    hit->inferred ? "expected (inferred)" : "reported", hit->source));
			else
				add_msg(reasons, nreasons, xfmt("flash vendor of %s also reported for this "
				    "model (%s)", buf, hit->source));
		}
	}
	if (size != 0) {
		char sz[32];

		jedec_size_str(size, sz, sizeof sz);
		if (p->nsizes > 0) {
			score += 20;
			add_msg(reasons, nreasons, xfmt("flash size %s, seen on this model", sz));
		} else {
			score += 5;
			add_msg(reasons, nreasons, xfmt("flash size %s; no source settles this model's size", sz));
		}
	}
	return score > 100 ? 100 : score;
}

size_t
profile_match(const struct profile_set *s, const struct profile_detected *d, struct profile_fit **out)
{
	struct profile_fit *v = NULL;
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct profile *p = s->v[i];
		char **msgs;
		size_t nm = profile_contradictions(p, d, &msgs);

		for (size_t k = 0; k < nm; k++)
			free(msgs[k]);
		free(msgs);
		if (nm > 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n].p = p;
		v[n].reasons = NULL;
		v[n].nreasons = 0;
		v[n].score = score_one(p, d, &v[n].reasons, &v[n].nreasons);
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_fit);
	*out = v;
	return n;
}

void
profile_fits_free(struct profile_fit *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].nreasons; k++)
			free(v[i].reasons[k]);
		free(v[i].reasons);
	}
	free(v);
}
