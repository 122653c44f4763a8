/* The automatic baud switcher: follows the decoder's wrong-baud verdicts, pinnable. */
#include "config.h"

#include "bootlog/baudsw.h"

#include <string.h>

void
baudsw_init(struct baudsw *sw, int baud, int app_baud)
{
	memset(sw, 0, sizeof *sw);
	sw->baud = baud > 0 ? baud : BAUDSW_ROM_BAUD;
	sw->app_baud = app_baud > 0 ? app_baud : 115200;
}

enum baudsw_action
baudsw_event(struct baudsw *sw, const struct bootlog_event *ev)
{
	if (sw->want != 0) {
		sw->dropped += ev->len;
		return BAUDSW_DROP;
	}
	if (ev->kind == BL_GARBAGE && !sw->pinned && !sw->gave_up && ev->baud > 0 &&
	    ev->baud != sw->baud) {
		if (sw->switches >= BAUDSW_MAX_SWITCHES) {
			sw->gave_up = 1;
			return BAUDSW_SHOW;
		}
		sw->want = ev->baud;
		sw->dropped = ev->len;
		return BAUDSW_SWITCH;
	}
	/* A readable line proves the current baud right. */
	if (ev->kind != BL_GARBAGE && ev->len > ev->skip)
		sw->switches = 0;
	return BAUDSW_SHOW;
}

void
baudsw_done(struct baudsw *sw, int ok)
{
	if (ok) {
		sw->baud = sw->want;
		sw->switches++;
	} else
		sw->pinned = 1;
	sw->want = 0;
	sw->dropped = 0;
}

void
baudsw_pin(struct baudsw *sw, int baud)
{
	if (baud > 0)
		sw->baud = baud;
	sw->pinned = 1;
	sw->want = 0;
}

void
baudsw_unpin(struct baudsw *sw)
{
	sw->pinned = 0;
	sw->gave_up = 0;
	sw->switches = 0;
}

int
baudsw_boot_baud(const struct baudsw *sw)
{
	return sw->pinned ? sw->baud : BAUDSW_ROM_BAUD;
}
