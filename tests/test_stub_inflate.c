/*
 * The stub's own inflate against zlib as the oracle: zlib compresses (every level and strategy,
 * several window sizes), our decoder must give back the original bytes, in any input chunking;
 * corrupt streams must be judged as zlib judges them and never make us crash or overrun.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "stub/stub_inflate.h"
#include "tap.h"

struct sink {
	uint8_t *buf;
	size_t len, cap;
	int overflow, calls;
	size_t max_piece;
	size_t refuse_after; /* refuse output once len reaches this (0: never) */
};

static int
sink_out(void *arg, const uint8_t *data, uint32_t len)
{
	struct sink *s = arg;

	s->calls++;
	if (len > s->max_piece)
		s->max_piece = len;
	if (s->len + len > s->cap) {
		s->overflow = 1;
		return 1;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	if (s->refuse_after != 0 && s->len >= s->refuse_after)
		return 1;
	return 0;
}

static uint32_t rng = 12345;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* zlib compression with explicit parameters. Returns the compressed size; *out is malloc'd. */
static size_t
zcompress(const uint8_t *in, size_t len, int level, int strategy, int wbits, uint8_t **out)
{
	z_stream zs;
	size_t cap = compressBound((uLong)len) + 64;
	int rc;

	memset(&zs, 0, sizeof zs);
	*out = malloc(cap);
	if (deflateInit2(&zs, level, Z_DEFLATED, wbits, 8, strategy) != Z_OK)
		abort();
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = *out;
	zs.avail_out = (uInt)cap;
	rc = deflate(&zs, Z_FINISH);
	if (rc != Z_STREAM_END)
		abort();
	deflateEnd(&zs);
	return zs.total_out;
}

/* zlib's verdict on a stream: 1 and the output if it is a complete valid stream, else 0. */
static int
zinflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	z_stream zs;
	int rc;

	memset(&zs, 0, sizeof zs);
	if (inflateInit(&zs) != Z_OK)
		abort();
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	rc = inflate(&zs, Z_FINISH);
	*outlen = zs.total_out;
	inflateEnd(&zs);
	return rc == Z_STREAM_END;
}

static struct stub_inflate zst;

/* Our decoder over in, fed in chunks of `chunk` bytes (0 = random chunk sizes). */
static int
ours(const uint8_t *in, size_t len, size_t chunk, struct sink *s, size_t *used_total)
{
	size_t off = 0, used;
	int rc = STUB_INFLATE_MORE;

	stub_inflate_init(&zst);
	*used_total = 0;
	while (off < len && rc == STUB_INFLATE_MORE) {
		size_t n = chunk ? chunk : 1 + rnd() % 5000;

		if (n > len - off)
			n = len - off;
		rc = stub_inflate_feed(&zst, in + off, n, &used, sink_out, s);
		if (rc == STUB_INFLATE_MORE && used != n)
			return -100;
		*used_total += used;
		off += n;
	}
	return rc;
}

static uint8_t *
make_data(int kind, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	for (size_t i = 0; i < len; i++) {
		switch (kind) {
		case 0: d[i] = (uint8_t)rnd(); break;                 /* random */
		case 1: d[i] = 0xFF; break;                            /* erased flash */
		case 2: d[i] = "the quick brown fox, jumps; 0123"[rnd() % 32]; break; /* text-ish */
		case 3: /* firmware-like: code-ish runs, repeats, and half 0xFF */
			if ((i / 4096) % 2 == 1)
				d[i] = 0xFF;
			else if (i >= 300 && rnd() % 4 != 0)
				d[i] = d[i - 1 - rnd() % 300];
			else
				d[i] = (uint8_t)rnd();
			break;
		default: /* far repeats: distances right up to 32768 */
			d[i] = i < 32768 ? (uint8_t)rnd() : d[i - 32768 + (i % 3 == 0 ? 1 : 0)];
		}
	}
	return d;
}

