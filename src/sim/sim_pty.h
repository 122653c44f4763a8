/*
 * sim_pty.h: the pseudo-terminal face of espdesk-sim.
 *
 * The simulator owns the master side; hosts open the slave (its path, or a stable symlink made
 * with --link). The slave starts in raw mode (no echo, no CR/LF mapping, no flow control), so the
 * device's bytes reach the host unchanged even if the host forgets to set raw mode. The simulator
 * also keeps one slave fd open itself: without it, reads on the master fail with EIO and poll()
 * reports POLLHUP whenever no host has the port open. Closing the pty (unplug, cut-after) hangs
 * up every host that has the slave open, as a pulled USB cable does.
 */
#ifndef ESPDESK_SIM_PTY_H
#define ESPDESK_SIM_PTY_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

struct sim_pty {
	int master, slave;
	char name[128];     /* slave path */
	char *link;         /* owned; NULL without --link */
};

/* Opens a new pty and, with link non-NULL, points the symlink at it (atomically replacing an old
 * one). p->master = -1 on failure. */
int sim_pty_open(struct sim_pty *p, const char *link, char **cause);
/* Closes both sides (hosts see a hangup) and removes the symlink, as an unplugged adapter's
 * device node goes; its name is kept for the next sim_pty_open() unless remove_link. */
void sim_pty_close(struct sim_pty *p, int remove_link);
/* Throws away what the host has not read (bytes nobody reads are lost, as on a real line). */
void sim_pty_discard_output(struct sim_pty *p);

#endif
