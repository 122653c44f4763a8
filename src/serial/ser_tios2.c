/*
 * ser_tios2.c: termios2 (TCGETS2/TCSETS2) on a tty fd, for custom baud rates such as 74880 and
 * for saving and restoring a port's settings exactly.
 *
 * This file must not include <termios.h> (or anything that does): <asm/termbits.h> defines its
 * own struct termios and the two clash. Hence also no <sys/ioctl.h>; ioctl() is declared by hand.
 */
#include "config.h"

#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <errno.h>
#include <string.h>

#include "serial/ser_int.h"

extern int ioctl(int fd, unsigned long request, ...);

_Static_assert(sizeof(struct termios2) <= sizeof(((struct ser_tios_saved *)0)->raw),
    "struct ser_tios_saved is too small for struct termios2");

int
ser_tios2_save(int fd, struct ser_tios_saved *sv)
{
	struct termios2 t;

	sv->valid = 0;
	if (ioctl(fd, TCGETS2, &t) == -1)
		return -1;
	memcpy(sv->raw, &t, sizeof t);
	sv->valid = 1;
	return 0;
}

int
ser_tios2_restore(int fd, const struct ser_tios_saved *sv)
{
	struct termios2 t;

	if (!sv->valid) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&t, sv->raw, sizeof t);
	return ioctl(fd, TCSETS2, &t);
}

int
ser_tios2_set_speed(int fd, int baud)
{
	struct termios2 t;

	if (baud <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (ioctl(fd, TCGETS2, &t) == -1)
		return -1;
	/* BOTHER in both the output and the input field: the speeds are then taken from
	 * c_ospeed/c_ispeed as plain numbers, whatever the rate. */
	t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
	t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
	t.c_ispeed = (speed_t)baud;
	t.c_ospeed = (speed_t)baud;
	return ioctl(fd, TCSETS2, &t);
}

int
ser_tios2_get_speed(int fd, int *ispeed, int *ospeed)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) == -1)
		return -1;
	*ispeed = (int)t.c_ispeed;
	*ospeed = (int)t.c_ospeed;
	return 0;
}