static void
check_roundtrip(const uint8_t *data, size_t len, int level, int strategy, int wbits, size_t chunk,
    const char *what)
{
	uint8_t *z;
	size_t zlen = zcompress(data, len, level, strategy, wbits, &z), used;
	struct sink s = { malloc(len + 1), 0, len + 1, 0, 0, 0, 0 };
	int rc = ours(z, zlen, chunk, &s, &used);

	T_CHECK_(rc == STUB_INFLATE_DONE, "%s level %d strategy %d wbits %d chunk %zu: rc %d (%s)",
	    what, level, strategy, wbits, chunk, rc, stub_inflate_str(rc));
	T_CHECK_(s.len == len && memcmp(s.buf, data, len) == 0,
	    "%s level %d strategy %d: output differs (%zu of %zu bytes)", what, level, strategy,
	    s.len, len);
	T_CHECK_(used == zlen, "%s: used %zu of %zu", what, used, zlen);
	T_CHECK_(s.max_piece <= STUB_INFLATE_WINDOW, "piece of %zu bytes", s.max_piece);
	free(s.buf);
	free(z);
}

static void
test_levels_and_kinds(void)
{
	static const size_t sizes[] = { 0, 1, 100, 4096, 70000, 200000 };

	for (int kind = 0; kind < 5; kind++)
		for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
			uint8_t *d = make_data(kind, sizes[si]);

			for (int level = 0; level <= 9; level++)
				check_roundtrip(d, sizes[si], level, Z_DEFAULT_STRATEGY, 15, 0, "kinds");
			free(d);
		}
}

static void
test_strategies(void)
{
	static const int strategies[] = { Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED,
		Z_DEFAULT_STRATEGY };

	for (int kind = 0; kind < 5; kind++) {
		uint8_t *d = make_data(kind, 100000);

		for (size_t k = 0; k < sizeof strategies / sizeof strategies[0]; k++)
			for (int level = 1; level <= 9; level += 4)
				check_roundtrip(d, 100000, level, strategies[k], 15, 0, "strategy");
		free(d);
	}
}

static void
test_window_sizes(void)
{
	uint8_t *d = make_data(3, 150000);

	for (int wbits = 9; wbits <= 15; wbits++)
		check_roundtrip(d, 150000, 9, Z_DEFAULT_STRATEGY, wbits, 0, "window");
	free(d);
}

static void
test_every_split_small(void)
{
	/* Small streams of each block type, split in two at every byte, and fed byte by byte. */
	static const int strategies[] = { Z_DEFAULT_STRATEGY, Z_FIXED, Z_HUFFMAN_ONLY };
	int bad = 0, cases = 0;

	for (int kind = 0; kind < 4; kind++) {
		uint8_t *d = make_data(kind, 700);

		for (int level = 0; level <= 9; level += 3)
			for (size_t k = 0; k < 3; k++) {
				uint8_t *z;
				size_t zlen = zcompress(d, 700, level, strategies[k], 15, &z);

				for (size_t cut = 0; cut <= zlen; cut++) {
					struct sink s = { malloc(701), 0, 701, 0, 0, 0, 0 };
					size_t u1 = 0, u2 = 0;
					int rc;

					stub_inflate_init(&zst);
					rc = stub_inflate_feed(&zst, z, cut, &u1, sink_out, &s);
					if (rc == STUB_INFLATE_MORE)
						rc = stub_inflate_feed(&zst, z + cut, zlen - cut, &u2,
						    sink_out, &s);
					cases++;
					if (rc != STUB_INFLATE_DONE || s.len != 700 ||
					    memcmp(s.buf, d, 700) != 0 || u1 + u2 != zlen)
						bad++;
					free(s.buf);
				}
				{
					struct sink s = { malloc(701), 0, 701, 0, 0, 0, 0 };
					size_t used;

					T_EQ_INT(ours(z, zlen, 1, &s, &used), STUB_INFLATE_DONE);
					T_EQ_MEM(s.buf, d, 700);
					free(s.buf);
				}
				free(z);
			}
		free(d);
	}
	T_CHECK_(bad == 0, "%d of %d split cases failed", bad, cases);
}

