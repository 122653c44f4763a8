#include "config.h"

#include "sim/sim_fault.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

static uint64_t
rnd(struct sim_fault *f)
{
	uint64_t x = f->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return f->rng = x;
}

/* Uniform in [0, 1). */
static double
rnd01(struct sim_fault *f)
{
	return (double)(rnd(f) >> 11) / 9007199254740992.0;
}

static int
parse_rate(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

int
sim_fault_parse(struct sim_fault *f, const char *list, uint64_t seed, char **cause)
{
	char *copy, *item, *save = NULL;
	int rc = RC_OK;

	memset(f, 0, sizeof *f);
	f->rng = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (f->rng == 0)
		f->rng = 1;
	if (list == NULL || *list == '\0')
		return RC_OK;
	copy = xstrdup(list);
	for (item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		const char *val = eq ? eq + 1 : "";

		if (eq != NULL)
			*eq = '\0';
		if (strcmp(item, "drop") == 0 && parse_rate(val, &f->drop) == 0)
			continue;
		if (strcmp(item, "corrupt") == 0 && parse_rate(val, &f->corrupt) == 0)
			continue;
		if (strcmp(item, "cut-after") == 0 && *val) {
			char *end;
			unsigned long long n = strtoull(val, &end, 10);

			if (*end == '\0' && n > 0) {
				f->cut_after = n;
				continue;
			}
		}
		if (strcmp(item, "power-loss") == 0 && strcmp(val, "erase") == 0) {
			f->power_loss = 1;
			continue;
		}
		if (strcmp(item, "power-loss") == 0 && strcmp(val, "write") == 0) {
			f->power_loss = 2;
			continue;
		}
		if (strcmp(item, "stuck-gpio0") == 0 && eq == NULL) {
			f->stuck_gpio0 = 1;
			continue;
		}
		*cause = xfmt("--faults: cannot use '%s%s%s'; expected drop=RATE, corrupt=RATE (0..1), "
		    "cut-after=BYTES, power-loss=erase|write or stuck-gpio0", item, eq ? "=" : "", val);
		rc = RC_ERR_ARG;
		break;
	}
	free(copy);
	return rc;
}

size_t
sim_fault_apply(struct sim_fault *f, uint8_t *data, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];

		f->bytes++;
		if (f->drop > 0 && rnd01(f) < f->drop) {
			f->dropped++;
			continue;
		}
		if (f->corrupt > 0 && rnd01(f) < f->corrupt) {
			c ^= (uint8_t)(1u << (rnd(f) % 8));
			f->corrupted++;
		}
		data[out++] = c;
	}
	return out;
}

int
sim_fault_cut(const struct sim_fault *f)
{
	return f->cut_after != 0 && f->bytes >= f->cut_after;
}
