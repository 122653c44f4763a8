/*
 * ser.c: the port interface every backend sits behind. Opening (backend choice, exclusive
 * access, saving the settings), the user-space TX queue, reads with a deadline, and the registry
 * that puts every port's settings back on exit or on a fatal signal.
 */
#include "config.h"

#include "serial/ser.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "serial/ser_int.h"

/*
 * The restore registry. Fixed-size and free of locks and allocation, because the signal
 * handler walks it. A slot is claimed with a compare-and-swap (0 -> 2), filled, and only then
 * published (1); it is cleared by setting it to 0 before the fd is closed. The handler restores
 * published slots only.
 */
#define SER_MAX_OPEN 16
static struct {
	volatile int used; /* 0 free, 2 being filled, 1 live */
	int fd;
	struct ser_tios_saved saved;
} ser_reg[SER_MAX_OPEN];
static pthread_once_t ser_hooks_once = PTHREAD_ONCE_INIT;

void
ser_restore_all(void)
{
	for (int i = 0; i < SER_MAX_OPEN; i++) {
		if (__atomic_load_n(&ser_reg[i].used, __ATOMIC_ACQUIRE) == 1)
			(void)ser_tios2_restore(ser_reg[i].fd, &ser_reg[i].saved);
	}
}

static void
ser_on_signal(int sig)
{
	int saved_errno = errno;

	ser_restore_all();
	/* Die of the same signal, so the parent sees what happened. */
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved_errno;
}

/*
 * Installs ser_restore_all() with atexit, and as the handler of SIGINT/SIGTERM/SIGHUP where the
 * program has not chosen a handler itself (a TUI with its own self-pipe handlers keeps them and
 * calls ser_restore_all() from its cleanup instead).
 */
static void
ser_install_hooks(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction old, sa;

	atexit(ser_restore_all);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ser_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			sigaction(sigs[i], &sa, NULL);
	}
}

static int
ser_reg_add(int fd, const struct ser_tios_saved *sv)
{
	for (int i = 0; i < SER_MAX_OPEN; i++) {
		int expect = 0;

		if (__atomic_compare_exchange_n(&ser_reg[i].used, &expect, 2, 0, __ATOMIC_ACQ_REL,
		    __ATOMIC_RELAXED)) {
			ser_reg[i].fd = fd;
			ser_reg[i].saved = *sv;
			__atomic_store_n(&ser_reg[i].used, 1, __ATOMIC_RELEASE);
			return i;
		}
	}
	return -1;
}

int
ser_fail(struct ser *s, int rc, const char *fmt, ...)
{
	va_list ap;

	free(s->err);
	va_start(ap, fmt);
	xvasprintf(&s->err, fmt, ap);
	va_end(ap);
	log_debug("serial: %s", s->err);
	return rc;
}

int
ser_fail_errno(struct ser *s, const char *what, int err)
{
	switch (err) {
	case EIO:
	case ENXIO:
	case ENODEV:
	case EPIPE:
	case ECONNRESET:
		return ser_fail(s, RC_ERR_GONE, "%s: the device disappeared while %s (%s); "
		    "check the cable, then run again", s->name, what, strerror(err));
	}
	return ser_fail(s, RC_ERR_IO, "%s: %s failed: %s", s->name, what, strerror(err));
}

const char *
ser_strerror(const struct ser *s)
{
	return s->err != NULL ? s->err : "no error";
}

const char *
ser_name(const struct ser *s)
{
	return s->name;
}

enum ser_kind
ser_kind(const struct ser *s)
{
	return s->kind;
}

int
ser_fd(const struct ser *s)
{
	return s->fd;
}

int
ser_get_baud(const struct ser *s)
{
	return s->baud;
}

/*
 * Names the processes that have path open, from /proc/PID/fd, as "picocom (pid 123)", leaving
 * out pid `except` (0: none); NULL if none can be seen (other users' processes are unreadable
 * without privileges).
 */
