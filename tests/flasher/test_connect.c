/*
 * test_connect.c: getting into download mode the way users do, against espdesk-sim.
 *
 * A Sonoff has no auto-reset wiring: DTR/RTS reach nothing, and the user holds the button while
 * powering the board, often by unplugging and replugging the USB adapter that powers it, so the
 * port itself goes away. The simulator models both: over RFC 2217 the modem lines reach its
 * auto-reset circuit, which --no-autoreset disconnects; its control socket cuts the power,
 * holds GPIO0 and unplugs the adapter. Expected outcomes come from protocol.md §11.1 and §11.3.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "flasher/flasher.h"
#include "serial/ser_wait.h"
#include "tap.h"

#include "flasher/flasher_simh.h"

struct opener {
	struct flasher_opts o;
	struct flasher *f;
	int rc;
	char *cause;
	atomic_int waits;         /* WAITING events */
	atomic_int unplugged;     /* WAITING events that said the adapter is unplugged */
	atomic_int stuck;         /* WAITING events that said the port is back but held */
	atomic_int told_by_hand;  /* the notice that the reset did nothing */
	atomic_int told_power_cycle; /* the notice that the board must be power-cycled */
	atomic_bool cancel;
};

static void
on_event(void *arg, const struct flasher_event *ev)
{
	struct opener *op = arg;

	if (ev->phase == FLASHER_PH_WAITING) {
		atomic_fetch_add(&op->waits, 1);
		if (ev->msg != NULL && strstr(ev->msg, "unplugged") != NULL)
			atomic_fetch_add(&op->unplugged, 1);
		if (ev->msg != NULL && strstr(ev->msg, "back but cannot be opened") != NULL &&
		    strstr(ev->msg, "busy") != NULL)
			atomic_fetch_add(&op->stuck, 1);
	}
	if (ev->phase == FLASHER_PH_NOTICE && ev->msg != NULL && strstr(ev->msg, "by hand"))
		atomic_fetch_add(&op->told_by_hand, 1);
	if (ev->phase == FLASHER_PH_NOTICE && ev->msg != NULL && strstr(ev->msg, "power-cycle"))
		atomic_fetch_add(&op->told_power_cycle, 1);
}

static void *
open_thread(void *arg)
{
	struct opener *op = arg;

	op->rc = flasher_open(&op->o, &op->f, &op->cause);
	return NULL;
}

static void
opener_init(struct opener *op, const char *port, enum flasher_before before)
{
	memset(op, 0, sizeof *op);
	op->o.port = port;
	op->o.before = before;
	op->o.after = FLASHER_AFTER_NO_RESET;
	op->o.cb = on_event;
	op->o.cb_arg = op;
	op->o.connect_ms = 30000;
}

/* Waits up to ms for the engine to ask the user; 1 when it did. */
static int
wait_asked(struct opener *op, int ms)
{
	for (int t = 0; t < ms; t += 50) {
		if (atomic_load(&op->waits) > 0)
			return 1;
		clock_sleep_ms(50);
	}
	return 0;
}

/* Lets the button go once the ROM has latched it (boot mode 1), as a person does after a
 * second or two. */
static void
button_release(struct sim *s)
{
	for (int i = 0; i < 250 && strstr(sim_ctl(s, "status"), "mode=download") == NULL; i++)
		clock_sleep_ms(20);
	T_CONTAINS(sim_ctl(s, "gpio0 up"), "ok");
}

/* What the user does: holds the button, powers the board, releases the button. */
static void
button_power_on(struct sim *s)
{
	T_CONTAINS(sim_ctl(s, "gpio0 down"), "ok");
	T_CONTAINS(sim_ctl(s, "power on"), "ok");
	button_release(s);
}

/* Joins the opener and checks the session is a working one on an ESP8266. */
static void
opened(struct opener *op, pthread_t th, int manual_board)
{
	pthread_join(th, NULL);
	T_EQ_INT(op->rc, RC_OK);
	if (op->rc != RC_OK)
		printf("# %s\n", op->cause ? op->cause : "");
	if (op->f != NULL) {
		char *cause = NULL;

		T_EQ_STR(flasher_info(op->f)->chip, "ESP8266EX");
		T_EQ_INT(flasher_info(op->f)->manual_board, manual_board);
		T_EQ_INT(flasher_finish(op->f, &cause), RC_OK);
		free(cause);
		flasher_close(op->f);
	}
	free(op->cause);
}

static void
rfc_port(char *buf, size_t n, int k)
{
	snprintf(buf, n, "%d", 21000 + k * 1000 + (int)(getpid() % 997));
}

/* A Sonoff over RFC 2217: the lines exist but reach nothing. AUTO resets, gets no answer,
 * tells the user, and takes the board once it is powered with the button held. */