static void
test_trailing_bytes(void)
{
	/* Bytes after the Adler-32 are not consumed; a second call returns DONE again. */
	uint8_t *d = make_data(2, 1000), *z, buf[4000];
	size_t zlen = zcompress(d, 1000, 6, Z_DEFAULT_STRATEGY, 15, &z), used;
	struct sink s = { malloc(1001), 0, 1001, 0, 0, 0, 0 };

	memcpy(buf, z, zlen);
	memset(buf + zlen, 0xAB, 7);
	stub_inflate_init(&zst);
	T_EQ_INT(stub_inflate_feed(&zst, buf, zlen + 7, &used, sink_out, &s), STUB_INFLATE_DONE);
	T_EQ_INT(used, zlen);
	T_EQ_INT(s.len, 1000);
	T_EQ_INT(stub_inflate_feed(&zst, buf, 3, &used, sink_out, &s), STUB_INFLATE_DONE);
	free(s.buf);
	free(z);
	free(d);
}

static void
test_header_errors(void)
{
	struct sink s = { malloc(16), 0, 16, 0, 0, 0, 0 };
	size_t used;

	/* RFC 1950: CM must be 8, FCHECK must make the u16 a multiple of 31, FDICT unsupported. */
	stub_inflate_init(&zst);
	T_EQ_INT(stub_inflate_feed(&zst, (const uint8_t *)"\x78\x9d", 2, &used, sink_out, &s),
	    STUB_INFLATE_ERR_HEADER);
	stub_inflate_init(&zst);
	T_EQ_INT(stub_inflate_feed(&zst, (const uint8_t *)"\x77\x5e", 2, &used, sink_out, &s),
	    STUB_INFLATE_ERR_HEADER);
	stub_inflate_init(&zst);  /* 0x78 0xBB: FDICT set, valid check */
	T_EQ_INT(stub_inflate_feed(&zst, (const uint8_t *)"\x78\xbb", 2, &used, sink_out, &s),
	    STUB_INFLATE_ERR_HEADER);
	/* Sticky: the error repeats. */
	T_EQ_INT(stub_inflate_feed(&zst, (const uint8_t *)"\x78\x9c", 2, &used, sink_out, &s),
	    STUB_INFLATE_ERR_HEADER);
	/* Block type 3. */
	stub_inflate_init(&zst);
	T_EQ_INT(stub_inflate_feed(&zst, (const uint8_t *)"\x78\x9c\x07", 3, &used, sink_out, &s),
	    STUB_INFLATE_ERR_BLOCK);
	/* Stored block with LEN != ~NLEN. */
	stub_inflate_init(&zst);
	T_EQ_INT(stub_inflate_feed(&zst, (const uint8_t *)"\x78\x01\x01\x05\x00\xfa\xfe", 7, &used,
	    sink_out, &s), STUB_INFLATE_ERR_STORED);
	/* A fixed block whose first match reaches before the start: 0x78 0x9c, then bits. */
	stub_inflate_init(&zst);
	T_EQ_INT(stub_inflate_feed(&zst, (const uint8_t *)"\x78\x9c\x03\x02\x00\x00\x00\x00", 8,
	    &used, sink_out, &s), STUB_INFLATE_ERR_DIST);
	T_EQ_INT(s.len, 0);
	free(s.buf);
}

static void
test_adler_mismatch(void)
{
	uint8_t *d = make_data(0, 5000), *z;
	size_t zlen = zcompress(d, 5000, 9, Z_DEFAULT_STRATEGY, 15, &z), used;
	struct sink s = { malloc(5001), 0, 5001, 0, 0, 0, 0 };

	z[zlen - 1] ^= 1;
	T_EQ_INT(ours(z, zlen, 0, &s, &used), STUB_INFLATE_ERR_ADLER);
	free(s.buf);
	free(z);
	free(d);
}

