/*
 * libFuzzer target: the stub's inflate must survive any byte stream in any chunking, never write
 * outside its window, and never hand out a piece larger than the window.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "stub/stub_inflate.h"

static struct stub_inflate z;

static int
sink(void *arg, const uint8_t *data, uint32_t len)
{
	size_t *total = arg;

	if (len == 0 || len > STUB_INFLATE_WINDOW)
		abort();
	/* Touch the first and last byte so ASan checks the piece's bounds. */
	*total += data[0] + data[len - 1];
	*total += len;
	/* Stop runaway outputs (a tiny stream can expand a lot) to keep the fuzzer fast. */
	return *total > (8u << 20);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t total = 0, off = 0, used;
	/* The first byte picks the chunk size, so split points are explored too. */
	size_t chunk = size ? (size_t)data[0] % 61 + 1 : 1;
	int rc = STUB_INFLATE_MORE;

	stub_inflate_init(&z);
	if (size > 0) {
		data++;
		size--;
	}
	while (off < size && rc == STUB_INFLATE_MORE) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = stub_inflate_feed(&z, data + off, n, &used, sink, &total);
		if (used > n)
			abort();
		off += n;
	}
	return 0;
}
