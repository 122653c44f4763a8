/*
 * sim_baud.h: the baud a host set on the simulator's pseudo-terminal.
 *
 * TCGETS2 on a pty master returns the slave's termios2 (the kernel redirects termios ioctls on a
 * master to its slave), so the simulator sees the speed the host's tcsetattr or TCSETS2 chose,
 * custom speeds such as 74880 included. Kept apart from every file that includes <termios.h>,
 * because <asm/termbits.h> defines a clashing struct termios.
 */
#ifndef ESPDESK_SIM_BAUD_H
#define ESPDESK_SIM_BAUD_H

#include <stdint.h>

/* The output baud of the tty behind fd, or 0 if it cannot be read. */
uint32_t sim_baud_get(int fd);

#endif
