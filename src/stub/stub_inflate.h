/*
 * stub_inflate.h: a streaming zlib (RFC 1950) / deflate (RFC 1951) decoder for the flasher stub.
 *
 * Freestanding and allocation-free: the whole state, the 32 KB history window included, lives in
 * struct stub_inflate, which the caller owns (the stub embeds one). Input arrives in chunks of
 * any size, split anywhere (FLASH_DEFL_DATA blocks cut the zlib stream at arbitrary bytes);
 * output leaves through a callback in contiguous pieces of at most 32 KB, taken straight from
 * the window: a piece is flushed whenever the window fills, and the rest when the stream ends.
 *
 * Checked: the zlib header (CM 8, CINFO <= 7, FCHECK, no preset dictionary), block types,
 * stored-block LEN/NLEN, Huffman code sets (over-subscribed or incomplete codes are rejected as
 * zlib rejects them, except the single-distance-code case RFC 1951 allows), literal/length and
 * distance symbols, distances reaching before the start of the output, and the Adler-32 trailer.
 *
 * Errors are negative return values; after one, every further call returns the same error until
 * stub_inflate_init(). Nothing is ever written outside the window or the state.
 */
#ifndef ESPDESK_STUB_INFLATE_H
#define ESPDESK_STUB_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#define STUB_INFLATE_WINDOW 32768u

enum stub_inflate_rc {
	STUB_INFLATE_MORE = 1,        /* all input consumed; the stream is not finished */
	STUB_INFLATE_DONE = 0,        /* the Adler-32 matched; the stream is complete */
	STUB_INFLATE_ERR_HEADER = -1, /* bad zlib header */
	STUB_INFLATE_ERR_BLOCK = -2,  /* block type 3 */
	STUB_INFLATE_ERR_STORED = -3, /* stored block LEN != ~NLEN */
	STUB_INFLATE_ERR_CODES = -4,  /* invalid Huffman code lengths */
	STUB_INFLATE_ERR_SYMBOL = -5, /* invalid or undecodable symbol */
	STUB_INFLATE_ERR_DIST = -6,   /* distance too far back */
	STUB_INFLATE_ERR_ADLER = -7,  /* Adler-32 mismatch */
	STUB_INFLATE_ERR_OUTPUT = -8, /* the output callback asked to stop */
};

/*
 * Receives a piece of output. Returns 0 to go on, non-zero to stop decoding with
 * STUB_INFLATE_ERR_OUTPUT. data is the stub_inflate's own window: valid only during the call.
 */
typedef int stub_inflate_out_fn(void *arg, const uint8_t *data, uint32_t len);

/* A Huffman decoding table in canonical form (counts per length, symbols in code order). */
struct stub_huff {
	uint16_t count[16];
	uint16_t symbol[288];
};

struct stub_inflate {
	uint8_t window[STUB_INFLATE_WINDOW];
	uint32_t wpos;          /* next write position in window (0..32767) */
	uint32_t flushed;       /* window position up to which output was handed out */
	uint32_t total_out;     /* bytes produced (mod 2^32; distances are checked against it) */
	uint8_t total_wrapped;  /* total_out reached 32 KB, so any distance is in range */
	uint32_t bitbuf;        /* pending input bits, LSB first */
	uint8_t bitcnt;
	uint8_t state, last, ncode_i;
	int rc;                 /* sticky error / done */
	uint32_t s1, s2;        /* Adler-32 */
	uint32_t stored_left;   /* bytes left in a stored block */
	uint16_t len;           /* pending match length */
	uint16_t nlen, ndist, ncode, nlens;
	uint8_t lens[320];      /* code lengths being collected (literal/length + distance) */
	struct stub_huff lencode, distcode;
};

/* Resets z to expect a new zlib stream. */
void stub_inflate_init(struct stub_inflate *z);
/*
 * Decodes len bytes of input. *used (if not NULL) is set to the bytes consumed: all of them
 * unless the stream ended (DONE) or failed inside this chunk. Output goes to out(arg, ...).
 * Returns an enum stub_inflate_rc.
 */
int stub_inflate_feed(struct stub_inflate *z, const uint8_t *in, size_t len, size_t *used,
    stub_inflate_out_fn *out, void *arg);
/* Hands out the output produced so far that out() has not seen yet (normally output leaves
 * in 32 KB pieces as the window fills, and at the stream's end). The window keeps it for
 * back-references. 0, or -1 if out() refused it. */
int stub_inflate_flush(struct stub_inflate *z, stub_inflate_out_fn *out, void *arg);
/* Short English text for a return code ("distance too far back"). Never NULL. */
const char *stub_inflate_str(int rc);

#endif
