/*
 * ser.h: one interface for every kind of serial port.
 *
 * Principles of operation. The engine, the log viewer and the simulator's tests never care what
 * a port is. ser_open() picks a backend from the name:
 *   - libserialport for real USB-serial adapters (/dev/ttyUSB*, /dev/ttyACM*, ...);
 *   - plain termios for pseudo-terminals and any tty libserialport refuses (libserialport 0.1.1
 *     rejects ptys: they have no /sys/class/tty entry); custom bauds such as 74880 use
 *     termios2/BOTHER; modem lines are reported as RC_ERR_NOTSUP, not as an error;
 *   - an RFC 2217 client for "rfc2217://HOST:PORT" (baud, DTR/RTS and breaks travel in-band).
 * A port is opened exclusively (TIOCEXCL plus a flock on the device); a second opener gets
 * RC_ERR_BUSY and a cause naming the process that holds it when /proc tells. A real adapter that
 * another process has open is busy even when that process neither locks nor sets TIOCEXCL (a pty
 * is not checked that way: the simulator may hold its slave side on purpose). The settings the
 * port had are restored on ser_close(), and on exit through ser_restore_all(), which is safe to
 * call from a fatal path.
 *
 * Writes are queued in user space and pushed to the kernel in bounded chunks (picocom's tty_q):
 * ser_write() never blocks; ser_flush() waits until the queue and the kernel buffer are empty.
 * Line changes (DTR/RTS, break, baud) take effect at once, ahead of bytes still queued: call
 * ser_flush() first when the order matters. A struct ser is used by one thread at a time.
 *
 * Signals: the first ser_open() registers ser_restore_all() with atexit() and, where the program
 * left SIGINT/SIGTERM/SIGHUP at SIG_DFL, installs a handler that restores every port and then
 * dies of the same signal. A program with its own handlers calls ser_restore_all() itself.
 *
 * Polling: an RFC 2217 port decodes telnet in user space, so after POLLIN keep calling
 * ser_read(..., 0) until it returns 0 before polling again.
 *
 * Errors: functions return RC_OK (or a byte count) or a negative enum rc. Those that take
 * `char **cause` set it on failure to a heap string (caller frees) that names the port and says
 * what to do next. RC_ERR_GONE means the device disappeared (cable pulled) or the peer closed.
 */
#ifndef ESPDESK_SER_H
#define ESPDESK_SER_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

struct ser;

enum ser_kind { SER_KIND_USB, SER_KIND_TTY, SER_KIND_RFC2217 };

/*
 * Opens path at baud (8N1, no flow control, raw). *out is set to NULL on entry, to the new port
 * on success; free with ser_close(). Errors: RC_ERR_ARG (no such port; the cause lists the ports
 * that do exist; or a bad rfc2217:// address), RC_ERR_IO (permission denied: the cause names the
 * group to join, normally dialout; or the server cannot be reached), RC_ERR_BUSY (the cause names
 * the port and, where /proc tells, the process holding it), RC_ERR_PROTO (not an RFC 2217 server).
 */
int ser_open(const char *path, int baud, struct ser **out, char **cause);
/* Restores the port's original settings and closes it. NULL is a no-op. */
void ser_close(struct ser *s);
/* Restores every open port's settings; for atexit and fatal paths. Idempotent. */
void ser_restore_all(void);

/*
 * What the last failing call on s went wrong with, naming the port and what to do
 * ("/dev/ttyUSB0: the device disappeared while reading ..."). Borrowed; valid until the next
 * call on s. "no error" when nothing failed yet.
 */
const char *ser_strerror(const struct ser *s);

/* Borrowed; valid until ser_close(). */
const char *ser_name(const struct ser *s);
enum ser_kind ser_kind(const struct ser *s);
/* The fd to poll() for input (and for output while ser_tx_pending() > 0). */
int ser_fd(const struct ser *s);

/*
 * Reads up to len bytes, waiting at most timeout_ms (0: do not wait; -1: forever). Returns the
 * number of bytes read (0 when the time ran out), RC_ERR_GONE, or RC_ERR_IO.
 */
int ser_read(struct ser *s, void *buf, size_t len, int timeout_ms);
/* Queues len bytes and pushes at most one chunk (about baud/10 bytes) to the kernel now; the rest
 * goes out through ser_tx_pump(), ser_read() (which pumps while it waits) or ser_flush().
 * Returns RC_OK or RC_ERR_GONE/IO. */
int ser_write(struct ser *s, const void *buf, size_t len);
/* Pushes queued bytes without waiting (call on POLLOUT). */
int ser_tx_pump(struct ser *s);
size_t ser_tx_pending(const struct ser *s);
/* Waits until every queued byte has left the UART (as far as the driver can tell), at most
 * timeout_ms (-1: forever). RC_OK, RC_ERR_TIMEOUT, RC_ERR_GONE or RC_ERR_IO. */
int ser_flush(struct ser *s, int timeout_ms);
/* Throws away unread input (kernel and our own buffers) and queued output. */
int ser_discard(struct ser *s);

/* Sets the baud rate, any value the driver accepts (74880 included). Over RFC 2217 it waits
 * (at most 1 s) for the server to confirm. RC_OK, RC_ERR_ARG, RC_ERR_NOTSUP, RC_ERR_IO. */
int ser_set_baud(struct ser *s, int baud);
int ser_get_baud(const struct ser *s);
/* Modem lines (on: 1 asserts the line). RC_ERR_NOTSUP on a pty: not an error, the port has none. */
int ser_set_dtr(struct ser *s, int on);
int ser_set_rts(struct ser *s, int on);
/* Both at once, in one ioctl where the backend can (the tight reset sequence needs it). */
int ser_set_dtr_rts(struct ser *s, int dtr, int rts);
/* Sends a line break of about ms milliseconds. */
int ser_send_break(struct ser *s, int ms);

/* One serial port as ser_list() finds it. */
struct ser_info {
	char *path;          /* /dev/ttyUSB0 */
	char *description;   /* libserialport's description, may be NULL */
	int usb_vid, usb_pid; /* -1 when not USB */
	char *manufacturer, *product, *serial; /* may be NULL */
	const char *bridge;  /* "FTDI FT232R", "CH340/CH341", "CP210x", "PL2303", or NULL */
};
/* Lists the ports on this machine. *out is a caller-owned array; free with ser_list_free(). */
int ser_list(struct ser_info **out, size_t *n, char **cause);
void ser_list_free(struct ser_info *list, size_t n);
/* Name of the USB-serial bridge chip for a VID:PID, or NULL. */
const char *ser_bridge_name(int vid, int pid);

#endif
