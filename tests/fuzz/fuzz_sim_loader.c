/* libFuzzer target: the simulator's ROM loader (SLIP + command decoder) must survive any bytes,
 * in any chunking, against a small flash, and keep its replies well framed. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "sim/sim_loader.h"

struct ctx {
	size_t bytes;
	int events;
};

static void
on_send(void *arg, uint32_t busy_us, const uint8_t *wire, size_t len)
{
	struct ctx *c = arg;

	/* Every reply is one frame: C0 ... C0 with no C0 inside. */
	if (len < 2 || wire[0] != 0xC0 || wire[len - 1] != 0xC0)
		abort();
	for (size_t i = 1; i + 1 < len; i++)
		if (wire[i] == 0xC0)
			abort();
	c->bytes += len + busy_us % 2;
}

static void
on_event(void *arg, enum sim_loader_event ev, uint32_t value)
{
	struct ctx *c = arg;

	c->events += (int)ev + (int)(value & 1);
}

static const struct sim_loader_ops ops = { on_send, on_event };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_identity id;
	struct sim_chip chip;
	static struct sim_flash *flash;  /* one small flash for every input: keeps replay fast */
	struct sim_loader l;
	struct ctx c = { 0, 0 };
	char *cause = NULL;
	size_t off = 0, chunk = size ? (size_t)data[0] % 23 + 1 : 1;

	sim_chip_identity_default(&id);
	id.flash_size = 64u << 10;  /* addresses beyond it wrap, as on a real part */
	id.flash_id = 0;
	if (sim_chip_init(&chip, &id, &cause) != RC_OK ||
	    (flash == NULL && sim_flash_open(NULL, id.flash_size, &flash, &cause) != RC_OK))
		abort();
	sim_loader_init(&l, &chip, flash, &ops, &c);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		sim_loader_feed(&l, data + off, n);
		if (l.stopped)
			sim_loader_reset(&l);
		off += n;
	}
	sim_loader_free(&l);
	sim_chip_free(&chip);
	return 0;
}
