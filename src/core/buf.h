/*
 * buf.h: a growable byte queue. Bytes are added at the tail and drained from the head; the
 * storage is compacted lazily so draining is O(1). Used for serial TX queues and line assembly.
 * A struct buf is owned by whoever embeds it; buf_free() releases its storage.
 */
#ifndef ESPDESK_BUF_H
#define ESPDESK_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t off;  /* start of unread bytes */
	size_t len;  /* number of unread bytes */
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_add_byte(struct buf *b, uint8_t c);
/* Drops n bytes from the head (n <= buf_len). */
void buf_drain(struct buf *b, size_t n);
void buf_reset(struct buf *b);
static inline size_t buf_len(const struct buf *b) { return b->len; }
/* Pointer to the first unread byte; borrowed until the next add. NULL when empty. */
static inline const uint8_t *buf_head(const struct buf *b) { return b->len ? b->data + b->off : NULL; }

#endif
