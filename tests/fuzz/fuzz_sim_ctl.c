/* libFuzzer target: the control channel's command language, run against a real (fast, in-memory)
 * device on a fake clock: any line must get a well-formed reply or none, and the device must
 * survive any sequence of commands. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "fuzz/fuzz.h"
#include "sim/sim_ctl.h"
#include "sim/sim_dev.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_dev_config cfg;
	struct sim_dev *d;
	struct buf out = BUF_INIT;
	char *cause = NULL, line[256];
	int64_t now = 1000000;
	size_t off = 0;

	memset(&cfg, 0, sizeof cfg);
	sim_chip_identity_default(&cfg.id);
	cfg.id.flash_size = 64u << 10;  /* small: a device per input must be cheap */
	cfg.id.flash_id = 0;
	cfg.fast = 1;
	cfg.powered = 1;
	if (sim_dev_new(&cfg, now, &d, &cause) != RC_OK)
		abort();
	while (off < size) {
		size_t n = 0;
		char *reply;

		while (off < size && data[off] != '\n' && n < sizeof line - 1)
			line[n++] = (char)data[off++];
		off++;
		line[n] = '\0';
		reply = sim_ctl_exec(d, line, now, NULL, NULL);
		if (reply != NULL && strncmp(reply, "ok", 2) != 0 && strncmp(reply, "error", 5) != 0)
			abort();
		if (reply != NULL && strchr(reply, '\n') != NULL)
			abort();
		free(reply);
		now += 7000;
		sim_dev_run(d, now, 115200, &out);
		buf_reset(&out);
	}
	buf_free(&out);
	sim_dev_free(d);
	return 0;
}
