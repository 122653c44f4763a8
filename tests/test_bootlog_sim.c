/*
 * `espdesk monitor` against espdesk-sim: a simulated Sonoff (Arduino layout, the simulator's demo
 * firmware) powers on while the monitor listens. The ROM banner must be read at 74880, the
 * monitor must switch to 115200 when the sketch starts and then show its log, with no garbled
 * byte printed at any point; after a reset it must follow the chip back to 74880 and forward to
 * 115200 again; Ctrl-C must end it cleanly with the diagnosis. The simulator garbles bytes bit
 * by bit when the host listens at another baud (its own UART model), so this is the real
 * situation, not a replay.
 *
 * Skipped when espdesk-sim is not built. The time limits below only stop a hung run; nothing is
 * asserted about how long anything takes.
 */
#include "config.h"

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
#include "tap.h"

static char dir[256];
static char bindir[4096];

static pid_t
spawn(char *const argv[], int out_fd, int err_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		dup2(err_fd >= 0 ? err_fd : null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int
wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
file_contains(const char *path, const char *needle)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* Whether some line of the file starts with prefix (the whole file is read). */
static int
file_has_line(const char *path, const char *prefix)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(f);
	return found;
}

/* Sends one control command to the simulator; returns 1 if it answered "ok". */
static int
ctl(const char *cmd)
{
	struct sockaddr_un sa;
	char reply[256];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok = 0;
	ssize_t n;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(dir) + 5 > sizeof sa.sun_path)
		return 0;
	memcpy(sa.sun_path, dir, strlen(dir));
	memcpy(sa.sun_path + strlen(dir), "/ctl", 5);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd) && write(fd, "\n", 1) == 1 &&
	    (n = read(fd, reply, sizeof reply - 1)) > 0) {
		reply[n] = '\0';
		ok = strncmp(reply, "ok", 2) == 0;
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Waits until path exists (the simulator creates its pty link and control socket). */
static int
wait_path(const char *path, int64_t deadline)
{
	struct stat st;

	while (clock_now_ms() < deadline) {
		if (stat(path, &st) == 0)
			return 1;
		clock_sleep_ms(20);
	}
	return 0;
}

/* A monitor line shows garbage if it holds an escaped byte or any raw control/high byte. */
static int
shows_garbage(const char *line)
{
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p >= 0x80)
			return 1;
	return strstr(line, "\\x") != NULL || strstr(line, "\\e") != NULL ||
	    strstr(line, "sent at another baud") != NULL;
}

static int
is_app_line(const char *line)
{
	return strstr(line, "MQT:") != NULL || strstr(line, "WIF:") != NULL ||
	    strstr(line, "CFG:") != NULL;
}

