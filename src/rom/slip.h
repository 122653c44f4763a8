/*
 * slip.h: SLIP framing as the ESP8266 ROM loader and flasher stubs use it (protocol.md §2).
 *
 * Every frame is 0xC0 + escaped payload + 0xC0; inside a frame 0xC0 is sent as DB DC and 0xDB as
 * DB DD. The decoder is a push parser: feed it bytes as they arrive, in chunks of any size, and it
 * calls back once per event. It never allocates after init and never blocks, so the live loop,
 * the simulator, the tests and the fuzzer all share it.
 *
 * Decoding follows esptool's strict two-state reader: a 0xC0 inside a frame always closes it (so
 * an empty frame is reported for "C0 C0"), bytes outside a frame are reported as noise (the caller
 * may scan them for "Fatal exception" text), and an escape other than DB DC / DB DD abandons the
 * frame with SLIP_EV_BAD_ESCAPE. A frame longer than max_frame is abandoned with
 * SLIP_EV_OVERSIZE; the decoder then waits for the next 0xC0.
 */
#ifndef ESPDESK_SLIP_H
#define ESPDESK_SLIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

enum slip_event {
	SLIP_EV_FRAME,      /* data/len: a complete, unescaped frame (len may be 0) */
	SLIP_EV_NOISE,      /* data/len: bytes that arrived outside any frame */
	SLIP_EV_BAD_ESCAPE, /* data/len: the partial frame so far; data[len] is not valid */
	SLIP_EV_OVERSIZE,   /* data/len: the first max_frame bytes of the abandoned frame */
};

/* Called by slip_decoder_feed(). data is borrowed and valid only during the call. */
typedef void slip_cb(void *arg, enum slip_event ev, const uint8_t *data, size_t len);

struct slip_decoder {
	uint8_t *frame;   /* owned; max_frame bytes */
	size_t len, max_frame;
	int state;        /* private */
	uint64_t frames, noise_bytes, errors; /* counters, for diagnostics */
};

/* Initialises d to accept frames of at most max_frame bytes (> 0). Free with slip_decoder_free(). */
void slip_decoder_init(struct slip_decoder *d, size_t max_frame);
void slip_decoder_free(struct slip_decoder *d);
/* Forgets any partial frame: the next byte is read as if nothing came before. */
void slip_decoder_reset(struct slip_decoder *d);
/* True while the decoder is inside a frame (an opening 0xC0 was seen and no closing one yet). */
int slip_decoder_in_frame(const struct slip_decoder *d);
/* Feeds len bytes; calls cb(arg, ...) for every event, in order. cb may be NULL to discard. */
void slip_decoder_feed(struct slip_decoder *d, const void *data, size_t len, slip_cb *cb, void *arg);

/* Worst-case encoded size of a len-byte payload: every byte escaped, plus both delimiters. */
#define SLIP_ENCODED_MAX(len) (2 * (size_t)(len) + 2)
/* Encodes one whole frame into dst (at least SLIP_ENCODED_MAX(len) bytes). Returns its length. */
size_t slip_encode(uint8_t *dst, const void *src, size_t len);
/* Appends one whole frame to out. */
void slip_encode_buf(struct buf *out, const void *src, size_t len);
/* Appends payload bytes without delimiters (for a frame sent in pieces); the caller adds 0xC0s. */
void slip_escape_buf(struct buf *out, const void *src, size_t len);

#endif
