/*
 * stub_inflate.c: streaming RFC 1950/1951 decoder, freestanding (see stub_inflate.h).
 *
 * How it stays resumable with input split anywhere: input bytes go into a 32-bit bit buffer,
 * which is topped up to at least 25 bits before each step while input lasts. Every step needs
 * at most 15 bits for a Huffman symbol (or 14 for a code-length symbol with its extra bits, 16
 * for the zlib header, 32 for stored LEN/NLEN and the Adler-32, both byte-aligned so a full
 * buffer holds them), and takes them only when all are there; otherwise the call returns
 * STUB_INFLATE_MORE with the state untouched and the bits kept for the next call. Lengths and
 * distances are therefore split into "symbol" and "extra bits" steps.
 *
 * Huffman codes are decoded canonically, one bit at a time against counts per length (as in
 * RFC 1951 §3.2.2): no lookup tables, so the code stays small enough for the ESP8266's IRAM.
 *
 * No config.h: this file is also cross-compiled for the chip (see stub.c).
 */
#include "stub/stub_inflate.h"

enum {
	S_ZHDR, S_BLKHDR, S_STORED_LEN, S_STORED_COPY, S_DYN_HDR, S_DYN_CLEN, S_DYN_LENS,
	S_CODES, S_LENEXT, S_DIST, S_DISTEXT, S_ADLER, S_END,
};

#define WMASK (STUB_INFLATE_WINDOW - 1)
#define ADLER_BASE 65521u

static const uint16_t len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
	4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
	193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8,
	8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
static const uint8_t clen_order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2,
	14, 1, 15 };

/* x % 31 for a 16-bit x without a division (the LX106 has no divide instruction). */
static uint32_t
mod31(uint32_t x)
{
	while (x >= 31u * 64u)
		x -= 31u * 64u;
	while (x >= 31u)
		x -= 31u;
	return x;
}

static void
zero(void *p, uint32_t n)
{
	uint8_t *b = p;

	while (n--)
		*b++ = 0;
}

void
stub_inflate_init(struct stub_inflate *z)
{
	/* The window's contents never matter before they are written; skip clearing 32 KB. */
	zero((uint8_t *)z + STUB_INFLATE_WINDOW, (uint32_t)(sizeof *z - STUB_INFLATE_WINDOW));
	z->state = S_ZHDR;
	z->rc = STUB_INFLATE_MORE;
	z->s1 = 1;
}

const char *
stub_inflate_str(int rc)
{
	switch (rc) {
	case STUB_INFLATE_MORE: return "needs more input";
	case STUB_INFLATE_DONE: return "done";
	case STUB_INFLATE_ERR_HEADER: return "bad zlib header";
	case STUB_INFLATE_ERR_BLOCK: return "invalid block type";
	case STUB_INFLATE_ERR_STORED: return "stored block length mismatch";
	case STUB_INFLATE_ERR_CODES: return "invalid Huffman code lengths";
	case STUB_INFLATE_ERR_SYMBOL: return "invalid symbol";
	case STUB_INFLATE_ERR_DIST: return "distance too far back";
	case STUB_INFLATE_ERR_ADLER: return "Adler-32 mismatch";
	case STUB_INFLATE_ERR_OUTPUT: return "output refused";
	}
	return "unknown inflate result";
}

/*
 * Builds a canonical decoding table from n code lengths. Returns 0, or -1 for an over-subscribed
 * set, or for an incomplete one unless incomplete_ok allows it. Like zlib, an incomplete set is
 * accepted for literal/length and distance codes only when it is a single code of length 1, and
 * a set with no codes at all is accepted (decoding any symbol from it then fails).
 */
