/*
 * bootlog_fmt.c: text and JSON renderings of events and verdicts.
 */
#include "config.h"

#include "bootlog/bootlog_fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/esc.h"

static void
addf(struct buf *out, const char *fmt, ...) ED_PRINTFLIKE(2, 3);

static void
addf(struct buf *out, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(out, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void
adds(struct buf *out, const char *s)
{
	buf_add(out, s, strlen(s));
}

/* Appends device bytes escaped for a terminal. */
static void
add_escaped(struct buf *out, const uint8_t *p, size_t len)
{
	char tmp[1024];

	while (len > 0) {
		size_t used = esc_bytes(tmp, sizeof tmp, p, len, ESC_KEEP_UTF8);

		adds(out, tmp);
		if (used == 0)
			break; /* cannot happen: 1024 bytes hold any single escape */
		p += used;
		len -= used;
	}
}

/* Kinds whose annotation is noise in a listing. */
static int
quiet(enum bootlog_kind k)
{
	return k == BL_ROM_TAIL || k == BL_ROM_HO || k == BL_STACK_LINE || k == BL_STACK_END;
}

void
bootlog_fmt_line(struct buf *out, const struct bootlog_event *ev, int flags)
{
	char note[512];

	if (flags & BOOTLOG_FMT_LINENO)
		addf(out, "%5llu  ", (unsigned long long)ev->lineno);
	if (ev->kind == BL_GARBAGE && (flags & BOOTLOG_FMT_HIDE_GARBAGE))
		addf(out, (ev->flags & BOOTLOG_F_STALE) ? "[%zu bytes of text read before the port was "
		    "at %d baud]" : "[%zu bytes of text sent at another baud, likely %d]", ev->len,
		    ev->baud);
	else
		add_escaped(out, ev->text, ev->len);
	if (ev->flags & BOOTLOG_F_SPLIT)
		adds(out, " [line continues]");
	buf_add_byte(out, '\n');
	bootlog_describe(ev, note, sizeof note);
	if (note[0] != '\0' && !quiet(ev->kind) &&
	    !(ev->kind == BL_GARBAGE && (flags & BOOTLOG_FMT_HIDE_GARBAGE))) {
		adds(out, (flags & BOOTLOG_FMT_LINENO) ? "       = " : "  = ");
		adds(out, note);
		buf_add_byte(out, '\n');
	}
}

void
bootlog_fmt_verdict(struct buf *out, const struct bootlog_verdict *v)
{
	addf(out, "diagnosis: %s (confidence %.2f)\n", bootlog_cause_name(v->cause), v->confidence);
	addf(out, "  why: %s\n", v->summary);
	if (v->nevidence > 0) {
		adds(out, "  evidence:\n");
		for (size_t i = 0; i < v->nevidence; i++) {
			addf(out, "    line %llu: ", (unsigned long long)v->evidence[i].lineno);
			add_escaped(out, v->evidence[i].text, v->evidence[i].len);
			buf_add_byte(out, '\n');
		}
	}
	addf(out, "  advice: %s\n", v->advice);
	if (v->alt != BL_CAUSE_NONE)
		addf(out, "  not certain: %s or %s remain.%s%s\n", bootlog_cause_name(v->cause),
		    bootlog_cause_name(v->alt), v->check != NULL ? " " : "",
		    v->check != NULL ? v->check : "");
	addf(out, "  boots seen: %u%s", v->boots, v->loop ? " (reset loop)" : "");
	if (v->interval_ms >= 0)
		addf(out, ", one every %.1f s", (double)v->interval_ms / 1000.0);
	buf_add_byte(out, '\n');
}

void
bootlog_fmt_json_str(struct buf *out, const void *bytes, size_t len)
{
	struct buf tmp = BUF_INIT;
	const uint8_t *p;

	/* First make the bytes printable (valid UTF-8 stays, everything else becomes \xNN), then
	 * escape that text for JSON. */
	add_escaped(&tmp, bytes, len);
	buf_add_byte(out, '"');
	p = buf_head(&tmp);
	for (size_t i = 0; i < buf_len(&tmp); i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\') {
			buf_add_byte(out, '\\');
			buf_add_byte(out, c);
		} else if (c == '\t')
			adds(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			addf(out, "\\u%04x", c);
		else
			buf_add_byte(out, c);
	}
	buf_add_byte(out, '"');
	buf_free(&tmp);
}

static void
json_cstr(struct buf *out, const char *s)
{
	bootlog_fmt_json_str(out, s, strlen(s));
}

void
bootlog_fmt_json_event(struct buf *out, const struct bootlog_event *ev)
{
	char note[512];

	addf(out, "{\"line\": %llu, \"offset\": %llu, \"kind\": \"%s\", \"text\": ",
	    (unsigned long long)ev->lineno, (unsigned long long)ev->offset, bootlog_kind_name(ev->kind));
	bootlog_fmt_json_str(out, ev->text, ev->len);
	bootlog_describe(ev, note, sizeof note);
	if (note[0] != '\0') {
		adds(out, ", \"note\": ");
		json_cstr(out, note);
	}
	if (ev->kind == BL_GARBAGE)
		addf(out, ", \"baud\": %d", ev->baud);
	adds(out, "}");
}

void
bootlog_fmt_json_report(struct buf *out, const struct bootlog_verdict *v,
    const void *events_json, size_t len)
{
	/* Printed by hand: %f follows LC_NUMERIC, and JSON needs a point. */
	int hundredths = (int)(v->confidence * 100.0 + 0.5);

	addf(out, "{\"cause\": \"%s\", \"confidence\": %d.%02d, \"alternative\": ",
	    bootlog_cause_name(v->cause), hundredths / 100, hundredths % 100);
	if (v->alt != BL_CAUSE_NONE)
		addf(out, "\"%s\"", bootlog_cause_name(v->alt));
	else
		adds(out, "null");
	adds(out, ", \"check\": ");
	if (v->check != NULL)
		json_cstr(out, v->check);
	else
		adds(out, "null");
	adds(out, ", \"summary\": ");
	json_cstr(out, v->summary);
	adds(out, ", \"evidence\": [");
	for (size_t i = 0; i < v->nevidence; i++) {
		addf(out, "%s{\"line\": %llu, \"text\": ", i ? ", " : "",
		    (unsigned long long)v->evidence[i].lineno);
		bootlog_fmt_json_str(out, v->evidence[i].text, v->evidence[i].len);
		adds(out, "}");
	}
	adds(out, "], \"advice\": ");
	json_cstr(out, v->advice);
	addf(out, ", \"boots\": %u, \"loop\": %s, \"interval_ms\": ", v->boots,
	    v->loop ? "true" : "false");
	if (v->interval_ms >= 0)
		addf(out, "%lld", (long long)v->interval_ms);
	else
		adds(out, "null");
	adds(out, ", \"events\": [");
	buf_add(out, events_json, len);
	adds(out, "]}\n");
}
