/*
 * ser_sp.c: the libserialport backend, for real USB-serial adapters, and the port enumeration.
 * The only file that includes libserialport.h.
 *
 * Every sp_ call goes through sp_call(): libserialport keeps one error message per thread and
 * the next call may overwrite it, so SP_ERR_FAIL is turned into RC_ERR_IO (or RC_ERR_GONE) and
 * the message is copied at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser_int.h"

/*
 * Checks the result of one sp_ call. Returns r when it is not an error, else a negative enum rc
 * with *msg set to "PORT: WHAT failed: REASON" (heap; caller frees; a previous *msg is freed).
 */
static int
sp_call(enum sp_return r, const char *port, const char *what, char **msg)
{
	char *m;
	int err, rc;

	if (r >= 0)
		return (int)r;
	free(*msg);
	switch (r) {
	case SP_ERR_FAIL:
		err = sp_last_error_code();
		m = sp_last_error_message();
		*msg = xfmt("%s: %s failed: %s", port, what, m != NULL ? m : "unknown error");
		if (m != NULL)
			sp_free_error_message(m);
		rc = err == EIO || err == ENXIO || err == ENODEV ? RC_ERR_GONE : RC_ERR_IO;
		if (rc == RC_ERR_GONE) {
			free(*msg);
			*msg = xfmt("%s: the device disappeared while %s (%s); check the cable, then run "
			    "again", port, what, strerror(err));
		}
		return rc;
	case SP_ERR_ARG:
		*msg = xfmt("%s: %s: invalid argument", port, what);
		return RC_ERR_ARG;
	case SP_ERR_SUPP:
		*msg = xfmt("%s: %s is not supported by this adapter or system", port, what);
		return RC_ERR_NOTSUP;
	case SP_ERR_MEM:
	default:
		*msg = xfmt("%s: %s failed: out of memory in libserialport", port, what);
		return RC_ERR_IO;
	}
}

/* sp_call() for an open port: the message goes to s->err for ser_strerror(). */
static int
sp_ser(struct ser *s, enum sp_return r, const char *what)
{
	int rc = sp_call(r, s->name, what, &s->err);

	if (rc < 0)
		log_debug("serial: %s", s->err);
	return rc;
}

static int
sp_read(struct ser *s, uint8_t *buf, size_t len)
{
	return sp_ser(s, sp_nonblocking_read(s->priv, buf, len), "reading");
}

static int
sp_write(struct ser *s, const uint8_t *buf, size_t len)
{
	if (len == 0)
		return 0;
	return sp_ser(s, sp_nonblocking_write(s->priv, buf, len), "writing");
}

static int
sp_set_baud(struct ser *s, int baud)
{
	int rc = sp_ser(s, sp_set_baudrate(s->priv, baud), "setting the baud rate");

	/* libserialport may only know the standard rates; termios2 takes any. */
	if (rc < 0 && rc != RC_ERR_GONE && ser_tios2_set_speed(s->fd, baud) == 0)
		rc = RC_OK;
	return rc < 0 ? rc : RC_OK;
}

static int
sp_set_lines(struct ser *s, int dtr, int rts)
{
	int bits, rc;

	if (dtr >= 0 && rts >= 0) {
		/* Both in one ioctl; two sp_ calls leave a gap the tight reset sequence minds. */
		if (ioctl(s->fd, TIOCMGET, &bits) == -1)
			return ser_fail_errno(s, "reading the modem lines", errno);
		bits = dtr ? bits | TIOCM_DTR : bits & ~TIOCM_DTR;
		bits = rts ? bits | TIOCM_RTS : bits & ~TIOCM_RTS;
		if (ioctl(s->fd, TIOCMSET, &bits) == -1)
			return ser_fail_errno(s, "setting DTR and RTS", errno);
		return RC_OK;
	}
	if (dtr >= 0 && (rc = sp_ser(s, sp_set_dtr(s->priv, dtr ? SP_DTR_ON : SP_DTR_OFF),
	    "setting DTR")) < 0)
		return rc;
	if (rts >= 0 && (rc = sp_ser(s, sp_set_rts(s->priv, rts ? SP_RTS_ON : SP_RTS_OFF),
	    "setting RTS")) < 0)
		return rc;
	return RC_OK;
}

static int
sp_send_break(struct ser *s, int ms)
{
	int rc = sp_ser(s, sp_start_break(s->priv), "starting a break");

	if (rc < 0)
		return rc;
	clock_sleep_ms(ms);
	rc = sp_ser(s, sp_end_break(s->priv), "ending a break");
	return rc < 0 ? rc : RC_OK;
}

static int
sp_out_pending(struct ser *s, size_t *n)
{
	int rc = sp_ser(s, sp_output_waiting(s->priv), "asking for the output queue");

	*n = rc > 0 ? (size_t)rc : 0;
	return rc < 0 ? rc : RC_OK;
}

