/* espdesk --demo: the simulated Sonoff behind a pty, driven through its control socket. */
#include "config.h"

#include "ui/ui_demo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/common.h"
#include "core/xmalloc.h"

const char *
ui_demo_fault_name(enum ui_demo_fault f)
{
	static const char *const names[] = { "healthy firmware", "exception loop",
	    "watchdog loop", "bad flash mode (QIO image on an ESP8285)",
	    "missing RF init data" };

	return (size_t)f < ARRAY_SIZE(names) ? names[f] : "?";
}

/* espdesk-sim next to this espdesk (the build directory), else the one on PATH. */
static void
ui_demo_find_sim(struct ui_demo *d)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(d->sim, sizeof d->sim, "%.900s/espdesk-sim", self);
			if (access(d->sim, X_OK) == 0)
				return;
		}
	}
	snprintf(d->sim, sizeof d->sim, "espdesk-sim");
}

/* Runs espdesk-sim make-firmware OUT with extra options; 0 on success. */
/* In a child: the simulator's output must not reach the TUI's terminal. Never returns. */
static void
ui_demo_exec(const char *const *argv)
{
	int fd;

	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

static int
ui_demo_make_fw(struct ui_demo *d, const char *out, const char *opt1, const char *opt2)
{
	const char *argv[10];
	int n = 0, st;
	pid_t pid;

	argv[n++] = d->sim;
	argv[n++] = "make-firmware";
	argv[n++] = out;
	argv[n++] = "--demo";
	argv[n++] = "--flash-size";
	argv[n++] = d->big ? "4MB" : "1MB";
	if (opt1 != NULL)
		argv[n++] = opt1;
	if (opt2 != NULL)
		argv[n++] = opt2;
	argv[n] = NULL;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		ui_demo_exec(argv);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
ui_demo_start(struct ui_demo *d, char **cause)
{
	const char *argv[20];
	int n = 0;
	struct stat sb;

	*cause = NULL;
	memset(d, 0, sizeof *d);
	d->pid = -1;
	ui_demo_find_sim(d);
	d->big = getenv("ESPDESK_DEMO_FLASH") != NULL &&
	    strcmp(getenv("ESPDESK_DEMO_FLASH"), "4MB") == 0;
	snprintf(d->dir, sizeof d->dir, "/tmp/espdesk-demo-XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		*cause = xfmt("demo: cannot create a directory in /tmp: %s", strerror(errno));
		return RC_ERR_IO;
	}
	snprintf(d->port, sizeof d->port, "%s/sonoff", d->dir);
	snprintf(d->ctl, sizeof d->ctl, "%s/sim.ctl", d->dir);
	snprintf(d->flash, sizeof d->flash, "%s/flash.bin", d->dir);
	if (ui_demo_make_fw(d, d->flash, NULL, NULL) != 0) {
		*cause = xfmt("demo: '%s make-firmware %s --demo' failed; build espdesk-sim "
		    "(make) or put it on PATH", d->sim, d->flash);
		rmdir(d->dir);
		return RC_ERR_IO;
	}
	argv[n++] = d->sim;
	argv[n++] = "--chip"; argv[n++] = d->big ? "esp8266" : "esp8285";
	argv[n++] = "--flash"; argv[n++] = d->flash;
	argv[n++] = "--flash-size"; argv[n++] = d->big ? "4MB" : "1MB";
	if (d->big) {
		argv[n++] = "--flash-id"; argv[n++] = "0xEF4016";  /* W25Q32 (devices.md) */
	}
	argv[n++] = "--link"; argv[n++] = d->port;
	argv[n++] = "--control"; argv[n++] = d->ctl;
	argv[n++] = "--no-autoreset";
	argv[n++] = "--off"; /* powered on once the TUI listens, so the whole boot shows */
	argv[n] = NULL;
	if ((d->pid = fork()) < 0) {
		*cause = xfmt("demo: fork: %s", strerror(errno));
		return RC_ERR_IO;
	}
	if (d->pid == 0) {
		/* Its own process group: a Ctrl-C meant for the TUI must not kill the board. */
		setpgid(0, 0);
		/* ...but it must not outlive espdesk, even one killed with SIGKILL or by ASan. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		ui_demo_exec(argv);
	}
	for (int i = 0; i < 100; i++) {
		if (lstat(d->port, &sb) == 0 && stat(d->ctl, &sb) == 0)
			return RC_OK;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = -1;
			break;
		}
		clock_sleep_ms(50);
	}
	*cause = xfmt("demo: %s did not come up (no %s after 5 s); run it by hand to see why",
	    d->sim, d->port);
	ui_demo_stop(d);
	return RC_ERR_IO;
}

void
ui_demo_stop(struct ui_demo *d)
{
	char path[400];

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (int i = 0; i < 40 && waitpid(d->pid, NULL, WNOHANG) == 0; i++)
			clock_sleep_ms(25);
		if (waitpid(d->pid, NULL, WNOHANG) == 0) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
		}
		d->pid = -1;
	}
	if (d->dir[0] == '\0')
		return;
	unlink(d->port);
	unlink(d->ctl);
	unlink(d->flash);
	snprintf(path, sizeof path, "%s/fw.bin", d->dir);
	unlink(path);
	rmdir(d->dir);
	d->dir[0] = '\0';
}

int
ui_demo_ctl(struct ui_demo *d, const char *cmd, char **reply, char **cause)
{
	struct sockaddr_un sa;
	char buf[512];
	size_t got = 0;
	ssize_t n;
	int fd;

	*cause = NULL;
	if (reply != NULL)
		*reply = NULL;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", d->ctl);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		*cause = xfmt("demo: the simulator's control socket %s does not answer (%s)", d->ctl,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return RC_ERR_IO;
	}
	snprintf(buf, sizeof buf, "%s\n", cmd);
	if (write(fd, buf, strlen(buf)) < 0) {
		*cause = xfmt("demo: control %s: %s", d->ctl, strerror(errno));
		close(fd);
		return RC_ERR_IO;
	}
	while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	close(fd);
	buf[got] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strncmp(buf, "ok", 2) != 0) {
		*cause = xfmt("demo: the simulator refused '%s': %s", cmd, got ? buf : "no reply");
		return RC_ERR_PROTO;
	}
	if (reply != NULL)
		*reply = xstrdup(buf);
	return RC_OK;
}

int
ui_demo_gpio0(struct ui_demo *d, int down, char **cause)
{
	int rc = ui_demo_ctl(d, down ? "gpio0 down" : "gpio0 up", NULL, cause);

	if (rc == RC_OK)
		d->gpio0_down = down;
	return rc;
}

int
ui_demo_power_cycle(struct ui_demo *d, char **cause)
{
	return ui_demo_ctl(d, "power cycle", NULL, cause);
}

/* Copies a freshly made image over the simulated flash (the simulator maps the file shared,
 * so the board sees it at once, as if someone had flashed it). */
static int
ui_demo_reflash(struct ui_demo *d, const char *opt, char **cause)
{
	char fw[400], buf[65536];
	int in, out, rc = RC_OK;
	ssize_t n;

	snprintf(fw, sizeof fw, "%s/fw.bin", d->dir);
	if (ui_demo_make_fw(d, fw, opt, NULL) != 0) {
		*cause = xfmt("demo: %s make-firmware %s failed", d->sim, opt ? opt : "");
		return RC_ERR_IO;
	}
	if ((in = open(fw, O_RDONLY)) < 0 || (out = open(d->flash, O_WRONLY)) < 0) {
		*cause = xfmt("demo: cannot rewrite %s: %s", d->flash, strerror(errno));
		if (in >= 0)
			close(in);
		return RC_ERR_IO;
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			*cause = xfmt("demo: writing %s: %s", d->flash, strerror(errno));
			rc = RC_ERR_IO;
			break;
		}
	close(in);
	close(out);
	unlink(fw);
	return rc;
}

int
ui_demo_fault(struct ui_demo *d, enum ui_demo_fault f, char **cause)
{
	int rc = RC_OK;

	*cause = NULL;
	switch (f) {
	case UI_DEMO_HEALTHY:
		if ((rc = ui_demo_ctl(d, "scenario none", NULL, cause)) == RC_OK)
			rc = ui_demo_reflash(d, NULL, cause);
		break;
	case UI_DEMO_EXCEPTION:
		rc = ui_demo_ctl(d, "scenario exception", NULL, cause);
		break;
	case UI_DEMO_WDT:
		rc = ui_demo_ctl(d, "scenario soft-wdt", NULL, cause);
		break;
	case UI_DEMO_FLASH_MODE:
		rc = ui_demo_reflash(d, "--flash-mode=qio", cause);
		break;
	case UI_DEMO_RF_DATA:
		rc = ui_demo_reflash(d, "--blank-init-data", cause);
		break;
	}
	if (rc == RC_OK && d->gpio0_down)
		rc = ui_demo_gpio0(d, 0, cause);
	if (rc == RC_OK)
		rc = ui_demo_power_cycle(d, cause);
	return rc;
}
