#include "config.h"

#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof *b);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

void
buf_add(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (b->off + b->len + len > b->cap) {
		/* Compact first: a queue that is drained as fast as it fills never grows. */
		if (b->off > 0) {
			memmove(b->data, b->data + b->off, b->len);
			b->off = 0;
		}
		if (b->len + len > b->cap) {
			size_t cap = b->cap ? b->cap : 256;

			while (cap < b->len + len)
				cap *= 2;
			b->data = xreallocarray(b->data, cap, 1);
			b->cap = cap;
		}
	}
	memcpy(b->data + b->off + b->len, data, len);
	b->len += len;
}

void
buf_add_byte(struct buf *b, uint8_t c)
{
	buf_add(b, &c, 1);
}

void
buf_drain(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}
