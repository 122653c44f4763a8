/*
 * ser_wait.h: waiting for a port that went away to come back.
 *
 * On a board powered from its USB-serial adapter (every Sonoff on the bench) the way to cycle
 * the power is to unplug the adapter and plug it in again, so the port disappears while a flow
 * or the flasher waits for the user. ser_wait_back() waits for it under the same name (a
 * /dev/serial/by-id path keeps its name across replugs; /dev/ttyUSBn usually does).
 *
 * Errors: enum rc; on failure *cause is a heap string (caller frees) that names the port.
 */
#ifndef ESPDESK_SER_WAIT_H
#define ESPDESK_SER_WAIT_H

#include <stdatomic.h>
#include <stdint.h>

struct ser;

/* What ser_wait_back() tells its caller, for the user: the port is not there (gone, why NULL),
 * or it is back but has not opened for SER_WAIT_STUCK_MS (why says what stops it: another
 * program holds it, such as ModemManager probing a new port; permission). */
#define SER_WAIT_STUCK_MS 5000
typedef void ser_wait_cb(void *arg, int gone, const char *why);

/*
 * Tries to open path at baud every 200 ms until it opens (RC_OK, *out set), *cancel is set
 * (RC_ERR_CANCEL; cancel may be NULL), or clock_now_ms() reaches deadline_ms (< 0: never; then
 * RC_ERR_GONE, or the last open error, with *cause). say (may be NULL) is called at once with
 * gone = 1, then once a second with the state as it is.
 */
int ser_wait_back(const char *path, int baud, int64_t deadline_ms, atomic_bool *cancel,
    ser_wait_cb *say, void *arg, struct ser **out, char **cause);

#endif
