/*
 * test_serial_tios2.c: the test's own view of a pty's speed, through TCGETS2/TCSETS2 on the
 * master side (which reads and writes the slave's termios). Kept apart from test_serial.c
 * because <asm/termbits.h> clashes with <termios.h>, and independent of src/serial so that the
 * test does not check our code with our code.
 */
#include "config.h"

#include <asm/ioctls.h>
#include <asm/termbits.h>

int tpty_get_speed(int fd, int *ispeed, int *ospeed);
int tpty_set_speed(int fd, int baud);
int tpty_get_lflag_echo(int fd);
extern int ioctl(int fd, unsigned long request, ...);

int
tpty_get_speed(int fd, int *ispeed, int *ospeed)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) == -1)
		return -1;
	*ispeed = (int)t.c_ispeed;
	*ospeed = (int)t.c_ospeed;
	return 0;
}

int
tpty_set_speed(int fd, int baud)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) == -1)
		return -1;
	t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
	t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
	t.c_ispeed = t.c_ospeed = (speed_t)baud;
	t.c_lflag |= ECHO | ICANON;
	return ioctl(fd, TCSETS2, &t);
}

/* 1 if ECHO is on, 0 if off, -1 on error. */
int
tpty_get_lflag_echo(int fd)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) == -1)
		return -1;
	return (t.c_lflag & ECHO) != 0;
}
