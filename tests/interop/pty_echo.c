/*
 * pty_echo: the far end of the Web Serial shim's own loopback test (shim-loopback.test.mjs).
 *
 * It opens a pseudo-terminal, prints the slave's path on the first line of stdout, and then
 * sends back every byte it reads from the master, unchanged, until stdin reaches end of file
 * (the test closes it) or a signal ends it. It leaves the slave's termios exactly as the
 * kernel created it, cooked: only the shim's own raw-mode setup can make the bytes come back
 * unaltered, so the loopback test fails if the shim forgets it. While no process has the
 * slave open, the master reports a hang-up; the echo waits for the next open, so the test can
 * close and reopen the port.
 *
 * Exit status: 0 at end of stdin, 1 if the pty cannot be made (the message says why).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Write all of buf to fd, waiting while the (non-blocking) master is full. Gives up after 2 s
 * without progress (nobody reads the slave, or a cooked slave echoes into a full master), so
 * the main loop still sees stdin close.
 */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
	int stalled_ms = 0;

	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if ((errno == EAGAIN || errno == EINTR) && stalled_ms < 2000) {
				nap_ms(1);
				stalled_ms++;
				continue;
			}
			return -1;
		}
		stalled_ms = 0;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(void)
{
	unsigned char buf[4096];
	const char *name;
	int m;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || (name = ptsname(m)) == NULL) {
		fprintf(stderr, "pty_echo: cannot create a pseudo-terminal: %s\n", strerror(errno));
		return 1;
	}
	if (fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK) != 0) {
		fprintf(stderr, "pty_echo: fcntl on the pty master: %s\n", strerror(errno));
		return 1;
	}
	printf("%s\n", name);
	fflush(stdout);

	for (;;) {
		struct pollfd p[2] = { { m, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
		ssize_t n;

		if (poll(p, 2, 100) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			n = read(STDIN_FILENO, buf, sizeof buf);
			if (n <= 0)
				break;
		}
		if (p[0].revents & POLLIN) {
			n = read(m, buf, sizeof buf);
			if (n > 0) {
				if (write_all(m, buf, (size_t)n) != 0)
					nap_ms(10);
				continue;
			}
		}
		if (p[0].revents & (POLLHUP | POLLERR))
			nap_ms(10);    /* no slave open right now: wait for the next open */
	}
	close(m);
	return 0;
}
