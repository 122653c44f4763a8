/*
 * ui.h: the workstation, `espdesk tui` and `espdesk --demo`.
 *
 * Principles of operation (doc/ARCHITECTURE.md). One thread runs a poll() loop that owns curses:
 * terminal input, the serial port while no job runs, the job's wake-up pipe, and a self-pipe
 * for SIGINT/SIGTERM/SIGHUP. Device bytes go through the boot-log decoder into the log model
 * (logbuf) and the diagnosis; callbacks only mark the screen dirty, and the loop redraws at most
 * UI_FPS times a second, so a fast log never floods a slow SSH link. A flasher job takes the
 * port (the loop closes it), runs on the worker thread (ui_job.h) and gives it back when done;
 * the log then resumes and shows the boot. The terminal and the port are restored on every exit
 * path, fatal() included (log_set_fatal_hook).
 *
 * Errors: ui_run() returns RC_OK, or a negative enum rc with *cause set (caller frees) when it
 * could not start (no terminal, the port cannot be opened, the demo would not start).
 */
#ifndef ESPDESK_UI_H
#define ESPDESK_UI_H

#include <stddef.h>

#define UI_FPS 30
#define UI_MIN_COLS 80
#define UI_MIN_ROWS 24

struct ui_opts {
	const char *port;      /* NULL only with demo */
	const char *profile;   /* profile name or NULL */
	int baud;              /* starting baud; 0 = 74880 (the ROM) */
	int app_baud;          /* the application's; 0 = the profile's or 115200 */
	size_t max_lines;      /* scrollback; 0 = LOGBUF_DEFAULT_LINES */
	int demo;              /* start espdesk-sim and add the demo keys */
};

int ui_run(const struct ui_opts *o, char **cause);

#endif