static char *
ser_holders(const char *path, pid_t except)
{
	char real[PATH_MAX], link[PATH_MAX], fdpath[PATH_MAX], out[512] = "", comm[64];
	struct dirent *pe, *fe;
	FILE *f;
	DIR *proc, *fds;
	size_t n = 0;
	ssize_t k;

	if (realpath(path, real) == NULL)
		return NULL;
	if ((proc = opendir("/proc")) == NULL)
		return NULL;
	while ((pe = readdir(proc)) != NULL) {
		if (!isdigit((unsigned char)pe->d_name[0]) || atoi(pe->d_name) == (int)except)
			continue;
		snprintf(fdpath, sizeof fdpath, "/proc/%s/fd", pe->d_name);
		if ((fds = opendir(fdpath)) == NULL)
			continue;
		while ((fe = readdir(fds)) != NULL) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(fdpath, sizeof fdpath, "/proc/%s/fd/%s", pe->d_name, fe->d_name);
			k = readlink(fdpath, link, sizeof link - 1);
			if (k <= 0)
				continue;
			link[k] = '\0';
			if (strcmp(link, real) != 0)
				continue;
			strcpy(comm, "?");
			snprintf(fdpath, sizeof fdpath, "/proc/%s/comm", pe->d_name);
			if ((f = fopen(fdpath, "r")) != NULL) {
				if (fgets(comm, sizeof comm, f) != NULL)
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			if (n < sizeof out - 1)
				n += (size_t)snprintf(out + n, sizeof out - n, "%s%s (pid %s)",
				    n ? ", " : "", comm, pe->d_name);
			break;
		}
		closedir(fds);
	}
	closedir(proc);
	return n ? xstrdup(out) : NULL;
}

static int
ser_busy(const char *path, char **cause)
{
	char *who = ser_holders(path, 0);

	if (who != NULL)
		*cause = xfmt("%s is busy: it is open in %s; close that program (or wait for it to "
		    "finish) and run again", path, who);
	else
		*cause = xfmt("%s is busy: another program has it open (a serial monitor, ModemManager, "
		    "or a second espdesk); close it and run again", path);
	free(who);
	return RC_ERR_BUSY;
}

static int
ser_open_error(const char *path, int err, char **cause)
{
	struct stat st;
	struct group *gr;
	char *list;

	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		list = ser_list_names();
		*cause = xfmt("no such port: %s; %s", path, list);
		free(list);
		return RC_ERR_ARG;
	case EACCES:
	case EPERM:
		gr = stat(path, &st) == 0 ? getgrgid(st.st_gid) : NULL;
		*cause = xfmt("permission denied opening %s: it belongs to group '%s'; add yourself with "
		    "`sudo usermod -aG %s $USER`, then log out and in again",
		    path, gr ? gr->gr_name : "dialout", gr ? gr->gr_name : "dialout");
		return RC_ERR_IO;
	case EBUSY:
		return ser_busy(path, cause);
	}
	*cause = xfmt("cannot open %s: %s", path, strerror(err));
	return RC_ERR_IO;
}

/*
 * libserialport only knows ports with a /sys/class/tty/NAME/device link (real hardware);
 * ptys and the like go to the termios backend without asking it.
 */
static int
ser_is_hardware(const char *real)
{
	const char *base = strrchr(real, '/');
	char sys[PATH_MAX + 32];
	struct stat st;

	snprintf(sys, sizeof sys, "/sys/class/tty/%s/device", base ? base + 1 : real);
	return stat(sys, &st) == 0;
}

static void
ser_free(struct ser *s)
{
	if (s == NULL)
		return;
	buf_free(&s->txq);
	free(s->name);
	free(s->err);
	free(s);
}

/* Opens a tty device: open, flock, save the settings, register them for restoring. */
static int
ser_open_tty(struct ser *s, const char *path, int baud, char **cause)
{
	char real[PATH_MAX];
	struct ser_tios_saved sv;
	int fd, rc;

	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return ser_open_error(path, errno, cause);
	if (!isatty(fd)) {
		close(fd);
		*cause = xfmt("%s is not a serial port (not a tty); give a device such as /dev/ttyUSB0", path);
		return RC_ERR_ARG;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int err = errno;

		close(fd);
		if (err == EWOULDBLOCK)
			return ser_busy(path, cause);
		*cause = xfmt("cannot lock %s: %s", path, strerror(err));
		return RC_ERR_IO;
	}
	if (ser_tios2_save(fd, &sv) == -1) {
		*cause = xfmt("cannot read the settings of %s: %s", path, strerror(errno));
		close(fd);
		return RC_ERR_IO;
	}
	s->lock_fd = s->fd = fd;
	s->slot = ser_reg_add(fd, &sv);
	if (s->slot < 0)
		log_warn("serial: more than %d ports open; %s will not be restored on exit", SER_MAX_OPEN, path);

	rc = RC_ERR_NOTSUP;
	if (realpath(path, real) != NULL && ser_is_hardware(real)) {
		/* A program that neither locks nor sets TIOCEXCL (cat, screen, ModemManager's probe)
		 * would still fight us for the bytes of a real adapter: refuse while one has it open.
		 * Not for ptys, whose other end (the simulator) may keep a slave fd open on purpose. */
		char *who = ser_holders(real, getpid());

		if (who != NULL) {
			*cause = xfmt("%s is busy: it is open in %s; close that program and run again",
			    path, who);
			free(who);
			return RC_ERR_BUSY;
		}
		rc = ser_sp_setup(s, real, baud, cause);
	}
	if (rc == RC_ERR_NOTSUP) {
		s->kind = SER_KIND_TTY;
		rc = ser_tty_setup(s, baud, cause);
	}
	if (rc != RC_OK)
		return rc;
	/* Keep out other openers (TIOCEXCL binds everyone but root; the flock binds every program
	 * that locks, root included). */
	if (ioctl(s->fd, TIOCEXCL) == -1)
		log_debug("serial: TIOCEXCL on %s: %s", path, strerror(errno));
	return RC_OK;
}

