#include "config.h"

#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/esc.h"

static FILE *log_file;
static void (*log_fatal_hook)(void);
static char log_ring[LOG_RING_SIZE][160];
static size_t log_ring_next, log_ring_count;
/* The flasher runs on a worker thread; one lock keeps lines whole. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int
log_open(const char *path)
{
	FILE *f = fopen(path, "a");

	if (f == NULL)
		return RC_ERR_IO;
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	return RC_OK;
}

void
log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

int
log_enabled(void)
{
	return log_file != NULL;
}

static void log_vwrite(enum log_level, const char *, va_list) ED_PRINTFLIKE(2, 0);

static void
log_vwrite(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *names[] = { "debug", "info", "warn" };
	char raw[1024], safe[4096];
	struct timespec ts;
	struct tm tm;

	if (log_file == NULL && lvl == LOG_LEVEL_DEBUG)
		return;
	vsnprintf(raw, sizeof raw, fmt, ap);
	esc_bytes(safe, sizeof safe, raw, strlen(raw), 0);

	pthread_mutex_lock(&log_lock);
	if (lvl != LOG_LEVEL_DEBUG) {
		size_t k = strnlen(safe, sizeof log_ring[0] - 1);

		memcpy(log_ring[log_ring_next], safe, k);
		log_ring[log_ring_next][k] = '\0';
		log_ring_next = (log_ring_next + 1) % LOG_RING_SIZE;
		if (log_ring_count < LOG_RING_SIZE)
			log_ring_count++;
	}
	if (log_file != NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(log_file, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s\n", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts.tv_nsec / 1000000, names[lvl], safe);
	}
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(lvl, fmt, ap);
	va_end(ap);
}

void
log_hex(const char *prefix, const void *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = buf;
	char line[3 * 64 + 1];
	size_t i, n;

	if (log_file == NULL)
		return;
	for (i = 0; i < len; i += n) {
		n = len - i < 64 ? len - i : 64;
		for (size_t j = 0; j < n; j++) {
			line[3 * j] = hex[p[i + j] >> 4];
			line[3 * j + 1] = hex[p[i + j] & 15];
			line[3 * j + 2] = ' ';
		}
		line[3 * n - 1] = '\0'; /* n >= 1 here */
		log_debug("%s +%zu: %s", prefix, i, line);
	}
}

const char *
log_ring_get(size_t idx)
{
	if (idx >= log_ring_count)
		return NULL;
	return log_ring[(log_ring_next + LOG_RING_SIZE - log_ring_count + idx) % LOG_RING_SIZE];
}

void
log_set_fatal_hook(void (*hook)(void))
{
	log_fatal_hook = hook;
}

static ED_NORETURN void log_die(int, const char *, va_list) ED_PRINTFLIKE(2, 0);

static ED_NORETURN void
log_die(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_fatal_hook != NULL) {
		void (*hook)(void) = log_fatal_hook;

		log_fatal_hook = NULL;
		hook();
	}
	log_warn("fatal: %s%s%s", msg, with_errno ? ": " : "", with_errno ? strerror(saved) : "");
	if (with_errno)
		fprintf(stderr, "espdesk: %s: %s\n", msg, strerror(saved));
	else
		fprintf(stderr, "espdesk: %s\n", msg);
	exit(1);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_die(1, fmt, ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_die(0, fmt, ap);
}

const char *
rc_str(int rc)
{
	switch (rc) {
	case RC_ERR_ARG: return "invalid argument";
	case RC_ERR_IO: return "I/O error";
	case RC_ERR_TIMEOUT: return "timed out";
	case RC_ERR_PROTO: return "protocol error";
	case RC_ERR_FORMAT: return "malformed data";
	case RC_ERR_CANCEL: return "cancelled";
	case RC_ERR_GONE: return "device gone";
	case RC_ERR_BUSY: return "busy";
	case RC_ERR_NOTSUP: return "not supported";
	case RC_ERR_DEVICE: return "device reported failure";
	case RC_ERR_VERIFY: return "verification failed";
	default: return rc >= 0 ? "ok" : "unknown error";
	}
}
