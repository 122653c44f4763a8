/*
 * xmalloc.h: allocation wrappers. Policy (after tmux): a zero size is a bug and aborts; running
 * out of memory is fatal. Every returned pointer is owned by the caller and freed with free().
 */
#ifndef ESPDESK_XMALLOC_H
#define ESPDESK_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "core/common.h"

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **ret, const char *fmt, ...) ED_PRINTFLIKE(2, 3);
int xvasprintf(char **ret, const char *fmt, va_list ap) ED_PRINTFLIKE(2, 0);
/* Returns a new heap string formatted like printf; shorthand for building `cause` strings. */
char *xfmt(const char *fmt, ...) ED_PRINTFLIKE(1, 2);

#endif
