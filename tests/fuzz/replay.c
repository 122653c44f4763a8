/*
 * replay.c: runs a fuzz target without libFuzzer. Usage: replay-NAME [CORPUS_DIR]
 * Feeds every file of the corpus (default tests/data/fuzz/NAME), then mutations of each (bit
 * flips, truncations, splices, random bytes) from a fixed seed, and reports one TAP case. A crash
 * or a sanitizer report fails the test by killing the process.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "tap.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the target"
#endif

static uint32_t rng = 0x9e3779b9;

static uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static size_t
mutate(uint8_t *dst, const uint8_t *src, size_t len, size_t cap)
{
	size_t n = len < cap ? len : cap;

	memcpy(dst, src, n);
	switch (next() % 5) {
	case 0: /* flip a few bits */
		for (int k = 0; k < 4 && n > 0; k++)
			dst[next() % n] ^= (uint8_t)(1u << (next() % 8));
		break;
	case 1: /* truncate */
		n = n ? next() % n : 0;
		break;
	case 2: /* overwrite a run with one random byte value */
		if (n > 0) {
			size_t at = next() % n, run = next() % 16;
			uint8_t v = (uint8_t)next();

			for (size_t i = at; i < n && i < at + run; i++)
				dst[i] = v;
		}
		break;
	case 3: /* append random bytes */
		while (n < cap && next() % 32 != 0)
			dst[n++] = (uint8_t)next();
		break;
	default: /* set interesting values (0, 0xff, 0xc0, 0xe9) */
		for (int k = 0; k < 3 && n > 0; k++) {
			static const uint8_t vals[] = { 0x00, 0xff, 0xc0, 0xdb, 0xe9, 0xea, 0x0a, 0x0d };

			dst[next() % n] = vals[next() % sizeof vals];
		}
	}
	return n;
}

static void
test_replay(void)
{
	char dirpath[4096];
	struct dirent *de;
	DIR *dir;
	size_t files = 0, runs = 0, cap = 1 << 20;
	uint8_t *in = malloc(cap), *mut = malloc(cap);

	snprintf(dirpath, sizeof dirpath, "%s", t_data("fuzz/" FUZZ_NAME));
	dir = opendir(dirpath);
	T_CHECK_(dir != NULL, "seed corpus %s is missing", dirpath);
	while (dir != NULL && (de = readdir(dir)) != NULL) {
		char path[8192];
		FILE *f;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		len = fread(in, 1, cap, f);
		fclose(f);
		files++;
		LLVMFuzzerTestOneInput(in, len);
		runs++;
		for (int k = 0; k < 2000; k++) {
			size_t n = mutate(mut, in, len, cap);

			LLVMFuzzerTestOneInput(mut, n);
			runs++;
		}
	}
	if (dir != NULL)
		closedir(dir);
	/* Pure noise as well. */
	for (int k = 0; k < 500; k++) {
		size_t n = next() % 4096;

		for (size_t i = 0; i < n; i++)
			mut[i] = (uint8_t)next();
		LLVMFuzzerTestOneInput(mut, n);
		runs++;
	}
	printf("# %s: %zu seed files, %zu inputs, no crash\n", FUZZ_NAME, files, runs);
	T_TRUE(files > 0);
	free(in);
	free(mut);
}

int
main(void)
{
	T_RUN(test_replay);
	return t_done();
}
