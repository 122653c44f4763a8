/*
 * log.h: the one logging facility. Messages go to a file opened with -v (never to the terminal,
 * which may be running the TUI) and to a small in-memory ring that a UI pane can show.
 * Every message is escaped (esc.h) before it is written, since serial data is arbitrary bytes.
 *
 * fatal()/fatalx() run the hook set with log_set_fatal_hook() (the UI restores the terminal
 * there), print to stderr and exit(1). Only main.c, src/cli/ and src/ui/ call them, plus
 * xmalloc on out-of-memory.
 */
#ifndef ESPDESK_LOG_H
#define ESPDESK_LOG_H

#include <stddef.h>

#include "core/common.h"

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN };

/* Opens (appends to) the log file at path. Returns RC_OK or RC_ERR_IO with errno set. */
int log_open(const char *path);
void log_close(void);
int log_enabled(void);

void log_msg(enum log_level lvl, const char *fmt, ...) ED_PRINTFLIKE(2, 3);
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
/* Logs len bytes as hex with a prefix, at debug level; no-op when no log is open. */
void log_hex(const char *prefix, const void *buf, size_t len);

/* The last LOG_RING_SIZE info/warn messages. Index 0 is the oldest; returns NULL past the end.
 * Borrowed: valid until the next log call. */
#define LOG_RING_SIZE 64
const char *log_ring_get(size_t idx);

void log_set_fatal_hook(void (*hook)(void));
/* Prints "espdesk: msg: strerror(errno)" and exits 1. */
ED_NORETURN void fatal(const char *fmt, ...) ED_PRINTFLIKE(1, 2);
/* Prints "espdesk: msg" and exits 1. */
ED_NORETURN void fatalx(const char *fmt, ...) ED_PRINTFLIKE(1, 2);

#endif