int
ser_open(const char *path, int baud, struct ser **out, char **cause)
{
	struct ser *s;
	int rc;

	*out = NULL;
	*cause = NULL;
	if (path == NULL || *path == '\0') {
		char *list = ser_list_names();

		*cause = xfmt("no port given; use -p PORT (%s)", list);
		free(list);
		return RC_ERR_ARG;
	}
	if (baud <= 0) {
		*cause = xfmt("%s: invalid baud rate %d", path, baud);
		return RC_ERR_ARG;
	}
	s = xcalloc(1, sizeof *s);
	s->name = xstrdup(path);
	s->fd = s->lock_fd = -1;
	s->slot = -1;
	s->baud = baud;
	buf_init(&s->txq);
	pthread_once(&ser_hooks_once, ser_install_hooks);

	if (strncmp(path, "rfc2217://", 10) == 0) {
		s->kind = SER_KIND_RFC2217;
		rc = ser_rfc2217_open(s, path, baud, cause);
	} else
		rc = ser_open_tty(s, path, baud, cause);
	if (rc != RC_OK) {
		if (*cause == NULL)
			*cause = xstrdup(s->err ? s->err : rc_str(rc));
		if (s->be != NULL)
			s->be->close(s);
		if (s->slot >= 0) {
			(void)ser_tios2_restore(s->lock_fd, &ser_reg[s->slot].saved);
			__atomic_store_n(&ser_reg[s->slot].used, 0, __ATOMIC_RELEASE);
		}
		if (s->lock_fd >= 0)
			close(s->lock_fd);
		ser_free(s);
		return rc;
	}
	log_debug("serial: opened %s (%s) at %d baud", path, s->be->name, baud);
	*out = s;
	return RC_OK;
}

void
ser_close(struct ser *s)
{
	if (s == NULL)
		return;
	/* Let what is queued leave before the settings change under it; bounded, since a peer
	 * that stopped reading would otherwise hold us forever. */
	if (ser_tx_pending(s) > 0)
		(void)ser_flush(s, 200);
	s->be->close(s);
	if (s->slot >= 0) {
		if (ser_tios2_restore(s->lock_fd, &ser_reg[s->slot].saved) == -1)
			log_debug("serial: restoring %s: %s", s->name, strerror(errno));
		__atomic_store_n(&ser_reg[s->slot].used, 0, __ATOMIC_RELEASE);
	}
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	log_debug("serial: closed %s", s->name);
	ser_free(s);
}

/* The most one pump hands to the kernel: about 100 ms of line time (picocom's tty_q idea), so a
 * big write never starves the loop that calls us. */
static size_t
ser_chunk(const struct ser *s)
{
	size_t c = (size_t)(s->baud / 10);

	return c < 64 ? 64 : c;
}

size_t
ser_tx_pending(const struct ser *s)
{
	return buf_len(&s->txq) + (s->be->tx_held != NULL ? s->be->tx_held(s) : 0);
}

int
ser_tx_pump(struct ser *s)
{
	size_t len = buf_len(&s->txq);
	int n;

	if (len > ser_chunk(s))
		len = ser_chunk(s);
	if (len == 0 && (s->be->tx_held == NULL || s->be->tx_held(s) == 0))
		return RC_OK;
	/* len may be 0 here: the call then only pushes what the backend holds. */
	n = s->be->write(s, buf_head(&s->txq), len);
	if (n < 0)
		return n;
	buf_drain(&s->txq, (size_t)n);
	return RC_OK;
}