static void
test_monitor_follows_boot(void)
{
	char sim[4200], esp[4200], fw[300], pty[300], ctlp[300], monerr[300], simout[300];
	char line[2048];
	int pfd[2], errfd, simfd;
	pid_t simpid, monpid;
	FILE *mon;
	int64_t deadline;
	int phase = 0, banner = 0, garbage = 0, app1 = 0, back = 0, fwd2 = 0, app2 = 0, diag = 0;
	int sent_reset = 0, stopped = 0, rc;

	snprintf(sim, sizeof sim, "%s/espdesk-sim", bindir);
	snprintf(esp, sizeof esp, "%s/espdesk", bindir);
	if (access(sim, X_OK) != 0) {
		t_skip("test_monitor_follows_boot", "espdesk-sim is not built");
		return;
	}
	t_begin_();
	snprintf(dir, sizeof dir, "/tmp/espdesk-bootlog-XXXXXX");
	T_TRUE(mkdtemp(dir) != NULL);
	snprintf(fw, sizeof fw, "%s/fw.bin", dir);
	snprintf(pty, sizeof pty, "%s/pty", dir);
	snprintf(ctlp, sizeof ctlp, "%s/ctl", dir);
	snprintf(monerr, sizeof monerr, "%s/monitor.err", dir);
	snprintf(simout, sizeof simout, "%s/sim.out", dir);

	{
		char *argv[] = { sim, "make-firmware", fw, "--demo", NULL };

		T_EQ_INT(wait_exit(spawn(argv, -1, -1)), 0);
	}
	simfd = open(simout, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	{
		char *argv[] = { sim, "--off", "--flash", fw, "--flash-size", "1MB", "--chip", "esp8285",
			"--link", pty, "--control", ctlp, "--speed", "fast", NULL };

		simpid = spawn(argv, simfd, simfd);
	}
	close(simfd);
	deadline = clock_now_ms() + 10000;
	T_TRUE(wait_path(pty, deadline) && wait_path(ctlp, deadline));

	T_TRUE(pipe(pfd) == 0);
	errfd = open(monerr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	{
		char *argv[] = { esp, "monitor", "-p", pty, "--duration", "60", NULL };

		monpid = spawn(argv, pfd[1], errfd);
	}
	close(pfd[1]);
	close(errfd);
	/* The monitor says when it listens; power the board on only then. */
	while (clock_now_ms() < deadline && !file_contains(monerr, "at 74880 baud"))
		clock_sleep_ms(20);
	T_TRUE(file_contains(monerr, "at 74880 baud"));
	T_TRUE(ctl("power on"));

	mon = fdopen(pfd[0], "r");
	deadline = clock_now_ms() + 45000;
	while (mon != NULL) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int left = (int)(deadline - clock_now_ms());

		if (left <= 0) {
			printf("# the monitor did not get through the boot in time\n");
			break;
		}
		if (poll(&p, 1, left > 200 ? 200 : left) <= 0)
			continue;
		if (fgets(line, sizeof line, mon) == NULL)
			break;
		printf("# | %s", line);
		if (strncmp(line, "diagnosis:", 10) == 0)
			diag = 1;
		/* The live log; the diagnosis after Ctrl-C may quote evidence, escaped. */
		if (!diag && shows_garbage(line)) {
			garbage++;
			printf("# ^ garbage shown\n");
		}
		switch (phase) {
		case 0: /* the ROM at 74880 */
			if (strstr(line, "ets Jan") != NULL && strstr(line, "rst cause:1") != NULL) {
				banner = 1;
				phase = 1;
			}
			break;
		case 1: /* eboot hands over: follow to 115200, then the sketch's log */
			if (strstr(line, "-- switched to 115200") != NULL)
				phase = 2;
			break;
		case 2:
			if (is_app_line(line)) {
				app1 = 1;
				phase = 3;
				sent_reset = ctl("reset");
			}
			break;
		case 3: /* the reset: back to the ROM's baud, then forward again */
			if (strstr(line, "-- switched to 74880") != NULL) {
				back = 1;
				phase = 4;
			}
			break;
		case 4:
			if (strstr(line, "-- switched to 115200") != NULL) {
				fwd2 = 1;
				phase = 5;
			}
			break;
		case 5:
			if (is_app_line(line)) {
				app2 = 1;
				phase = 6;
				/* Ctrl-C: the monitor restores the port and prints the diagnosis. */
				kill(monpid, SIGINT);
				stopped = 1;
			}
			break;
		}
	}
	if (!stopped)
		kill(monpid, SIGINT);
	if (mon != NULL) {
		while (fgets(line, sizeof line, mon) != NULL) {
			printf("# | %s", line);
			if (strncmp(line, "diagnosis:", 10) == 0)
				diag = 1;
		}
		fclose(mon);
	}
	rc = wait_exit(monpid);
	kill(simpid, SIGTERM);
	wait_exit(simpid);

	T_TRUE(banner);
	T_TRUE(app1);
	T_EQ_INT(garbage, 0);
	T_TRUE(sent_reset);
	T_TRUE(back);
	T_TRUE(fwd2);
	T_TRUE(app2);
	T_EQ_INT(rc, 0);
	T_TRUE(diag);

	unlink(fw);
	unlink(pty);
	unlink(ctlp);
	unlink(monerr);
	unlink(simout);
	rmdir(dir);
	t_end_("test_monitor_follows_boot");
}

/*
 * The simulator's failure scenarios (sim_boot.h: an Exception (28) loop, a Soft WDT loop, a
 * hardware `wdt reset` loop, resets mid-boot with no crash text), watched live by the monitor
 * while it follows the baud: the diagnosis printed at the end must name each one. The four run
 * at once; each watches for a few seconds, which covers many loops at --speed fast.
 */
static void
test_monitor_diagnoses_scenarios(void)
{
	static const struct { const char *scenario, *cause; } t[] = {
		{ "exception", "diagnosis: exception " },
		{ "soft-wdt", "diagnosis: soft-watchdog " },
		{ "hw-wdt", "diagnosis: hw-watchdog " },
		{ "brownout", "diagnosis: power-supply " },
	};
	enum { N = sizeof t / sizeof t[0] };
	char sim[4200], esp[4200], d[N][64], path[N][5][128];
	pid_t simpid[N], monpid[N];
	int64_t deadline;

	snprintf(sim, sizeof sim, "%s/espdesk-sim", bindir);
	snprintf(esp, sizeof esp, "%s/espdesk", bindir);
	if (access(sim, X_OK) != 0) {
		t_skip("test_monitor_diagnoses_scenarios", "espdesk-sim is not built");
		return;
	}
	t_begin_();
	for (int i = 0; i < N; i++) {
		int fd, efd;

		snprintf(d[i], sizeof d[i], "/tmp/espdesk-bootlog-XXXXXX");
		T_TRUE(mkdtemp(d[i]) != NULL);
		snprintf(path[i][0], sizeof path[i][0], "%s/fw.bin", d[i]);
		snprintf(path[i][1], sizeof path[i][1], "%s/pty", d[i]);
		snprintf(path[i][2], sizeof path[i][2], "%s/monitor.out", d[i]);
		snprintf(path[i][3], sizeof path[i][3], "%s/monitor.err", d[i]);
		snprintf(path[i][4], sizeof path[i][4], "%s/ctl", d[i]);
		{
			char *argv[] = { sim, "make-firmware", path[i][0], "--demo", NULL };

			T_EQ_INT(wait_exit(spawn(argv, -1, -1)), 0);
		}
		{
			char *argv[] = { sim, "--off", "--flash", path[i][0], "--flash-size", "1MB",
				"--chip", "esp8285", "--link", path[i][1], "--control", path[i][4],
				"--speed", "fast", "--scenario", (char *)t[i].scenario, NULL };

			simpid[i] = spawn(argv, -1, -1);
		}
		deadline = clock_now_ms() + 10000;
		T_TRUE(wait_path(path[i][1], deadline) && wait_path(path[i][4], deadline));
		fd = open(path[i][2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		efd = open(path[i][3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		{
			char *argv[] = { esp, "monitor", "-p", path[i][1], "--duration", "5", NULL };

			monpid[i] = spawn(argv, fd, efd);
		}
		close(fd);
		close(efd);
	}
	/* Power each board on once its monitor listens. */
	for (int i = 0; i < N; i++) {
		deadline = clock_now_ms() + 10000;
		while (clock_now_ms() < deadline && !file_contains(path[i][3], "at 74880 baud"))
			clock_sleep_ms(20);
		T_TRUE(file_contains(path[i][3], "at 74880 baud"));
		snprintf(dir, sizeof dir, "%s", d[i]);
		T_TRUE(ctl("power on"));
	}
	for (int i = 0; i < N; i++) {
		T_EQ_INT(wait_exit(monpid[i]), 0);
		kill(simpid[i], SIGTERM);
		wait_exit(simpid[i]);
		T_CHECK_(file_has_line(path[i][2], t[i].cause), "scenario %s: expected \"%s\"",
		    t[i].scenario, t[i].cause);
		for (int k = 0; k < 5; k++)
			unlink(path[i][k]);
		rmdir(d[i]);
	}
	t_end_("test_monitor_diagnoses_scenarios");
}

int
main(void)
{
	const char *b = getenv("ESPDESK_BUILDDIR");

	snprintf(bindir, sizeof bindir, "%s", b != NULL ? b : ESPDESK_BUILDDIR);
	signal(SIGPIPE, SIG_IGN);
	test_monitor_follows_boot();
	test_monitor_diagnoses_scenarios();
	return t_done();
}
