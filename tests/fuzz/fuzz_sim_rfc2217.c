/* libFuzzer target: the simulator's RFC 2217 / Telnet server parser must survive any bytes from
 * a client, in any chunking. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "sim/sim_rfc2217.h"

static void
on_event(void *arg, enum sim_rfc_event ev, uint32_t value, const uint8_t *data, size_t len)
{
	size_t *total = arg;

	for (size_t i = 0; i < len; i++)
		*total += data[i];
	*total += (size_t)ev + value;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_rfc2217 r;
	struct buf reply = BUF_INIT, esc = BUF_INIT;
	size_t total = 0, off = 0, chunk = size ? (size_t)data[0] % 13 + 1 : 1;

	sim_rfc2217_init(&r, 115200);
	sim_rfc2217_greeting(&r, &reply);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		sim_rfc2217_feed(&r, data + off, n, &reply, on_event, &total);
		off += n;
	}
	sim_rfc2217_escape(data, size, &esc);
	if (buf_len(&esc) < size)
		abort();
	buf_free(&reply);
	buf_free(&esc);
	return total == (size_t)-1;
}
