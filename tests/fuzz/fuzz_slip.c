/* libFuzzer target: the SLIP decoder must survive any byte stream, in any chunking. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "rom/slip.h"
#include "fuzz/fuzz.h"

static void
sink(void *arg, enum slip_event ev, const uint8_t *data, size_t len)
{
	size_t *total = arg;

	/* Touch every reported byte so ASan sees an out-of-bounds report. */
	for (size_t i = 0; i < len; i++)
		*total += data[i];
	*total += (size_t)ev;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slip_decoder d;
	size_t total = 0, off = 0;

	slip_decoder_init(&d, 64);
	/* The first byte picks the chunk size, so the fuzzer explores split points too. */
	size_t chunk = size ? (size_t)data[0] % 17 + 1 : 1;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		slip_decoder_feed(&d, data + off, n, sink, &total);
		off += n;
	}
	slip_decoder_free(&d);
	return total == (size_t)-1;
}
