/* profile.c: struct profile housekeeping: free, enum names, edit distance. */
#include "config.h"

#include "profile/profile.h"

#include <stdlib.h>
#include <string.h>

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->title);
	free_strv(p->aliases, p->naliases);
	free(p->vendor);
	free(p->revisions);
	free(p->chip_note);
	for (size_t i = 0; i < p->nclaims; i++) {
		free(p->claims[i].source);
		free(p->claims[i].note);
	}
	free(p->claims);
	free(p->real_chip);
	free(p->sizes);
	free(p->mode_reason);
	for (size_t i = 0; i < p->njedec; i++) {
		free(p->jedec[i].part);
		free(p->jedec[i].source);
		free(p->jedec[i].note);
	}
	free(p->jedec);
	free(p->flash_note);
	free_strv(p->header_pins, p->nheader_pins);
	free(p->header_note);
	free(p->download_mode);
	free(p->download_hint);
	free_strv(p->warnings, p->nwarnings);
	free(p->map_layout);
	for (size_t i = 0; i < p->nregions; i++) {
		free(p->regions[i].name);
		free(p->regions[i].note);
	}
	free(p->regions);
	for (size_t i = 0; i < p->ngpios; i++)
		free(p->gpios[i].use);
	free(p->gpios);
	free_strv(p->notes, p->nnotes);
	free_strv(p->sources, p->nsources);
	free(p->path);
	free(p->alias_line);
	free(p->alias_col);
	free(p->overrides);
	free(p);
}

const char *
profile_chip_str(enum profile_chip c)
{
	switch (c) {
	case PROFILE_CHIP_ESP8266:
		return "esp8266";
	case PROFILE_CHIP_ESP8285:
		return "esp8285";
	case PROFILE_CHIP_EITHER:
		return "esp8266-or-esp8285";
	case PROFILE_CHIP_NOT_ESP8266:
		return "not-esp8266";
	}
	return "?";
}

const char *
profile_mode_str(enum profile_mode m)
{
	switch (m) {
	case PROFILE_MODE_QIO:
		return "qio";
	case PROFILE_MODE_QOUT:
		return "qout";
	case PROFILE_MODE_DIO:
		return "dio";
	case PROFILE_MODE_DOUT:
		return "dout";
	}
	return "?";
}

const char *
profile_kind_str(enum profile_kind k)
{
	return k == PROFILE_KIND_GENERIC ? "generic" : "device";
}

size_t
profile_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], prev, tmp;

	/* Names and keys are short; anything longer is "far". */
	if (la > 64 || lb > 64)
		return la > lb ? la : lb;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}
