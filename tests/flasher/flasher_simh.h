/*
 * flasher_simh.h: starting and driving a real espdesk-sim for the flasher's integration tests
 * and benchmarks. Header-only (static functions); include once per program.
 *
 * sim_start() runs the simulator with a flash file in a fresh temporary directory and a control
 * socket, and reads the port (pty path or rfc2217:// URL) from its first line of output.
 * ESPDESK_SIM overrides the binary (default: the build directory's espdesk-sim).
 */
#ifndef ESPDESK_FLASHER_SIMH_H
#define ESPDESK_FLASHER_SIMH_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/common.h"

#define MB (1u << 20)

struct sim {
	pid_t pid;
	char dir[64], flash[128], ctl[128], pty[256];
	uint32_t size;
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

/* Set by a caller that wants the chip to boot from flash (no --download). */
static int sim_no_download;
/* Set by a benchmark: real-time timing instead of --speed fast. */
static int sim_real_time;

static uint32_t rng_state = 0x12345678;

static ED_UNUSED uint8_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return (uint8_t)rng_state;
}

static ED_UNUSED void
fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd();
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

/*
 * Starts espdesk-sim with a flash of size bytes (initial contents, or 0xFF when init is NULL)
 * and extra options (NULL-terminated). Returns 0, or -1 (the case then fails).
 */
static ED_UNUSED int
sim_start(struct sim *s, uint32_t size, const uint8_t *init, const char *const *extra)
{
	const char *argv[40];
	char fsize[16];
	int pfd[2], n = 0;
	size_t got = 0;
	int64_t end;

	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/flsim-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->flash, sizeof s->flash, "%s/flash.bin", s->dir);
	snprintf(s->ctl, sizeof s->ctl, "%s/ctl", s->dir);
	s->size = size;
	if (init != NULL && write_file(s->flash, init, size) < 0)
		return -1;
	snprintf(fsize, sizeof fsize, "%uMB", size / MB);
	argv[n++] = sim_bin();
	argv[n++] = "--flash"; argv[n++] = s->flash;
	argv[n++] = "--flash-size"; argv[n++] = fsize;
	argv[n++] = "--control"; argv[n++] = s->ctl;
	argv[n++] = "--speed"; argv[n++] = sim_real_time ? "real" : "fast";
	if (!sim_no_download)
		argv[n++] = "--download";
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 38; i++)
		argv[n++] = extra[i];
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
	end = clock_now_ms() + 5000;
	while (got < sizeof s->pty - 1 && clock_left_ms(end) > 0) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, (int)clock_left_ms(end)) <= 0)
			break;
		r = read(pfd[0], s->pty + got, 1);
		if (r <= 0 || s->pty[got] == '\n')
			break;
		got++;
	}
	s->pty[got] = '\0';
	close(pfd[0]);
	if (got == 0 || (s->pty[0] != '/' && strncmp(s->pty, "rfc2217://", 10) != 0)) {
		printf("# espdesk-sim did not print its pty (got '%s')\n", s->pty);
		return -1;
	}
	return 0;
}

/* Sends one control command; returns the reply line (static) or "". */
static ED_UNUSED const char *
sim_ctl(struct sim *s, const char *cmd)
{
	static char reply[512];
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t got = 0;

	reply[0] = '\0';
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (strlen(s->ctl) >= sizeof a.sun_path)
		return reply;
	memcpy(a.sun_path, s->ctl, strlen(s->ctl) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		if (fd >= 0)
			close(fd);
		return reply;
	}
	if (write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return reply;
	}
	while (got < sizeof reply - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, 3000) <= 0 || (r = read(fd, reply + got, 1)) <= 0 || reply[got] == '\n')
			break;
		got++;
	}
	reply[got] = '\0';
	close(fd);
	return reply;
}

static ED_UNUSED void
sim_stop(struct sim *s)
{
	char cmd[256];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
	if (s->dir[0] != '\0' && system(cmd) != 0)
		printf("# could not remove %s\n", s->dir);
}

/* The simulator's flash file now. */
static ED_UNUSED uint8_t *
sim_flash(struct sim *s)
{
	size_t len = 0;
	uint8_t *p = read_file(s->flash, &len);

	if (p != NULL && len != s->size) {
		free(p);
		return NULL;
	}
	return p;
}

#endif