int
ser_write(struct ser *s, const void *buf, size_t len)
{
	if (len == 0)
		return RC_OK;
	log_hex("serial tx", buf, len);
	buf_add(&s->txq, buf, len);
	return ser_tx_pump(s);
}

/* Waits for fd events until deadline (-1: forever). Returns revents, 0 on timeout, or -1. */
static int
ser_poll(struct ser *s, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = s->fd, .events = events };
	int timeout, n;

	for (;;) {
		timeout = deadline < 0 ? -1 : (int)clock_left_ms(deadline);
		n = poll(&pfd, 1, timeout);
		if (n > 0)
			return pfd.revents;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int
ser_read(struct ser *s, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
	int n, ev;

	if (len == 0)
		return 0;
	for (;;) {
		n = s->be->read(s, buf, len);
		if (n != 0) {
			if (n > 0)
				log_hex("serial rx", buf, (size_t)n);
			return n;
		}
		if (deadline >= 0 && clock_left_ms(deadline) == 0)
			return 0;
		ev = ser_poll(s, (short)(POLLIN | (ser_tx_pending(s) ? POLLOUT : 0)), deadline);
		if (ev < 0)
			return ser_fail_errno(s, "waiting for input", errno);
		if (ev == 0)
			return 0;
		if (ev & POLLNVAL)
			return ser_fail(s, RC_ERR_IO, "%s: the port was closed under us", s->name);
		if (ev & POLLOUT) {
			int rc = ser_tx_pump(s);

			if (rc < 0)
				return rc;
		}
		if (ev & (POLLHUP | POLLERR)) {
			/* A hang-up: read what is left; when nothing is, the port is gone. */
			n = s->be->read(s, buf, len);
			if (n != 0)
				return n;
			return ser_fail(s, RC_ERR_GONE, "%s: the device hung up (unplugged, or the other "
			    "side closed); check the cable, then run again", s->name);
		}
	}
}

int
ser_flush(struct ser *s, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
	size_t out;
	int rc, ev;

	for (;;) {
		if ((rc = ser_tx_pump(s)) < 0)
			return rc;
		if (buf_len(&s->txq) == 0) {
			out = 0;
			if (s->be->out_pending(s, &out) < 0 || out == 0)
				return RC_OK;
		}
		if (deadline >= 0 && clock_left_ms(deadline) == 0)
			return ser_fail(s, RC_ERR_TIMEOUT, "%s: %zu bytes still waiting to be sent after "
			    "%d ms; is the other side reading?", s->name, ser_tx_pending(s) + out, timeout_ms);
		if (buf_len(&s->txq) > 0) {
			int64_t slice = clock_now_ms() + 10;

			ev = ser_poll(s, POLLOUT, deadline >= 0 && deadline < slice ? deadline : slice);
			if (ev < 0)
				return ser_fail_errno(s, "sending", errno);
			if (ev & (POLLHUP | POLLERR | POLLNVAL) && !(ev & POLLOUT))
				return ser_fail(s, RC_ERR_GONE, "%s: the device hung up while sending; check "
				    "the cable, then run again", s->name);
		} else {
			/* The kernel holds the rest; it has no "drained" event, so look again shortly. */
			clock_sleep_ms(deadline >= 0 && clock_left_ms(deadline) < 2 ? clock_left_ms(deadline) : 2);
		}
	}
}

int
ser_discard(struct ser *s)
{
	buf_reset(&s->txq);
	return s->be->discard(s);
}

int
ser_set_baud(struct ser *s, int baud)
{
	int rc;

	if (baud <= 0)
		return ser_fail(s, RC_ERR_ARG, "%s: invalid baud rate %d", s->name, baud);
	rc = s->be->set_baud(s, baud);
	if (rc == RC_OK) {
		log_debug("serial: %s now at %d baud", s->name, baud);
		s->baud = baud;
	}
	return rc;
}

int
ser_set_dtr(struct ser *s, int on)
{
	return s->be->set_lines(s, on != 0, -1);
}

int
ser_set_rts(struct ser *s, int on)
{
	return s->be->set_lines(s, -1, on != 0);
}

int
ser_set_dtr_rts(struct ser *s, int dtr, int rts)
{
	return s->be->set_lines(s, dtr != 0, rts != 0);
}

int
ser_send_break(struct ser *s, int ms)
{
	if (ms <= 0)
		return ser_fail(s, RC_ERR_ARG, "%s: invalid break length %d ms", s->name, ms);
	return s->be->send_break(s, ms);
}
