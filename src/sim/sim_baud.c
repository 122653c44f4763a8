#include "config.h"

#include "sim/sim_baud.h"

#include <asm/ioctls.h>
#include <asm/termbits.h>

/* <sys/ioctl.h> would pull in the libc termios definitions; declare ioctl() by hand. */
extern int ioctl(int fd, unsigned long request, ...);

uint32_t
sim_baud_get(int fd)
{
	static const struct { unsigned code; uint32_t baud; } std[] = {
		{ B1200, 1200 }, { B2400, 2400 }, { B4800, 4800 }, { B9600, 9600 },
		{ B19200, 19200 }, { B38400, 38400 }, { B57600, 57600 }, { B115200, 115200 },
		{ B230400, 230400 }, { B460800, 460800 }, { B500000, 500000 },
		{ B576000, 576000 }, { B921600, 921600 }, { B1000000, 1000000 },
		{ B1500000, 1500000 }, { B2000000, 2000000 }, { B3000000, 3000000 },
	};
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) == -1)
		return 0;
	/* The kernel keeps c_ospeed in step for standard rates too; BOTHER always sets it. */
	if (t.c_ospeed != 0)
		return t.c_ospeed;
	for (unsigned i = 0; i < sizeof std / sizeof std[0]; i++)
		if ((t.c_cflag & CBAUD) == std[i].code)
			return std[i].baud;
	return 0;
}
