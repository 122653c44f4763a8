/*
 * sim_app.h: what a simulated application prints. The simulator cannot run Xtensa code, so an
 * image built for it carries a small script in one of its segments (the firmware builder,
 * sim_fw.c, puts it there; doc/sim-firmware.md documents the language):
 *
 *   #espdesk-sim-app 1              marker; the script runs to the first NUL byte
 *   name Sonoff Basic demo          free text, shown by tools
 *   baud 115200                     the application's UART baud (default 115200)
 *   core arduino | nonos            whose crash texts it prints (default: from the layout)
 *   sdk 1.5.4.1(39cb9a32)           NONOS SDK version string for the SDK banner and checks
 *   sdk-date Jul  1 2016 20:04:35   the banner's "compiled @" part
 *   sdk-debug on | off              the SDK prints its own crash line too (Arduino: setDebugOutput)
 *   sdk-banner on | off             a NONOS app prints log 01's SDK banner (default on)
 *   print TEXT                      a line printed at start-up
 *   after N ms print TEXT           a start-up line N ms after the previous one
 *   every N ms print TEXT           a step of the endless loop: wait N ms, print TEXT
 *   crash exception N after T ms [epc1=0x..] [excvaddr=0x..]
 *   crash soft-wdt after T ms
 *   crash hw-wdt after T ms         the application itself fails T ms after it starts
 *
 * TEXT is printed followed by "\r\n"; it may use \\, \r, \n, \t and \xHH escapes. `#` starts a
 * comment line; blank lines are ignored; `ms` is optional.
 *
 * The parser is a push parser: feed it bytes in chunks of any size. A bad line is skipped and
 * counted, and the first problem is kept (line number, what is wrong, what is expected) so that the
 * firmware builder can refuse a bad script; the simulated chip just runs the good lines.
 */
#ifndef ESPDESK_SIM_APP_H
#define ESPDESK_SIM_APP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sim/sim_boot.h"

#define SIM_APP_MARKER "#espdesk-sim-app 1\n"
#define SIM_APP_MAX_LINE 512   /* longer lines are an error and are cut */
#define SIM_APP_MAX_STEPS 256  /* per list (start-up, loop) */

enum sim_app_core { SIM_APP_CORE_DEFAULT, SIM_APP_CORE_NONOS, SIM_APP_CORE_ARDUINO };

struct sim_app_line {
	uint32_t delay_ms;  /* before this line */
	char *text;         /* owned, without the line end; may hold any bytes */
	size_t len;
};

struct sim_app {
	int found;                  /* a script was found (sim_app_find) */
	char *name;                 /* owned, NULL if not given */
	uint32_t baud;              /* 0 if not given */
	enum sim_app_core core;
	char *sdk, *sdk_date;       /* owned, NULL if not given */
	int sdk_debug;
	int sdk_banner_off;         /* `sdk-banner off`: a NONOS app without the AT-style banner */
	struct sim_app_line *start;
	size_t nstart;
	struct sim_app_line *loop;
	size_t nloop;
	enum sim_scenario crash;    /* SIM_SCN_NONE unless a crash line was given */
	uint32_t crash_after_ms;
	unsigned exccause;
	uint32_t epc1, excvaddr;
	unsigned nerrors;
	char *error;                /* owned: the first problem and what to write instead, or NULL */
	unsigned error_line;        /* its line, counted from 1 after the marker */
};

struct sim_app_parser {
	struct sim_app *app;        /* borrowed */
	struct buf line;
	unsigned lineno;
	int stopped;                /* a NUL byte ended the script */
};

/* An empty application. Free with sim_app_free() (which also accepts an unused one). */
void sim_app_init(struct sim_app *app);
void sim_app_free(struct sim_app *app);

void sim_app_parser_init(struct sim_app_parser *p, struct sim_app *app);
/* Feeds script bytes (after the marker). A NUL byte ends the script; later bytes are ignored. */
void sim_app_parser_feed(struct sim_app_parser *p, const void *data, size_t len);
/* Parses a last line without a line end and releases the parser (not the app). */
void sim_app_parser_finish(struct sim_app_parser *p);

/* Looks for SIM_APP_MARKER in buf and parses the script after it into app (which must be
 * initialised). Returns 1 and sets app->found when a script was found, else 0. */
int sim_app_find(const uint8_t *buf, size_t len, struct sim_app *app);

#endif
