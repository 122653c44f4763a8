/*
 * ser_wait.c: waiting for a port that went away (an adapter unplugged) to come back.
 */
#include "config.h"

#include "serial/ser_wait.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/xmalloc.h"
#include "serial/ser.h"

int
ser_wait_back(const char *path, int baud, int64_t deadline_ms, atomic_bool *cancel,
    ser_wait_cb *say, void *arg, struct ser **out, char **cause)
{
	int64_t last_say = -1, stuck_since = -1;
	char *why = NULL;
	int rc;

	*out = NULL;
	*cause = NULL;
	for (;;) {
		int64_t now = clock_now_ms();

		free(why);
		why = NULL;
		if ((rc = ser_open(path, baud, out, &why)) == RC_OK)
			return RC_OK;
		/* "No such port" (or a server that refuses) is the unplugged state; anything else
		 * means the port is there and something keeps it from us. */
		if (rc == RC_ERR_ARG || strncmp(path, "rfc2217://", 10) == 0)
			stuck_since = -1;
		else if (stuck_since < 0)
			stuck_since = now;
		if (say != NULL && (last_say < 0 || now - last_say >= 1000)) {
			int stuck = stuck_since >= 0 && now - stuck_since >= SER_WAIT_STUCK_MS;

			last_say = now;
			say(arg, !stuck, stuck ? why : NULL);
		}
		if (cancel != NULL && atomic_load(cancel)) {
			free(why);
			*cause = xfmt("cancelled while waiting for %s to come back", path);
			return RC_ERR_CANCEL;
		}
		if (deadline_ms >= 0 && now >= deadline_ms) {
			if (stuck_since >= 0) {
				*cause = why;
				return rc;
			}
			free(why);
			*cause = xfmt("%s did not come back (the adapter is still unplugged)", path);
			return RC_ERR_GONE;
		}
		/* 200 ms between tries, in slices, so a cancel is seen within 50 ms. */
		for (int i = 0; i < 4 && (cancel == NULL || !atomic_load(cancel)); i++)
			clock_sleep_ms(50);
	}
}