static void
test_auto_sonoff(void)
{
	char port[16];
	const char *ex[] = { "--rfc2217", port, "--off", "--no-autoreset", NULL };
	struct sim s;
	struct opener op;
	pthread_t th;

	rfc_port(port, sizeof port, 0);
	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	opener_init(&op, s.pty, FLASHER_BEFORE_AUTO);
	pthread_create(&th, NULL, open_thread, &op);
	T_TRUE(wait_asked(&op, 10000));
	T_EQ_INT(atomic_load(&op.told_by_hand), 1);
	button_power_on(&s);
	opened(&op, th, 1);
	sim_stop(&s);
}

/* A board with auto-reset wiring, running its firmware: AUTO's reset brings up the loader
 * without asking anyone, and power cycles stay the engine's (manual_board 0). */
static void
test_auto_resets(void)
{
	char port[16];
	const char *ex[] = { "--rfc2217", port, NULL };
	struct sim s;
	struct opener op;
	pthread_t th;
	int save = sim_no_download;

	rfc_port(port, sizeof port, 1);
	sim_no_download = 1;
	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	sim_no_download = save;
	opener_init(&op, s.pty, FLASHER_BEFORE_AUTO);
	pthread_create(&th, NULL, open_thread, &op);
	opened(&op, th, 0);
	T_EQ_INT(atomic_load(&op.waits), 0);
	sim_stop(&s);
}

/* A pty has no modem lines: AUTO asks after one silent attempt instead of resetting nothing. */
static void
test_auto_no_lines(void)
{
	static const char *const ex[] = { "--off", NULL };
	struct sim s;
	struct opener op;
	pthread_t th;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	opener_init(&op, s.pty, FLASHER_BEFORE_AUTO);
	pthread_create(&th, NULL, open_thread, &op);
	T_TRUE(wait_asked(&op, 2500));
	button_power_on(&s);
	opened(&op, th, 1);
	sim_stop(&s);
}

/* The user follows the advice to unplug and replug the adapter (which powers the board):
 * the port goes away mid-wait and comes back under the same name. */
static void
replug_case(const char *const *ex, int rfc)
{
	struct sim s;
	struct opener op;
	pthread_t th;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	/* The pty changes on each plug; the --link path (as /dev/serial/by-id) does not. */
	opener_init(&op, rfc ? s.pty : s.link, FLASHER_BEFORE_MANUAL);
	pthread_create(&th, NULL, open_thread, &op);
	T_TRUE(wait_asked(&op, 3000));
	T_CONTAINS(sim_ctl(&s, "unplug"), "ok");
	T_CONTAINS(sim_ctl(&s, "power off"), "ok");
	clock_sleep_ms(1500);
	T_TRUE(atomic_load(&op.unplugged) >= 1);
	T_CONTAINS(sim_ctl(&s, "gpio0 down"), "ok");
	T_CONTAINS(sim_ctl(&s, "plug"), "ok");
	T_CONTAINS(sim_ctl(&s, "power on"), "ok");
	button_release(&s);
	opened(&op, th, 1);
	sim_stop(&s);
}

static void
test_manual_replug_pty(void)
{
	static const char *const ex[] = { "--off", NULL };

	replug_case(ex, 0);
}

static void
test_manual_replug_rfc2217(void)
{
	char port[16];
	const char *ex[] = { "--rfc2217", port, "--off", "--no-autoreset", NULL };

	rfc_port(port, sizeof port, 2);
	replug_case(ex, 1);
}

/* A Sonoff the user put in download mode before espdesk started: the first SYNC answers, so
 * nothing says the reset did nothing until the end, where RTS restarts nothing and no boot
 * banner follows: the engine tells the user to power-cycle it. */
static void
test_auto_already_in_download_mode(void)
{
	char port[16];
	const char *ex[] = { "--rfc2217", port, "--no-autoreset", NULL };
	struct sim s;
	struct opener op;
	pthread_t th;

	rfc_port(port, sizeof port, 3);
	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	button_release(&s);
	opener_init(&op, s.pty, FLASHER_BEFORE_AUTO);
	op.o.after = FLASHER_AFTER_HARD_RESET;
	pthread_create(&th, NULL, open_thread, &op);
	opened(&op, th, 0);
	T_EQ_INT(atomic_load(&op.waits), 0);
	T_EQ_INT(atomic_load(&op.told_power_cycle), 1);
	sim_stop(&s);
}

/* --before manual on a Sonoff that is off: the engine waits, the user holds the button and
 * plugs it in; afterwards hard-reset cannot reach the board, and the engine says so. */
static void
test_manual(void)
{
	static const char *const ex[] = { "--off", "--no-autoreset", NULL };
	struct sim s;
	struct opener op;
	pthread_t th;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	opener_init(&op, s.pty, FLASHER_BEFORE_MANUAL);
	op.o.after = FLASHER_AFTER_HARD_RESET;
	pthread_create(&th, NULL, open_thread, &op);
	T_TRUE(wait_asked(&op, 1500));
	button_power_on(&s);
	opened(&op, th, 1);
	T_EQ_INT(atomic_load(&op.told_power_cycle), 1);
	sim_stop(&s);
}

