/*
 * flasher_simh.h: starting and driving a real espdesk-sim for the flasher's integration tests
 * and benchmarks. Header-only (static functions); include once per program.
 *
 * On top of sim_harness.h (process, control socket, clean-up): sim_start() runs the simulator
 * with a flash of a given size and contents, in download mode unless sim_no_download is set,
 * at --speed fast unless sim_real_time is set; sim_flasher_open()/_done() hold a session on it;
 * rnd() and fill_random() make repeatable data.
 */
#ifndef ESPDESK_FLASHER_SIMH_H
#define ESPDESK_FLASHER_SIMH_H

#include "flasher/flasher.h"
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

/*
 * Opens a flasher session on the simulator's port: no reset before or after (the simulator
 * starts in download mode), connect_ms 5 s unless o sets one. o (may be NULL) presets the rest:
 * baud, no_stub, cb, cb_arg, cancel. A failure is printed as a TAP comment.
 */
static ED_UNUSED int
sim_flasher_open(struct sim *s, const struct flasher_opts *o, struct flasher **f)
{
	struct flasher_opts fo;
	char *cause = NULL;
	int rc;

	if (o != NULL)
		fo = *o;
	else
		memset(&fo, 0, sizeof fo);
	fo.port = s->pty;
	fo.before = FLASHER_BEFORE_NO_RESET;
	fo.after = FLASHER_AFTER_NO_RESET;
	if (fo.connect_ms == 0)
		fo.connect_ms = 5000;
	rc = flasher_open(&fo, f, &cause);
	if (rc < 0)
		printf("# flasher_open: %s\n", cause ? cause : rc_str(rc));
	free(cause);
	return rc;
}

/* Ends a session from sim_flasher_open() (NULL is fine); a failing finish is a TAP comment. */
static ED_UNUSED void
sim_flasher_done(struct flasher *f)
{
	char *cause = NULL;

	if (f != NULL && flasher_finish(f, &cause) < 0)
		printf("# finish: %s\n", cause);
	free(cause);
	flasher_close(f);
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
