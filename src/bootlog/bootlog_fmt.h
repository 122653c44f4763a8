/*
 * bootlog_fmt.h: the annotated log and the diagnosis as text or JSON, appended to a struct buf.
 * Shared by `espdesk decode`, `espdesk monitor` and the TUI's log pane; the callers print.
 *
 * Every device byte goes through esc_bytes() (src/core/esc.h) before it lands in the output, so
 * the result is safe for a terminal; JSON strings are escaped once more for JSON (quotes,
 * backslashes, control characters as \u00XX), so the output is always valid UTF-8 JSON.
 * Nothing here fails; the buffers grow as needed (xmalloc policy).
 */
#ifndef ESPDESK_BOOTLOG_FMT_H
#define ESPDESK_BOOTLOG_FMT_H

#include <stddef.h>

#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "core/buf.h"

#define BOOTLOG_FMT_LINENO 0x1       /* prefix the line number */
#define BOOTLOG_FMT_HIDE_GARBAGE 0x2 /* show a garbled line as a note, not as its bytes */

/* Appends one event: the escaped line, then "    = annotation" on its own line if there is one. */
void bootlog_fmt_line(struct buf *out, const struct bootlog_event *ev, int flags);
/* Appends the verdict as a few indented lines of text. */
void bootlog_fmt_verdict(struct buf *out, const struct bootlog_verdict *v);

/* Appends bytes as a JSON string literal (with the quotes). */
void bootlog_fmt_json_str(struct buf *out, const void *bytes, size_t len);
/* Appends one event as a JSON object. */
void bootlog_fmt_json_event(struct buf *out, const struct bootlog_event *ev);
/*
 * Appends the one-object report: {"cause", "confidence", "alternative", "check", "summary",
 * "evidence": [{"line", "text"}], "advice", "boots", "loop", "interval_ms", "events": [...]},
 * where events_json (len bytes) is the comma-separated list of bootlog_fmt_json_event() objects.
 */
void bootlog_fmt_json_report(struct buf *out, const struct bootlog_verdict *v,
    const void *events_json, size_t len);

#endif
