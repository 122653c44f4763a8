#include "config.h"

#include "sim/sim_app.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

void
sim_app_init(struct sim_app *app)
{
	memset(app, 0, sizeof *app);
}

static void
free_lines(struct sim_app_line *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].text);
	free(l);
}

void
sim_app_free(struct sim_app *app)
{
	free(app->name);
	free(app->sdk);
	free(app->sdk_date);
	free(app->error);
	free_lines(app->start, app->nstart);
	free_lines(app->loop, app->nloop);
	sim_app_init(app);
}

void
sim_app_parser_init(struct sim_app_parser *p, struct sim_app *app)
{
	memset(p, 0, sizeof *p);
	p->app = app;
	buf_init(&p->line);
}

static void ED_PRINTFLIKE(2, 3)
bad(struct sim_app_parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	p->app->nerrors++;
	if (p->app->error != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->app->error = xstrdup(msg);
	p->app->error_line = p->lineno;
}

/* The next space-separated word of *s (advanced past it); its length in *n. NULL at the end. */
static const char *
word(const char **s, size_t *n)
{
	const char *w = *s;

	*n = 0;
	while (*w == ' ' || *w == '\t')
		w++;
	if (*w == '\0')
		return NULL;
	*n = strcspn(w, " \t");
	*s = w + *n;
	return w;
}

static int
word_is(const char *w, size_t n, const char *lit)
{
	return w != NULL && n == strlen(lit) && memcmp(w, lit, n) == 0;
}

/* A decimal or 0x number filling the whole word; 0 on failure. */
static int
number(const char *w, size_t n, uint32_t *v)
{
	char tmp[24], *end;
	unsigned long long x;

	if (w == NULL || n == 0 || n >= sizeof tmp || w[0] == '-' || w[0] == '+')
		return 0;
	memcpy(tmp, w, n);
	tmp[n] = '\0';
	x = strtoull(tmp, &end, 0);
	if (*end != '\0' || x > UINT32_MAX)
		return 0;
	*v = (uint32_t)x;
	return 1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
add_line(struct sim_app_parser *p, int loop, uint32_t delay_ms, const char *text)
{
	struct sim_app *a = p->app;
	struct sim_app_line **list = loop ? &a->loop : &a->start;
	size_t *n = loop ? &a->nloop : &a->nstart;
	size_t len = strlen(text), o = 0;
	char *t;

	if (*n >= SIM_APP_MAX_STEPS) {
		bad(p, "more than %d %s lines; the rest is ignored", SIM_APP_MAX_STEPS,
		    loop ? "`every`" : "start-up");
		return;
	}
	t = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\\' || i + 1 >= len) {
			t[o++] = text[i];
			continue;
		}
		switch (text[++i]) {
		case 'n': t[o++] = '\n'; break;
		case 'r': t[o++] = '\r'; break;
		case 't': t[o++] = '\t'; break;
		case '\\': t[o++] = '\\'; break;
		case 'x':
			if (i + 2 < len && hexval(text[i + 1]) >= 0 && hexval(text[i + 2]) >= 0) {
				t[o++] = (char)(hexval(text[i + 1]) << 4 | hexval(text[i + 2]));
				i += 2;
				break;
			}
			/* FALLTHROUGH */
		default:
			bad(p, "unknown escape '\\%c' (use \\\\, \\r, \\n, \\t or \\xHH)", text[i]);
			t[o++] = '\\';  /* kept as written */
			t[o++] = text[i];
		}
	}
	t[o] = '\0';
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[*n].delay_ms = delay_ms;
	(*list)[*n].text = t;
	(*list)[*n].len = o;
	(*n)++;
}

/* "N [ms]" then the rest; returns the rest or NULL (with an error) */
static const char *
duration(struct sim_app_parser *p, const char *s, uint32_t *ms, const char *what)
{
	const char *w, *save;
	size_t n;

	w = word(&s, &n);
	if (!number(w, n, ms)) {
		bad(p, "`%s` needs a time in ms, e.g. `%s 2000 ms ...`", what, what);
		return NULL;
	}
	save = s;
	w = word(&s, &n);
	if (!word_is(w, n, "ms"))
		s = save;
	return s;
}

/* After a duration: "print TEXT"; returns TEXT or NULL. */
static const char *
print_text(struct sim_app_parser *p, const char *s, const char *what)
{
	const char *w;
	size_t n;

	w = word(&s, &n);
	if (!word_is(w, n, "print")) {
		bad(p, "`%s N ms` must be followed by `print TEXT`", what);
		return NULL;
	}
	return *s == ' ' || *s == '\t' ? s + 1 : s;
}

static void
parse_crash(struct sim_app_parser *p, const char *s)
{
	struct sim_app *a = p->app;
	enum sim_scenario kind;
	uint32_t cause = 28, ms, v;
	const char *w;
	size_t n;

	w = word(&s, &n);
	if (word_is(w, n, "exception")) {
		kind = SIM_SCN_EXCEPTION;
		w = word(&s, &n);
		if (!number(w, n, &cause) || cause > 63) {
			bad(p, "`crash exception` needs an EXCCAUSE number 0..63, e.g. 28");
			return;
		}
	} else if (word_is(w, n, "soft-wdt"))
		kind = SIM_SCN_SOFT_WDT;
	else if (word_is(w, n, "hw-wdt"))
		kind = SIM_SCN_HW_WDT;
	else {
		bad(p, "unknown crash kind; expected `exception N`, `soft-wdt` or `hw-wdt`");
		return;
	}
	w = word(&s, &n);
	if (!word_is(w, n, "after")) {
		bad(p, "`crash ...` needs `after N ms`, e.g. `crash soft-wdt after 3000 ms`");
		return;
	}
	if ((s = duration(p, s, &ms, "after")) == NULL)
		return;
	a->epc1 = 0x4020bb67;     /* log 32's values, the defaults */
	a->excvaddr = 0x007e8008;
	while ((w = word(&s, &n)) != NULL) {
		if (n > 5 && memcmp(w, "epc1=", 5) == 0 && number(w + 5, n - 5, &v))
			a->epc1 = v;
		else if (n > 9 && memcmp(w, "excvaddr=", 9) == 0 && number(w + 9, n - 9, &v))
			a->excvaddr = v;
		else {
			bad(p, "unknown crash option '%.*s'; expected epc1=0x... or excvaddr=0x...",
			    (int)(n > 40 ? 40 : n), w);
			return;
		}
	}
	a->crash = kind;
	a->exccause = cause;
	a->crash_after_ms = ms;
}