static int
sp_discard(struct ser *s)
{
	int rc = sp_ser(s, sp_flush(s->priv, SP_BUF_BOTH), "discarding buffers");

	return rc < 0 ? rc : RC_OK;
}

static void
sp_close_port(struct ser *s)
{
	char *msg = NULL;

	if (s->priv == NULL)
		return;
	if (sp_call(sp_close(s->priv), s->name, "closing", &msg) < 0)
		log_debug("serial: %s", msg);
	free(msg);
	sp_free_port(s->priv);
	s->priv = NULL;
}

static const struct ser_backend ser_sp_backend = {
	.name = "libserialport",
	.read = sp_read,
	.write = sp_write,
	.set_baud = sp_set_baud,
	.set_lines = sp_set_lines,
	.send_break = sp_send_break,
	.out_pending = sp_out_pending,
	.discard = sp_discard,
	.tx_held = NULL,
	.close = sp_close_port,
};

int
ser_sp_setup(struct ser *s, const char *path, int baud, char **cause)
{
	struct sp_port *port = NULL;
	char *msg = NULL;
	int fd = -1, rc;

	if (sp_call(sp_get_port_by_name(path, &port), path, "looking up the port", &msg) < 0) {
		log_debug("serial: %s; using termios", msg);
		free(msg);
		return RC_ERR_NOTSUP;
	}
	if (sp_call(sp_open(port, SP_MODE_READ_WRITE), path, "opening", &msg) < 0) {
		log_debug("serial: %s; using termios", msg);
		free(msg);
		sp_free_port(port);
		return RC_ERR_NOTSUP;
	}
	s->priv = port;
	s->be = &ser_sp_backend;
	s->kind = SER_KIND_USB;
	if ((rc = sp_call(sp_get_port_handle(port, &fd), path, "getting the handle", &msg)) < 0 ||
	    (rc = sp_call(sp_set_bits(port, 8), path, "setting 8 data bits", &msg)) < 0 ||
	    (rc = sp_call(sp_set_parity(port, SP_PARITY_NONE), path, "setting no parity", &msg)) < 0 ||
	    (rc = sp_call(sp_set_stopbits(port, 1), path, "setting 1 stop bit", &msg)) < 0 ||
	    (rc = sp_call(sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE), path,
	    "turning flow control off", &msg)) < 0) {
		*cause = msg;
		return rc;
	}
	s->fd = fd;
	/* Reads and writes must never block; ser.c polls. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if ((rc = sp_set_baud(s, baud)) < 0) {
		*cause = xstrdup(s->err);
		return rc;
	}
	return RC_OK;
}

int
ser_sp_enumerate(struct ser_info **out, size_t *n, char **cause)
{
	struct sp_port **ports = NULL;
	struct ser_info *list;
	char *msg = NULL;
	const char *v;
	size_t count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = sp_call(sp_list_ports(&ports), "serial ports", "listing", cause)) < 0) {
		struct stat st;

		/* libserialport lists /sys/class/tty; without sysfs (a chroot, some containers)
		 * it can only fail, so say what is missing. */
		if (stat("/sys/class/tty", &st) == -1) {
			free(*cause);
			*cause = xstrdup("cannot list the serial ports: /sys/class/tty is missing (is "
			    "sysfs mounted? in a chroot or container, mount /sys); give the port with -p");
		}
		return rc;
	}
	while (ports[count] != NULL)
		count++;
	list = count ? xcalloc(count, sizeof *list) : NULL;
	for (size_t i = 0; i < count; i++) {
		struct ser_info *si = &list[i];
		int vid = -1, pid = -1;

		si->path = xstrdup(sp_get_port_name(ports[i]));
		si->usb_vid = si->usb_pid = -1;
		if ((v = sp_get_port_description(ports[i])) != NULL)
			si->description = xstrdup(v);
		if (sp_get_port_transport(ports[i]) != SP_TRANSPORT_USB)
			continue;
		if (sp_call(sp_get_port_usb_vid_pid(ports[i], &vid, &pid), si->path, "reading VID:PID",
		    &msg) >= 0) {
			si->usb_vid = vid;
			si->usb_pid = pid;
			si->bridge = ser_bridge_name(vid, pid);
		}
		if ((v = sp_get_port_usb_manufacturer(ports[i])) != NULL)
			si->manufacturer = xstrdup(v);
		if ((v = sp_get_port_usb_product(ports[i])) != NULL)
			si->product = xstrdup(v);
		if ((v = sp_get_port_usb_serial(ports[i])) != NULL)
			si->serial = xstrdup(v);
	}
	if (msg != NULL)
		log_debug("serial: %s", msg);
	free(msg);
	sp_free_port_list(ports);
	*out = list;
	*n = count;
	return RC_OK;
}
