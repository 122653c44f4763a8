#include "config.h"

#include "rom/slip.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

enum { SLIP_OUTSIDE, SLIP_INSIDE, SLIP_ESCAPED, SLIP_SKIPPING };

void
slip_decoder_init(struct slip_decoder *d, size_t max_frame)
{
	memset(d, 0, sizeof *d);
	d->frame = xmalloc(max_frame);
	d->max_frame = max_frame;
}

void
slip_decoder_free(struct slip_decoder *d)
{
	free(d->frame);
	memset(d, 0, sizeof *d);
}

void
slip_decoder_reset(struct slip_decoder *d)
{
	d->len = 0;
	d->state = SLIP_OUTSIDE;
}

int
slip_decoder_in_frame(const struct slip_decoder *d)
{
	return d->state == SLIP_INSIDE || d->state == SLIP_ESCAPED;
}

static void
slip_emit(struct slip_decoder *d, enum slip_event ev, const uint8_t *data, size_t len, slip_cb *cb,
    void *arg)
{
	if (ev == SLIP_EV_FRAME)
		d->frames++;
	else if (ev == SLIP_EV_NOISE)
		d->noise_bytes += len;
	else
		d->errors++;
	if (cb != NULL)
		cb(arg, ev, data, len);
}

void
slip_decoder_feed(struct slip_decoder *d, const void *data, size_t len, slip_cb *cb, void *arg)
{
	const uint8_t *p = data, *end = p + len;

	while (p < end) {
		switch (d->state) {
		case SLIP_OUTSIDE: {
			/* Report a run of noise at once, not byte by byte. */
			const uint8_t *c = memchr(p, SLIP_END, (size_t)(end - p));
			const uint8_t *stop = c != NULL ? c : end;

			if (stop > p)
				slip_emit(d, SLIP_EV_NOISE, p, (size_t)(stop - p), cb, arg);
			p = stop;
			if (c != NULL) {
				d->state = SLIP_INSIDE;
				d->len = 0;
				p++;
			}
			break;
		}
		case SLIP_SKIPPING:
			/* After an error, drop bytes up to the next 0xC0, which ends the bad frame. */
			if (*p++ == SLIP_END)
				d->state = SLIP_OUTSIDE;
			break;
		case SLIP_INSIDE: {
			uint8_t c = *p++;

			if (c == SLIP_END) {
				d->state = SLIP_OUTSIDE;
				slip_emit(d, SLIP_EV_FRAME, d->frame, d->len, cb, arg);
				d->len = 0;
				break;
			}
			if (c == SLIP_ESC) {
				d->state = SLIP_ESCAPED;
				break;
			}
			if (d->len == d->max_frame) {
				slip_emit(d, SLIP_EV_OVERSIZE, d->frame, d->len, cb, arg);
				d->state = SLIP_SKIPPING;
				break;
			}
			d->frame[d->len++] = c;
			break;
		}
		case SLIP_ESCAPED: {
			uint8_t c = *p++;

			if (c != SLIP_ESC_END && c != SLIP_ESC_ESC) {
				slip_emit(d, SLIP_EV_BAD_ESCAPE, d->frame, d->len, cb, arg);
				/* A 0xC0 right after the ESC still closes the frame. */
				d->state = c == SLIP_END ? SLIP_OUTSIDE : SLIP_SKIPPING;
				break;
			}
			if (d->len == d->max_frame) {
				slip_emit(d, SLIP_EV_OVERSIZE, d->frame, d->len, cb, arg);
				d->state = SLIP_SKIPPING;
				break;
			}
			d->frame[d->len++] = c == SLIP_ESC_END ? SLIP_END : SLIP_ESC;
			d->state = SLIP_INSIDE;
			break;
		}
		}
	}
}

static size_t
slip_escape(uint8_t *dst, const uint8_t *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == SLIP_END) {
			dst[o++] = SLIP_ESC;
			dst[o++] = SLIP_ESC_END;
		} else if (s[i] == SLIP_ESC) {
			dst[o++] = SLIP_ESC;
			dst[o++] = SLIP_ESC_ESC;
		} else
			dst[o++] = s[i];
	}
	return o;
}

size_t
slip_encode(uint8_t *dst, const void *src, size_t len)
{
	size_t o = 0;

	dst[o++] = SLIP_END;
	o += slip_escape(dst + o, src, len);
	dst[o++] = SLIP_END;
	return o;
}

void
slip_escape_buf(struct buf *out, const void *src, size_t len)
{
	const uint8_t *s = src;
	uint8_t tmp[512];

	/* Escape in bounded chunks: at most 2 * 256 bytes of output per pass. */
	for (size_t i = 0; i < len; i += 256) {
		size_t n = len - i < 256 ? len - i : 256;

		buf_add(out, tmp, slip_escape(tmp, s + i, n));
	}
}

void
slip_encode_buf(struct buf *out, const void *src, size_t len)
{
	buf_add_byte(out, SLIP_END);
	slip_escape_buf(out, src, len);
	buf_add_byte(out, SLIP_END);
}