static void
set_str(char **dst, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	free(*dst);
	*dst = xstrdup(s);
}

static void
parse_line(struct sim_app_parser *p, const char *s)
{
	struct sim_app *a = p->app;
	const char *w, *rest;
	uint32_t v;
	size_t n;

	w = word(&s, &n);
	if (w == NULL || w[0] == '#')
		return;
	if (word_is(w, n, "name"))
		set_str(&a->name, s);
	else if (word_is(w, n, "baud")) {
		w = word(&s, &n);
		if (!number(w, n, &v) || v < 300 || v > 5000000)
			bad(p, "`baud` needs a rate between 300 and 5000000, e.g. `baud 115200`");
		else
			a->baud = v;
	} else if (word_is(w, n, "core")) {
		w = word(&s, &n);
		if (word_is(w, n, "arduino"))
			a->core = SIM_APP_CORE_ARDUINO;
		else if (word_is(w, n, "nonos"))
			a->core = SIM_APP_CORE_NONOS;
		else
			bad(p, "`core` is `arduino` or `nonos`");
	} else if (word_is(w, n, "sdk"))
		set_str(&a->sdk, s);
	else if (word_is(w, n, "sdk-date"))
		set_str(&a->sdk_date, s);
	else if (word_is(w, n, "sdk-debug")) {
		w = word(&s, &n);
		if (word_is(w, n, "on"))
			a->sdk_debug = 1;
		else if (word_is(w, n, "off"))
			a->sdk_debug = 0;
		else
			bad(p, "`sdk-debug` is `on` or `off`");
	} else if (word_is(w, n, "sdk-banner")) {
		w = word(&s, &n);
		if (word_is(w, n, "on"))
			a->sdk_banner_off = 0;
		else if (word_is(w, n, "off"))
			a->sdk_banner_off = 1;
		else
			bad(p, "`sdk-banner` is `on` or `off`");
	} else if (word_is(w, n, "print"))
		add_line(p, 0, 0, *s == ' ' || *s == '\t' ? s + 1 : s);
	else if (word_is(w, n, "after")) {
		if ((rest = duration(p, s, &v, "after")) != NULL && (rest = print_text(p, rest, "after")) != NULL)
			add_line(p, 0, v, rest);
	} else if (word_is(w, n, "every")) {
		if ((rest = duration(p, s, &v, "every")) == NULL)
			return;
		if (v == 0) {
			bad(p, "`every` needs at least 1 ms");
			return;
		}
		if ((rest = print_text(p, rest, "every")) != NULL)
			add_line(p, 1, v, rest);
	} else if (word_is(w, n, "crash"))
		parse_crash(p, s);
	else
		bad(p, "unknown directive '%.*s'; expected name, baud, core, sdk, sdk-date, sdk-debug, "
		    "sdk-banner, print, after, every or crash", (int)(n > 40 ? 40 : n), w);
}

static void
end_line(struct sim_app_parser *p)
{
	size_t len = buf_len(&p->line);
	char text[SIM_APP_MAX_LINE + 1];

	p->lineno++;
	if (len > SIM_APP_MAX_LINE) {
		bad(p, "line longer than %d bytes; it was cut", SIM_APP_MAX_LINE);
		len = SIM_APP_MAX_LINE;
	}
	if (len > 0)
		memcpy(text, buf_head(&p->line), len);
	if (len > 0 && text[len - 1] == '\r')
		len--;
	text[len] = '\0';
	buf_reset(&p->line);
	parse_line(p, text);
}

void
sim_app_parser_feed(struct sim_app_parser *p, const void *data, size_t len)
{
	const uint8_t *d = data;

	for (size_t i = 0; i < len && !p->stopped; i++) {
		if (d[i] == '\0') {
			p->stopped = 1;
			if (buf_len(&p->line) > 0)
				end_line(p);
		} else if (d[i] == '\n')
			end_line(p);
		else if (buf_len(&p->line) <= SIM_APP_MAX_LINE)
			buf_add_byte(&p->line, d[i]);
	}
}

void
sim_app_parser_finish(struct sim_app_parser *p)
{
	if (!p->stopped && buf_len(&p->line) > 0)
		end_line(p);
	buf_free(&p->line);
}

int
sim_app_find(const uint8_t *buf, size_t len, struct sim_app *app)
{
	static const char marker[] = SIM_APP_MARKER;
	const size_t mlen = sizeof marker - 1;
	struct sim_app_parser p;

	for (size_t i = 0; i + mlen <= len; i++) {
		if (buf[i] != (uint8_t)marker[0] || memcmp(buf + i, marker, mlen) != 0)
			continue;
		sim_app_parser_init(&p, app);
		sim_app_parser_feed(&p, buf + i + mlen, len - i - mlen);
		sim_app_parser_finish(&p);
		app->found = 1;
		return 1;
	}
	return 0;
}