static int
build(struct stub_huff *h, const uint8_t *lens, uint32_t n, int is_clen)
{
	uint16_t offs[16];
	int left = 1;
	uint32_t i, maxlen = 0;

	for (i = 0; i < 16; i++)
		h->count[i] = 0;
	for (i = 0; i < n; i++) {
		h->count[lens[i]]++;
		if (lens[i] > maxlen)
			maxlen = lens[i];
	}
	if (h->count[0] == n)
		return is_clen ? -1 : 0;
	for (i = 1; i < 16; i++) {
		left <<= 1;
		left -= h->count[i];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (i = 1; i < 15; i++)
		offs[i + 1] = (uint16_t)(offs[i] + h->count[i]);
	for (i = 0; i < n; i++)
		if (lens[i] != 0)
			h->symbol[offs[lens[i]]++] = (uint16_t)i;
	/* The fixed distance code (30 of 32 five-bit codes) is built and used although incomplete. */
	if (left > 0 && (is_clen || maxlen != 1))
		return -1;
	return 0;
}

/*
 * Decodes one symbol from the bit buffer without consuming. Returns the symbol and sets *used to
 * its length; returns -1 if more bits are needed (fewer than 15 available), -2 if invalid.
 */
static int
decode(const struct stub_inflate *z, const struct stub_huff *h, uint32_t *used)
{
	int code = 0, first = 0, index = 0;
	uint32_t bits = z->bitbuf;

	for (uint32_t len = 1; len < 16; len++) {
		int count;

		if (len > z->bitcnt)
			return -1;
		code |= (int)(bits & 1);
		bits >>= 1;
		count = h->count[len];
		if (code - count < first) {
			*used = len;
			return h->symbol[index + (code - first)];
		}
		index += count;
		first += count;
		first <<= 1;
		code <<= 1;
	}
	return -2;
}

static void
drop(struct stub_inflate *z, uint32_t n)
{
	z->bitbuf = n < 32 ? z->bitbuf >> n : 0;
	z->bitcnt = (uint8_t)(z->bitcnt - n);
}

static uint32_t
peek(const struct stub_inflate *z, uint32_t n)
{
	return n == 0 ? 0 : z->bitbuf & (0xFFFFFFFFu >> (32 - n));
}

/* Hands out window[flushed, wpos) (or up to the window's end) and updates the Adler-32. */
static int
flush(struct stub_inflate *z, uint32_t upto, stub_inflate_out_fn *out, void *arg)
{
	const uint8_t *p = z->window + z->flushed;
	uint32_t n = upto - z->flushed, s1 = z->s1, s2 = z->s2;

	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		s1 += p[i];
		if (s1 >= ADLER_BASE)
			s1 -= ADLER_BASE;
		s2 += s1;
		if (s2 >= ADLER_BASE)
			s2 -= ADLER_BASE;
	}
	z->s1 = s1;
	z->s2 = s2;
	z->flushed = upto & WMASK;
	return out != 0 && out(arg, p, n) != 0 ? -1 : 0;
}

int
stub_inflate_flush(struct stub_inflate *z, stub_inflate_out_fn *out, void *arg)
{
	return flush(z, z->wpos, out, arg);
}

/* Appends one byte to the window, flushing when it fills. Returns -1 if output was refused. */
static int
put(struct stub_inflate *z, uint8_t b, stub_inflate_out_fn *out, void *arg)
{
	z->window[z->wpos++] = b;
	if (++z->total_out == STUB_INFLATE_WINDOW)
		z->total_wrapped = 1;
	if (z->wpos == STUB_INFLATE_WINDOW) {
		z->wpos = 0;
		return flush(z, STUB_INFLATE_WINDOW, out, arg);
	}
	return 0;
}

static void
fixed_tables(struct stub_inflate *z)
{
	uint32_t i;

	for (i = 0; i < 144; i++)
		z->lens[i] = 8;
	for (; i < 256; i++)
		z->lens[i] = 9;
	for (; i < 280; i++)
		z->lens[i] = 7;
	for (; i < 288; i++)
		z->lens[i] = 8;
	(void)build(&z->lencode, z->lens, 288, 0);
	for (i = 0; i < 30; i++)
		z->lens[i] = 5;
	(void)build(&z->distcode, z->lens, 30, 0);
}

static int
fail(struct stub_inflate *z, int rc)
{
	z->rc = rc;
	return rc;
}