static void
test_output_refused(void)
{
	uint8_t *d = make_data(1, 100000), *z;
	size_t zlen = zcompress(d, 100000, 9, Z_DEFAULT_STRATEGY, 15, &z), used;
	struct sink s = { malloc(100001), 0, 100001, 0, 0, 0, 32768 };

	T_EQ_INT(ours(z, zlen, 0, &s, &used), STUB_INFLATE_ERR_OUTPUT);
	T_EQ_INT(s.len, 32768);
	T_EQ_INT(s.calls, 1);
	free(s.buf);
	free(z);
	free(d);
}

static void
test_one_megabyte_all_ff(void)
{
	/* An erased 1 MB image compresses to about 1 KB; the output comes in 32 pieces of 32 KB. */
	size_t len = 1 << 20;
	uint8_t *d = make_data(1, len), *z;
	size_t zlen = zcompress(d, len, 9, Z_DEFAULT_STRATEGY, 15, &z), used;
	struct sink s = { malloc(len), 0, len, 0, 0, 0, 0 };

	T_EQ_INT(ours(z, zlen, 0x4000, &s, &used), STUB_INFLATE_DONE);
	T_EQ_INT(s.len, len);
	T_EQ_INT(s.calls, 32);
	T_EQ_INT(memcmp(s.buf, d, len), 0);
	free(s.buf);
	free(z);
	free(d);
}

static void
test_corrupt_streams_match_zlib(void)
{
	/* Flip bits / truncate / overwrite; our verdict and output must equal zlib's. */
	static uint8_t zout[70000];
	int disagree = 0, total = 0, overflow = 0;

	for (int kind = 0; kind < 5; kind++)
		for (int level = 0; level <= 9; level += 1) {
			uint8_t *d = make_data(kind, 3000 + kind * 1000), *z, *m;
			size_t dlen = 3000 + (size_t)kind * 1000;
			size_t zlen = zcompress(d, dlen, level, level % 2 ? Z_FIXED : Z_DEFAULT_STRATEGY,
			    15, &z);

			m = malloc(zlen);
			for (int t = 0; t < 300; t++) {
				struct sink s = { malloc(sizeof zout), 0, sizeof zout, 0, 0, 0, 0 };
				size_t mlen = zlen, zl, used;
				int zok, rc;

				memcpy(m, z, zlen);
				switch (t % 3) {
				case 0:
					for (int k = 0; k < 1 + t % 4; k++)
						m[rnd() % zlen] ^= (uint8_t)(1u << (rnd() % 8));
					break;
				case 1:
					mlen = rnd() % zlen;
					break;
				default:
					m[rnd() % zlen] = (uint8_t)rnd();
				}
				zok = zinflate(m, mlen, zout, sizeof zout, &zl);
				rc = ours(m, mlen, 0, &s, &used);
				total++;
				if (s.overflow)
					overflow++;
				if (zok != (rc == STUB_INFLATE_DONE) ||
				    (zok && (zl != s.len || memcmp(zout, s.buf, zl) != 0)))
					disagree++;
				free(s.buf);
			}
			free(m);
			free(z);
			free(d);
		}
	printf("# %d corrupt streams, %d disagreements with zlib\n", total, disagree);
	T_EQ_INT(disagree, 0);
	T_EQ_INT(overflow, 0);
}

int
main(void)
{
	T_RUN(test_levels_and_kinds);
	T_RUN(test_strategies);
	T_RUN(test_window_sizes);
	T_RUN(test_every_split_small);
	T_RUN(test_trailing_bytes);
	T_RUN(test_header_errors);
	T_RUN(test_adler_mismatch);
	T_RUN(test_output_refused);
	T_RUN(test_one_megabyte_all_ff);
	T_RUN(test_corrupt_streams_match_zlib);
	return t_done();
}
