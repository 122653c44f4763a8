/*
 * logbuf.h: the log pane's model, without curses. A bounded scrollback of device lines (the
 * oldest lines are dropped once max_lines is reached), each kept as the raw bytes received (for
 * the hex view) and as escaped printable text (esc.h), with its arrival time, a role for colour,
 * and the decoder's annotation. The view either follows the tail or is frozen at a line, counting
 * the lines that arrived since; search runs a POSIX extended regex over text and annotation.
 *
 * Ownership: logbuf_new() returns a buffer the caller frees with logbuf_free(). Lines returned by
 * logbuf_get() are borrowed until the next logbuf_add()/logbuf_clear(). Errors: RC_ERR_ARG (bad
 * regex) and RC_ERR_IO (save), each with a cause (caller frees).
 */
#ifndef ESPDESK_LOGBUF_H
#define ESPDESK_LOGBUF_H

#include <stddef.h>
#include <stdint.h>

#define LOGBUF_DEFAULT_LINES 100000

/* What a line is, for colour. */
enum logbuf_role {
	LOGBUF_RX,       /* a line the device sent */
	LOGBUF_GARBAGE,  /* bytes read at the wrong baud */
	LOGBUF_BOOT,     /* a decoded boot line (ROM, loader, SDK) */
	LOGBUF_CRASH,    /* exception, watchdog, csum err */
	LOGBUF_NOTE,     /* espdesk's own note ("-- switched to 115200 baud") */
	LOGBUF_ROLE_COUNT
};

struct logbuf_line {
	uint64_t seq;        /* 1-based number since the buffer was created (survives drops) */
	int64_t time_ms;     /* wall-clock ms since the epoch when it arrived */
	enum logbuf_role role;
	char *text;          /* escaped, printable, NUL-terminated */
	uint8_t *raw;        /* the bytes as received (NULL for notes) */
	size_t rawlen;
	char *annot;         /* the decoder's annotation, or NULL */
};

struct logbuf;

/* max_lines 0 means LOGBUF_DEFAULT_LINES. */
struct logbuf *logbuf_new(size_t max_lines);
void logbuf_free(struct logbuf *lb);

/* Appends a line: raw (len bytes, may contain anything) is escaped for display; annot (may be
 * NULL) is copied. Drops the oldest line when full. Returns the new line's seq. */
uint64_t logbuf_add(struct logbuf *lb, enum logbuf_role role, int64_t time_ms, const void *raw,
    size_t len, const char *annot);
/* Removes every line (seq keeps counting). The view follows again. */
void logbuf_clear(struct logbuf *lb);

/* Lines held, and line idx (0 = oldest held; NULL past the end). */
size_t logbuf_count(const struct logbuf *lb);
const struct logbuf_line *logbuf_get(const struct logbuf *lb, size_t idx);
/* Index of the line with this seq, or -1 when it is not held (dropped or not yet added). */
long logbuf_find_seq(const struct logbuf *lb, uint64_t seq);
size_t logbuf_max(const struct logbuf *lb);
uint64_t logbuf_dropped(const struct logbuf *lb);

/* ---- the view ---- */
/* 1 while the view follows the tail. */
int logbuf_following(const struct logbuf *lb);
/* Index of the bottom line shown (the newest while following); -1 when empty. */
long logbuf_bottom(const struct logbuf *lb);
/* Lines that arrived since the view froze (0 while following). */
uint64_t logbuf_unseen(const struct logbuf *lb);
/* Moves the bottom by delta lines (negative: back in time). Moving back freezes the view;
 * reaching the newest line follows again. */
void logbuf_scroll(struct logbuf *lb, long delta);
/* Freezes the view with line idx at the bottom. */
void logbuf_show(struct logbuf *lb, size_t idx);
/* Follows the tail again. */
void logbuf_follow(struct logbuf *lb);

/*
 * Searches for regex re (POSIX extended, case-insensitive when icase) in text and annotation,
 * starting after (dir > 0, towards newer lines) or before (dir < 0) line idx `from` (-1: from the
 * newest end backwards, or from the oldest forwards), without wrapping. Returns the index found,
 * -1 when nothing matches, or RC_ERR_FORMAT (never -1) with *cause set for a bad regex
 * (caller frees).
 */
long logbuf_search(const struct logbuf *lb, const char *re, int icase, int dir, long from,
    char **cause);

/* Writes every held line to path (created or truncated), with "HH:MM:SS.mmm " stamps when
 * stamps is set and annotations as "    = ..." lines. RC_OK or RC_ERR_IO with *cause. */
int logbuf_save(const struct logbuf *lb, const char *path, int stamps, char **cause);

/* Formats time_ms as "HH:MM:SS.mmm" (local time) into dst (at least 13 bytes). */
void logbuf_stamp(int64_t time_ms, char *dst, size_t size);
/* Writes raw as "xx xx xx" hex into dst (NUL-terminated, truncated to size). Returns dst. */
char *logbuf_hex(const struct logbuf_line *l, char *dst, size_t size);

#endif
