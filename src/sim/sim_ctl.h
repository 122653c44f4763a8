/*
 * sim_ctl.h: the control channel's command language (espdesk-sim --control PATH).
 *
 * One command per line; every line gets one reply line starting with "ok" or "error":
 *   power on|off|cycle          supply voltage (cycle: off, then on)
 *   gpio0 down|up               the GPIO0 (FLASH/BOOT) button
 *   reset                       pulse EN/RST (an external reset, rst cause 2)
 *   strap gpio2|gpio15 low|high strapping levels sampled at the next hardware reset
 *   scenario none|exception|soft-wdt|hw-wdt|brownout
 *   unplug | plug               pull / reconnect the USB cable (the pty or the RFC 2217 link)
 *   status                      "ok powered=... mode=... baud=... gpio0=... latched=(x,y,z) ..."
 *   help                        the list above, on one line
 * Words are separated by blanks; case matters; empty lines and lines starting with '#' get no
 * reply. The caller provides the face's hooks (unplug, plug, its own status words).
 */
#ifndef ESPDESK_SIM_CTL_H
#define ESPDESK_SIM_CTL_H

#include <stdint.h>

#include "sim/sim_dev.h"

struct sim_ctl_ops {
	/* Pull the cable / put it back. plug returns 0 or -1 with *err set (heap string). */
	void (*unplug)(void *arg);
	int (*plug)(void *arg, char **err);
	/* Extra status words of the face, e.g. "port=/dev/pts/3 plugged=yes host_baud=115200"
	 * (borrowed, valid until the next call). */
	const char *(*status)(void *arg);
};

/* Runs one line at now_us. Returns the reply line without its newline (caller frees), or NULL
 * when the line is empty or a comment. */
char *sim_ctl_exec(struct sim_dev *d, const char *line, int64_t now_us,
    const struct sim_ctl_ops *ops, void *arg);

#endif