static void *
cancel_later(void *arg)
{
	struct opener *op = arg;

	wait_asked(op, 5000);
	atomic_store(&op->cancel, 1);
	return NULL;
}

/* Waiting for a user who gives up: the cancel flag ends the wait, and no session is left. */
static void
test_manual_cancel(void)
{
	static const char *const ex[] = { "--off", NULL };
	struct sim s;
	struct opener op;
	pthread_t th;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	opener_init(&op, s.pty, FLASHER_BEFORE_MANUAL);
	op.o.cancel = &op.cancel;
	pthread_create(&th, NULL, cancel_later, &op);
	op.rc = flasher_open(&op.o, &op.f, &op.cause);
	pthread_join(th, NULL);
	T_EQ_INT(op.rc, RC_ERR_CANCEL);
	T_TRUE(op.f == NULL);
	free(op.cause);
	sim_stop(&s);
}

/* The pty the simulator serves now ("port=/dev/pts/N" in its status), into buf. */
static void
sim_pty_now(struct sim *s, char *buf, size_t n)
{
	const char *p = strstr(sim_ctl(s, "status"), "port=");
	size_t k = 0;

	buf[0] = '\0';
	if (p == NULL)
		return;
	for (p += 5; *p != '\0' && *p != ' ' && *p != '\n' && k + 1 < n; p++)
		buf[k++] = *p;
	buf[k] = '\0';
}

/* Replugged, but another program holds the port (ModemManager probes every new ttyUSB/ttyACM
 * for a few seconds): after SER_WAIT_STUCK_MS the user is told why it does not open, and once
 * the holder lets go the connect goes on. The port name is a link of our own, pointed at the
 * new pty only once this test holds its lock, so the engine cannot open it first. */
static void
test_manual_replug_busy(void)
{
	static const char *const ex[] = { "--off", NULL };
	struct sim s;
	struct opener op;
	pthread_t th;
	char link[160], pty[64];
	int fd;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	snprintf(link, sizeof link, "%s/mine", s.dir);
	T_TRUE(symlink(s.pty, link) == 0);
	opener_init(&op, link, FLASHER_BEFORE_MANUAL);
	pthread_create(&th, NULL, open_thread, &op);
	T_TRUE(wait_asked(&op, 3000));
	unlink(link);
	T_CONTAINS(sim_ctl(&s, "unplug"), "ok");
	T_CONTAINS(sim_ctl(&s, "power off"), "ok");
	T_CONTAINS(sim_ctl(&s, "plug"), "ok");
	sim_pty_now(&s, pty, sizeof pty);
	fd = open(pty, O_RDWR | O_NOCTTY);
	T_TRUE(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
	T_TRUE(symlink(pty, link) == 0);
	clock_sleep_ms(SER_WAIT_STUCK_MS + 1500);
	T_TRUE(atomic_load(&op.stuck) >= 1);
	if (fd >= 0)
		close(fd);
	T_CONTAINS(sim_ctl(&s, "gpio0 down"), "ok");
	T_CONTAINS(sim_ctl(&s, "power on"), "ok");
	button_release(&s);
	opened(&op, th, 1);
	sim_stop(&s);
}

/* Unplugged and never back: the connect time runs out with one message naming the port. */
static void
test_manual_replug_never(void)
{
	static const char *const ex[] = { "--off", NULL };
	struct sim s;
	struct opener op;
	pthread_t th;

	T_TRUE(sim_start(&s, 1 * MB, NULL, ex) == 0);
	opener_init(&op, s.link, FLASHER_BEFORE_MANUAL);
	op.o.connect_ms = 3000;
	pthread_create(&th, NULL, open_thread, &op);
	T_TRUE(wait_asked(&op, 2000));
	T_CONTAINS(sim_ctl(&s, "unplug"), "ok");
	pthread_join(th, NULL);
	T_TRUE(op.rc == RC_ERR_GONE);
	T_CONTAINS(op.cause, s.link);
	T_TRUE(op.f == NULL);
	free(op.cause);
	sim_stop(&s);
}

int
main(void)
{
	static const struct { void (*fn)(void); const char *name; } cases[] = {
#define C(x) { x, #x }
		C(test_auto_sonoff), C(test_auto_resets), C(test_auto_no_lines),
		C(test_auto_already_in_download_mode),
		C(test_manual_replug_pty), C(test_manual_replug_rfc2217),
		C(test_manual_replug_never), C(test_manual_replug_busy), C(test_manual),
		C(test_manual_cancel),
#undef C
	};
	const char *only = getenv("FLASHER_TEST");

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (only != NULL && strstr(cases[i].name, only) == NULL)
			continue;
		if (access(sim_bin(), X_OK) != 0) {
			t_skip(cases[i].name, "espdesk-sim is not built (src/sim)");
			continue;
		}
		t_begin_();
		cases[i].fn();
		t_end_(cases[i].name);
	}
	return t_done();
}
