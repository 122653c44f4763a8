/*
 * sim_harness.h: a real espdesk-sim process for tests and benchmarks: start it in a fresh
 * temporary directory (flash file, control socket, pty link), talk to its control socket, stop
 * it and remove the directory. Header-only (static functions); include once per program.
 * flasher/flasher_simh.h builds the flasher's set-up on top of it; test_sim_pty.c uses it as is.
 *
 * sim_spawn() runs `espdesk-sim --flash DIR/flash.bin --control DIR/ctl --link DIR/tty ARGS...`
 * and reads the port (a pty path, or an rfc2217:// URL) from its first line of output.
 * ESPDESK_SIM overrides the binary (default: the build directory's espdesk-sim). Failures print
 * a TAP comment and return -1 (the test case then fails); nothing here exits.
 */
#ifndef ESPDESK_SIM_HARNESS_H
#define ESPDESK_SIM_HARNESS_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/common.h"

#define MB (1u << 20)

struct sim {
	pid_t pid;
	char dir[64];
	char flash[128], ctl[128], link[128];
	char pty[256];        /* what the simulator printed: the pty, or rfc2217://HOST:PORT */
	uint32_t size;        /* flash size in bytes, when the caller set one */
};

static ED_UNUSED const char *
sim_bin(void)
{
	static char path[4096];

	if (getenv("ESPDESK_SIM") != NULL)
		return getenv("ESPDESK_SIM");
	snprintf(path, sizeof path, "%s/espdesk-sim", ESPDESK_BUILDDIR);
	return path;
}

/* Makes s->dir (from tmpl, "/tmp/NAME-XXXXXX") and the paths in it. 0, or -1. */
static ED_UNUSED int
sim_prepare(struct sim *s, const char *tmpl)
{
	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "%s", tmpl);
	if (mkdtemp(s->dir) == NULL) {
		printf("# mkdtemp %s failed\n", tmpl);
		return -1;
	}
	snprintf(s->flash, sizeof s->flash, "%s/flash.bin", s->dir);
	snprintf(s->ctl, sizeof s->ctl, "%s/ctl", s->dir);
	snprintf(s->link, sizeof s->link, "%s/tty", s->dir);
	return 0;
}

/*
 * Starts the simulator of a prepared s with args (NULL-terminated, at most 30) after the flash,
 * control and link options, and waits up to timeout_ms for its first line. 0, or -1.
 */
static ED_UNUSED int
sim_spawn(struct sim *s, const char *const *args, int timeout_ms)
{
	const char *argv[40];
	int pfd[2], n = 0;
	size_t got = 0;
	int64_t end;

	argv[n++] = sim_bin();
	argv[n++] = "--flash"; argv[n++] = s->flash;
	argv[n++] = "--control"; argv[n++] = s->ctl;
	argv[n++] = "--link"; argv[n++] = s->link;
	for (int i = 0; args != NULL && args[i] != NULL && n < 38; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(pfd) < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	end = clock_now_ms() + timeout_ms;
	while (got < sizeof s->pty - 1 && clock_left_ms(end) > 0) {
		struct pollfd p = { pfd[0], POLLIN, 0 };

		if (poll(&p, 1, (int)clock_left_ms(end)) <= 0 || read(pfd[0], s->pty + got, 1) != 1 ||
		    s->pty[got] == '\n')
			break;
		got++;
	}
	s->pty[got] = '\0';
	close(pfd[0]);
	if (got == 0 || (s->pty[0] != '/' && strncmp(s->pty, "rfc2217://", 10) != 0)) {
		printf("# espdesk-sim did not print its port (got '%s')\n", s->pty);
		return -1;
	}
	return 0;
}

/* Sends one control command; returns the reply line (static, overwritten by the next call), or
 * "" when the socket does not answer within 3 s. */
static ED_UNUSED const char *
sim_ctl(const struct sim *s, const char *cmd)
{
	static char reply[1024];
	struct sockaddr_un a;
	int fd;
	size_t got = 0;

	reply[0] = '\0';
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (strlen(s->ctl) >= sizeof a.sun_path)
		return reply;
	memcpy(a.sun_path, s->ctl, strlen(s->ctl) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return reply;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return reply;
	}
	while (got < sizeof reply - 1) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 3000) <= 0 || read(fd, reply + got, 1) != 1 || reply[got] == '\n')
			break;
		got++;
	}
	reply[got] = '\0';
	close(fd);
	return reply;
}

/* Stops the simulator (if it runs) and removes its directory. Safe on a zeroed s. */
static ED_UNUSED void
sim_stop(struct sim *s)
{
	char cmd[160];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", s->dir);
	s->dir[0] = '\0';
}

static ED_UNUSED int
write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f != NULL && fwrite(data, 1, len, f) == len;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* The whole file (caller frees), or NULL. */
static ED_UNUSED uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(n > 0 ? (size_t)n : 1);
	*len = fread(p, 1, (size_t)n, f);
	fclose(f);
	return p;
}

#endif
