/*
 * flasher_simh.h: starting and driving a real espdesk-sim for the flasher's integration tests
 * and benchmarks. Header-only (static functions); include once per program.
 *
 * On top of sim_harness.h (process, control socket, clean-up): sim_start() runs the simulator
 * with a flash of a given size and contents, in download mode unless sim_no_download is set,
 * at --speed fast unless sim_real_time is set; rnd() and fill_random() make repeatable data.
 */
#ifndef ESPDESK_FLASHER_SIMH_H
#define ESPDESK_FLASHER_SIMH_H

#include "sim_harness.h"

/* Set by a caller that wants the chip to boot from flash (no --download). */
static int sim_no_download;
/* Set by a benchmark: real-time timing instead of --speed fast. */
static int sim_real_time;

static uint32_t rng_state = 0x12345678;

static ED_UNUSED uint8_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return (uint8_t)rng_state;
}

static ED_UNUSED void
fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd();
}

/*
 * Starts espdesk-sim with a flash of size bytes (initial contents, or 0xFF when init is NULL)
 * and extra options (NULL-terminated). Returns 0, or -1 (the case then fails).
 */
static ED_UNUSED int
sim_start(struct sim *s, uint32_t size, const uint8_t *init, const char *const *extra)
{
	const char *args[32];
	char fsize[16];
	int n = 0;

	if (sim_prepare(s, "/tmp/flsim-XXXXXX") < 0)
		return -1;
	s->size = size;
	if (init != NULL && write_file(s->flash, init, size) < 0)
		return -1;
	snprintf(fsize, sizeof fsize, "%uMB", size / MB);
	args[n++] = "--flash-size"; args[n++] = fsize;
	args[n++] = "--speed"; args[n++] = sim_real_time ? "real" : "fast";
	if (!sim_no_download)
		args[n++] = "--download";
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return sim_spawn(s, args, 5000);
}

/* The simulator's flash file now. */
static ED_UNUSED uint8_t *
sim_flash(struct sim *s)
{
	size_t len = 0;
	uint8_t *p = read_file(s->flash, &len);

	if (p != NULL && len != s->size) {
		free(p);
		return NULL;
	}
	return p;
}

#endif
