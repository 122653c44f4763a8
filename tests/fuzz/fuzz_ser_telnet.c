/*
 * libFuzzer target: the RFC 2217 client's telnet decoder must survive any byte stream from a
 * server, in any chunking, never pass a command byte on as data, and answer each option command
 * with at most one three-byte reply (so no negotiation can loop).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "fuzz/fuzz.h"
#include "serial/ser_telnet.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ser_telnet t;
	struct buf out = BUF_INIT, reply = BUF_INIT;
	size_t off = 0, chunk = size ? (size_t)data[0] % 13 + 1 : 1;
	const uint8_t *r;

	ser_telnet_init(&t);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		ser_telnet_feed(&t, data + off, n, &out, &reply);
		off += n;
	}
	/* Decoding never makes data: every output byte stands for at least one input byte. */
	if (buf_len(&out) > size)
		abort();
	/* Replies are whole IAC WILL/WONT/DO/DONT commands, at most one per input option byte
	 * (each needs three input bytes). */
	if (buf_len(&reply) % 3 != 0 || buf_len(&reply) > size)
		abort();
	r = buf_head(&reply);
	for (size_t i = 0; i < buf_len(&reply); i += 3) {
		if (r[i] != TELNET_IAC || r[i + 1] < TELNET_WILL || r[i + 1] > TELNET_DONT)
			abort();
	}
	if (t.comport < -1 || t.comport > 1)
		abort();
	buf_free(&out);
	buf_free(&reply);
	return 0;
}
