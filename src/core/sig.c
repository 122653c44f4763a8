/*
 * sig.c: stop signals as a flag and an optional wake-up byte (sig.h).
 */
#include "config.h"

#include "core/sig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"

atomic_bool sig_stop;
static volatile sig_atomic_t sig_wake_fd = -1;

static void
sig_on_stop(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno, fd = sig_wake_fd;

	atomic_store(&sig_stop, 1);
	if (fd >= 0 && write(fd, &c, 1) < 0)
		(void)0;
	errno = e;
}

void
sig_catch_stop(int wake_fd)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	sig_wake_fd = wake_fd;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sig_on_stop;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
