/*
 * sim_fault.h: fault injection for espdesk-sim (--faults LIST, --seed N).
 *
 * LIST is comma-separated: drop=RATE and corrupt=RATE (probability per byte, 0..1, applied to
 * both directions), cut-after=BYTES (after that many bytes in total the cable is pulled),
 * power-loss=erase|write (power fails half way through the next erase or program),
 * stuck-gpio0 (GPIO0 reads low at every hardware reset, as a stuck button). The random choices
 * come from a xorshift generator seeded with --seed, so a run is repeatable.
 */
#ifndef ESPDESK_SIM_FAULT_H
#define ESPDESK_SIM_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

struct sim_fault {
	double drop, corrupt;
	uint64_t cut_after;      /* 0: never */
	int power_loss;          /* 0 none, 1 erase, 2 write */
	int stuck_gpio0;
	uint64_t rng;
	uint64_t bytes;          /* bytes seen so far, both directions */
	uint64_t dropped, corrupted;
};

/* Parses list (may be NULL or empty) into f, seeded with seed. RC_ERR_ARG with a cause naming
 * the bad item. */
int sim_fault_parse(struct sim_fault *f, const char *list, uint64_t seed, char **cause);
/* Applies drop/corrupt to data in place; returns the new length. Counts bytes for cut-after. */
size_t sim_fault_apply(struct sim_fault *f, uint8_t *data, size_t len);
/* True once cut-after bytes have passed. */
int sim_fault_cut(const struct sim_fault *f);

#endif