int
stub_inflate_feed(struct stub_inflate *z, const uint8_t *in, size_t len, size_t *used,
    stub_inflate_out_fn *out, void *arg)
{
	const uint8_t *p = in, *end = in + len;
	int rc = z->rc;

	/* Not enough bits for this step: top up again if input is left, else wait for more. */
#define NEED(cond) if (cond) { if (p < end) continue; goto more; }

	while (rc == STUB_INFLATE_MORE) {
		uint32_t v, n = 0;
		int sym;

		while (z->bitcnt <= 24 && p < end) {
			z->bitbuf |= (uint32_t)*p++ << z->bitcnt;
			z->bitcnt = (uint8_t)(z->bitcnt + 8);
		}
		switch (z->state) {
		case S_ZHDR:
			NEED(z->bitcnt < 16);
			v = peek(z, 16);
			drop(z, 16);
			/* CMF = low byte, FLG = high byte; check (CMF*256 + FLG) % 31 == 0. */
			if ((v & 0x0F) != 8 || ((v >> 4) & 0x0F) > 7 || (v >> 13) & 1 ||
			    mod31(((v & 0xFF) << 8) | (v >> 8)) != 0)
				rc = fail(z, STUB_INFLATE_ERR_HEADER);
			else
				z->state = S_BLKHDR;
			break;
		case S_BLKHDR:
			NEED(z->bitcnt < 3);
			v = peek(z, 3);
			drop(z, 3);
			z->last = (uint8_t)(v & 1);
			switch (v >> 1) {
			case 0:
				drop(z, z->bitcnt & 7u);
				z->state = S_STORED_LEN;
				break;
			case 1:
				fixed_tables(z);
				z->state = S_CODES;
				break;
			case 2:
				z->state = S_DYN_HDR;
				break;
			default:
				rc = fail(z, STUB_INFLATE_ERR_BLOCK);
			}
			break;
		case S_STORED_LEN:
			NEED(z->bitcnt < 32);
			v = z->bitbuf;
			drop(z, 32);
			if ((v & 0xFFFF) != (~v >> 16)) {
				rc = fail(z, STUB_INFLATE_ERR_STORED);
				break;
			}
			z->stored_left = v & 0xFFFF;
			z->state = S_STORED_COPY;
			break;
		case S_STORED_COPY:
			while (z->stored_left > 0 && z->bitcnt >= 8) {
				uint8_t b = (uint8_t)peek(z, 8);

				drop(z, 8);
				z->stored_left--;
				if (put(z, b, out, arg) != 0)
					return fail(z, STUB_INFLATE_ERR_OUTPUT);
			}
			while (z->stored_left > 0 && p < end) {
				z->stored_left--;
				if (put(z, *p++, out, arg) != 0)
					return fail(z, STUB_INFLATE_ERR_OUTPUT);
			}
			NEED(z->stored_left > 0);
			z->state = z->last ? S_ADLER : S_BLKHDR;
			break;
		case S_DYN_HDR:
			NEED(z->bitcnt < 14);
			v = peek(z, 14);
			drop(z, 14);
			z->nlen = (uint16_t)((v & 0x1F) + 257);
			z->ndist = (uint16_t)(((v >> 5) & 0x1F) + 1);
			z->ncode = (uint16_t)(((v >> 10) & 0x0F) + 4);
			if (z->nlen > 286 || z->ndist > 30) {
				rc = fail(z, STUB_INFLATE_ERR_CODES);
				break;
			}
			for (n = 0; n < 19; n++)
				z->lens[n] = 0;
			z->ncode_i = 0;
			z->state = S_DYN_CLEN;
			break;
		case S_DYN_CLEN:
			while (z->ncode_i < z->ncode && z->bitcnt >= 3) {
				z->lens[clen_order[z->ncode_i++]] = (uint8_t)peek(z, 3);
				drop(z, 3);
			}
			NEED(z->ncode_i < z->ncode);
			if (build(&z->lencode, z->lens, 19, 1) != 0) {
				rc = fail(z, STUB_INFLATE_ERR_CODES);
				break;
			}
			z->nlens = 0;
			z->state = S_DYN_LENS;
			break;
		case S_DYN_LENS: {
			uint32_t total = (uint32_t)z->nlen + z->ndist, rep, val = 0, extra;

			if (z->nlens >= total) {
				if (z->lens[256] == 0 ||
				    build(&z->lencode, z->lens, z->nlen, 0) != 0 ||
				    build(&z->distcode, z->lens + z->nlen, z->ndist, 0) != 0) {
					rc = fail(z, STUB_INFLATE_ERR_CODES);
					break;
				}
				z->state = S_CODES;
				break;
			}
			sym = decode(z, &z->lencode, &n);
			NEED(sym == -1);
			if (sym < 0) {
				rc = fail(z, STUB_INFLATE_ERR_CODES);
				break;
			}
			if (sym < 16) {
				drop(z, n);
				z->lens[z->nlens++] = (uint8_t)sym;
				break;
			}
			extra = sym == 16 ? 2 : sym == 17 ? 3 : 7;
			NEED(z->bitcnt < n + extra);
			drop(z, n);
			rep = peek(z, extra);
			drop(z, extra);
			if (sym == 16) {
				if (z->nlens == 0) {
					rc = fail(z, STUB_INFLATE_ERR_CODES);
					break;
				}
				val = z->lens[z->nlens - 1];
				rep += 3;
			} else
				rep += sym == 17 ? 3 : 11;
			if (z->nlens + rep > total) {
				rc = fail(z, STUB_INFLATE_ERR_CODES);
				break;
			}
			while (rep--)
				z->lens[z->nlens++] = (uint8_t)val;
			break;
		}
		case S_CODES:
			sym = decode(z, &z->lencode, &n);
			NEED(sym == -1);
			if (sym < 0 || sym > 285) {
				rc = fail(z, STUB_INFLATE_ERR_SYMBOL);
				break;
			}
			drop(z, n);
			if (sym < 256) {
				if (put(z, (uint8_t)sym, out, arg) != 0)
					return fail(z, STUB_INFLATE_ERR_OUTPUT);
			} else if (sym == 256) {
				z->state = z->last ? S_ADLER : S_BLKHDR;
			} else {
				z->ncode_i = (uint8_t)(sym - 257);
				z->state = S_LENEXT;
			}
			break;
		case S_LENEXT:
			n = len_extra[z->ncode_i];
			NEED(z->bitcnt < n);
			z->len = (uint16_t)(len_base[z->ncode_i] + peek(z, n));
			drop(z, n);
			z->state = S_DIST;
			break;
		case S_DIST:
			sym = decode(z, &z->distcode, &n);
			NEED(sym == -1);
			if (sym < 0 || sym > 29) {
				rc = fail(z, STUB_INFLATE_ERR_SYMBOL);
				break;
			}
			drop(z, n);
			z->ncode_i = (uint8_t)sym;
			z->state = S_DISTEXT;
			break;
		case S_DISTEXT: {
			uint32_t dist, from;

			n = dist_extra[z->ncode_i];
			NEED(z->bitcnt < n);
			dist = dist_base[z->ncode_i] + peek(z, n);
			drop(z, n);
			if (!z->total_wrapped && dist > z->total_out) {
				rc = fail(z, STUB_INFLATE_ERR_DIST);
				break;
			}
			from = (z->wpos - dist) & WMASK;
			while (z->len > 0) {
				z->len--;
				if (put(z, z->window[from], out, arg) != 0)
					return fail(z, STUB_INFLATE_ERR_OUTPUT);
				from = (from + 1) & WMASK;
			}
			z->state = S_CODES;
			break;
		}
		case S_ADLER:
			drop(z, z->bitcnt & 7u);
			NEED(z->bitcnt < 32);
			v = z->bitbuf;
			drop(z, 32);
			/* Big-endian on the wire; v holds the bytes little-endian. */
			v = (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
			if (flush(z, z->wpos, out, arg) != 0)
				return fail(z, STUB_INFLATE_ERR_OUTPUT);
			if (v != ((z->s2 << 16) | z->s1)) {
				rc = fail(z, STUB_INFLATE_ERR_ADLER);
				break;
			}
			z->state = S_END;
			rc = z->rc = STUB_INFLATE_DONE;
			break;
		default:
			rc = fail(z, STUB_INFLATE_ERR_BLOCK);
		}
	}
	/* Whole bytes still in the bit buffer after the end were not part of the stream. */
	if (used != 0) {
		size_t took = (size_t)(p - in);

		if (rc == STUB_INFLATE_DONE) {
			size_t back = z->bitcnt / 8u;

			took = back < took ? took - back : 0;
		}
		*used = took;
	}
	if (rc == STUB_INFLATE_DONE)
		z->bitbuf = 0, z->bitcnt = 0;
	return rc;
more:
	if (used != 0)
		*used = (size_t)(p - in);
	return STUB_INFLATE_MORE;
#undef NEED
}
