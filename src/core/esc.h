/*
 * esc.h: make device bytes safe for a terminal or a log. Every byte that reaches a screen from a
 * device goes through here first: a boot ROM read at the wrong baud is line noise, and a stray
 * ESC would let the device drive the user's terminal.
 */
#ifndef ESPDESK_ESC_H
#define ESPDESK_ESC_H

#include <stddef.h>

/* Flags for esc_bytes(). */
#define ESC_KEEP_NL 0x1   /* pass '\n' through (line-oriented output) */
#define ESC_KEEP_UTF8 0x2 /* pass well-formed UTF-8 sequences through */

/*
 * Writes src[0..len) into dst as printable text, NUL-terminated, never more than dstsize bytes.
 * Tab stays a tab; other C0 controls, DEL and C1 become \r \e \xNN style escapes; bytes >= 0x80
 * become \xNN unless ESC_KEEP_UTF8 allows a valid sequence. Returns the number of source bytes
 * consumed (less than len only when dst filled up). dstsize must be at least 1.
 */
size_t esc_bytes(char *dst, size_t dstsize, const void *src, size_t len, int flags);

#endif
