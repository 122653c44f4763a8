/*
 * baudsw.h: the automatic baud switcher of the log pane and the flows' boot watch, without
 * curses or a port. The boot ROM talks at 74880 (on a 26 MHz crystal), the application at
 * 115200 or the profile's baud. The bootlog decoder marks a line as BL_GARBAGE with the
 * sender's likely baud when it was read at the wrong rate; the switcher then asks for that baud,
 * and drops what is still read at the old rate until the caller has switched the port. A pinned switcher never asks. After
 * BAUDSW_MAX_SWITCHES switches without one readable line in between it stops following (the
 * device talks at neither rate) and says so.
 *
 * Plain value, owned by the caller; nothing to free. Errors: none.
 */
#ifndef ESPDESK_BAUDSW_H
#define ESPDESK_BAUDSW_H

#include "bootlog/bootlog.h"

#define BAUDSW_ROM_BAUD 74880
#define BAUDSW_MAX_SWITCHES 4

enum baudsw_action {
	BAUDSW_SHOW,    /* show the line */
	BAUDSW_DROP,    /* read at the old baud after a switch was decided: do not show */
	BAUDSW_SWITCH,  /* switch the port to baudsw.want now (the line is not shown) */
};

struct baudsw {
	int baud;       /* the baud the port reads at */
	int app_baud;   /* the application's baud (profile or 115200) */
	int want;       /* a switch is pending to this baud; 0 none */
	int pinned;     /* 1: never switch */
	int gave_up;    /* 1: stopped following after too many switches */
	int switches;   /* switches since the last readable line */
	unsigned long dropped; /* bytes dropped since the switch was decided */
};

void baudsw_init(struct baudsw *sw, int baud, int app_baud);
/* Looks at one decoder event; see enum baudsw_action. */
enum baudsw_action baudsw_event(struct baudsw *sw, const struct bootlog_event *ev);
/* The caller switched the port to sw->want (ok = 1) or could not (ok = 0, which pins). */
void baudsw_done(struct baudsw *sw, int ok);
/* Pins at baud (0: at the current one) or unpins (following again from a clean count). */
void baudsw_pin(struct baudsw *sw, int baud);
void baudsw_unpin(struct baudsw *sw);
/* The baud to read a fresh boot at: the ROM's unless pinned. */
int baudsw_boot_baud(const struct baudsw *sw);

#endif
