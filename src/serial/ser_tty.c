/*
 * ser_tty.c: the plain termios backend, for pseudo-terminals and any tty libserialport refuses.
 * ser.c has opened, locked and saved the fd; this file makes it raw 8N1 and moves bytes.
 * A pty has no modem lines: the ioctls fail with ENOTTY/EINVAL, which we report as
 * RC_ERR_NOTSUP so that a reset sequence can say "not on this port" instead of failing.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/xmalloc.h"
#include "serial/ser_int.h"

static int
tty_read(struct ser *s, uint8_t *buf, size_t len)
{
	ssize_t n = read(s->fd, buf, len);

	if (n > 0)
		return (int)n;
	if (n == 0)  /* end of file on a tty: hung up */
		return ser_fail(s, RC_ERR_GONE, "%s: the device hung up (unplugged, or the other side "
		    "closed); check the cable, then run again", s->name);
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	return ser_fail_errno(s, "reading", errno);
}

static int
tty_write(struct ser *s, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (len == 0)
		return 0;
	n = write(s->fd, buf, len);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	return ser_fail_errno(s, "writing", errno);
}

static int
tty_set_baud(struct ser *s, int baud)
{
	if (ser_tios2_set_speed(s->fd, baud) == -1)
		return ser_fail(s, errno == EINVAL ? RC_ERR_NOTSUP : RC_ERR_IO,
		    "%s: cannot set %d baud: %s", s->name, baud, strerror(errno));
	return RC_OK;
}

static int
tty_lines_error(struct ser *s, int err)
{
	if (err == ENOTTY || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP)
		return ser_fail(s, RC_ERR_NOTSUP, "%s has no DTR/RTS lines (a pseudo-terminal?); "
		    "reset the device by hand: hold GPIO0 low and power-cycle it", s->name);
	return ser_fail_errno(s, "setting DTR/RTS", err);
}

static int
tty_set_lines(struct ser *s, int dtr, int rts)
{
	int bits;

	/* One TIOCMSET for both lines: the tight reset sequence needs them to change together. */
	if (ioctl(s->fd, TIOCMGET, &bits) == -1)
		return tty_lines_error(s, errno);
	if (dtr >= 0)
		bits = dtr ? bits | TIOCM_DTR : bits & ~TIOCM_DTR;
	if (rts >= 0)
		bits = rts ? bits | TIOCM_RTS : bits & ~TIOCM_RTS;
	if (ioctl(s->fd, TIOCMSET, &bits) == -1)
		return tty_lines_error(s, errno);
	return RC_OK;
}

static int
tty_send_break(struct ser *s, int ms)
{
	if (ioctl(s->fd, TIOCSBRK) == -1)
		return errno == ENOTTY || errno == EINVAL ? ser_fail(s, RC_ERR_NOTSUP,
		    "%s cannot send a break", s->name) : ser_fail_errno(s, "sending a break", errno);
	clock_sleep_ms(ms);
	if (ioctl(s->fd, TIOCCBRK) == -1)
		return ser_fail_errno(s, "ending a break", errno);
	return RC_OK;
}

static int
tty_out_pending(struct ser *s, size_t *n)
{
	int q = 0;

	if (ioctl(s->fd, TIOCOUTQ, &q) == -1) {
		*n = 0;
		return ser_fail_errno(s, "asking for the output queue", errno);
	}
	*n = q > 0 ? (size_t)q : 0;
	return RC_OK;
}

static int
tty_discard(struct ser *s)
{
	if (tcflush(s->fd, TCIOFLUSH) == -1)
		return ser_fail_errno(s, "discarding buffers", errno);
	return RC_OK;
}

static void
tty_close(struct ser *s)
{
	/* ser.c closes the fd after restoring the settings through it. */
	(void)s;
}

const struct ser_backend ser_tty_backend = {
	.name = "termios",
	.read = tty_read,
	.write = tty_write,
	.set_baud = tty_set_baud,
	.set_lines = tty_set_lines,
	.send_break = tty_send_break,
	.out_pending = tty_out_pending,
	.discard = tty_discard,
	.tx_held = NULL,
	.close = tty_close,
};

int
ser_tty_setup(struct ser *s, int baud, char **cause)
{
	struct termios t;

	s->be = &ser_tty_backend;
	if (tcgetattr(s->fd, &t) == -1) {
		*cause = xfmt("cannot read the settings of %s: %s", s->name, strerror(errno));
		return RC_ERR_IO;
	}
	/* Raw 8N1: no echo, no line editing, no CR/NL translation, no software or hardware flow
	 * control; CLOCAL so a missing carrier never blocks us. */
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | CSIZE);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	/* VMIN 1: with O_NONBLOCK an empty read is then EAGAIN, and 0 only means hang-up. */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(s->fd, TCSANOW, &t) == -1) {
		*cause = xfmt("cannot configure %s: %s", s->name, strerror(errno));
		return RC_ERR_IO;
	}
	if (ser_tios2_set_speed(s->fd, baud) == -1) {
		*cause = xfmt("%s: cannot set %d baud: %s", s->name, baud, strerror(errno));
		return RC_ERR_IO;
	}
	return RC_OK;
}
