/* A flasher job on the worker thread, reporting to the loop through a pipe. */
#include "config.h"

#include "ui/ui_job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/xmalloc.h"
#include "flow/flow.h"

const char *
ui_job_op_name(enum ui_job_op op)
{
	static const char *const names[] = { "identify", "backup", "write", "flow" };

	return (size_t)op < ARRAY_SIZE(names) ? names[op] : "job";
}

static void
ui_job_wake(struct ui_job *j)
{
	char c = 1;

	/* Non-blocking: a full pipe already means "look at the snapshot". */
	if (write(j->pipe[1], &c, 1) < 0 && errno != EAGAIN)
		return;
}

/* The snapshot's phase, progress figures and download-mode wait from an engine event, for plain
 * jobs and flows alike. Called with the lock held. */
static void
ui_job_progress(struct ui_job *j, const struct flasher_event *ev)
{
	if (ev->phase != j->st.phase || ev->total > 0) {
		/* total 0 inside a data phase is a keep-alive tick: keep the last figures. */
		j->st.done = ev->done;
		j->st.total = ev->total;
		j->st.rate = ev->rate;
		j->st.eta = ev->eta;
	}
	j->st.phase = ev->phase;
	j->st.waiting = ev->phase == FLASHER_PH_WAITING;
}

static void
ui_job_event(void *arg, const struct flasher_event *ev)
{
	struct ui_job *j = arg;

	pthread_mutex_lock(&j->lock);
	if (ev->phase != j->st.phase && ev->msg == NULL)
		j->st.msg[0] = '\0';
	ui_job_progress(j, ev);
	if (ev->msg != NULL)
		snprintf(j->st.msg, sizeof j->st.msg, "%s", ev->msg);
	pthread_mutex_unlock(&j->lock);
	ui_job_wake(j);
}

struct ui_job_file {
	FILE *f;
};

static int
ui_job_sink(void *arg, uint32_t addr, const uint8_t *data, size_t len)
{
	struct ui_job_file *o = arg;

	(void)addr;
	return fwrite(data, 1, len, o->f) == len ? 0 : -1;
}

static int
ui_job_backup(struct ui_job *j, struct flasher *f, char *res, size_t rsize, char **cause)
{
	struct ui_job_file o;
	char tmp[1100];
	uint32_t size = flasher_flash_size(f);
	int rc;

	snprintf(tmp, sizeof tmp, "%s.part", j->req.path);
	if ((o.f = fopen(tmp, "wb")) == NULL) {
		*cause = xfmt("cannot create %s: %s; choose a directory you can write to", tmp,
		    strerror(errno));
		return RC_ERR_IO;
	}
	rc = flasher_read(f, 0, size, ui_job_sink, &o, cause);
	if (fclose(o.f) != 0 && rc == RC_OK) {
		*cause = xfmt("writing %s failed: %s; check the disk space", tmp, strerror(errno));
		rc = RC_ERR_IO;
	}
	if (rc == RC_OK && rename(tmp, j->req.path) != 0) {
		*cause = xfmt("cannot rename %s to %s: %s", tmp, j->req.path, strerror(errno));
		rc = RC_ERR_IO;
	}
	if (rc != RC_OK)
		unlink(tmp);
	else
		snprintf(res, rsize, "backed up %u KB of flash to %.200s (every region checked by MD5)",
		    size / 1024, j->req.path);
	return rc;
}

static int
ui_job_write(struct ui_job *j, struct flasher *f, char *res, size_t rsize, char **cause)
{
	struct flasher_write_result wr;
	struct stat sb;
	uint8_t *data;
	FILE *in;
	int rc;

	if ((in = fopen(j->req.path, "rb")) == NULL || fstat(fileno(in), &sb) != 0) {
		*cause = xfmt("cannot open %s: %s; choose another file", j->req.path,
		    strerror(errno));
		if (in != NULL)
			fclose(in);
		return RC_ERR_IO;
	}
	if (sb.st_size <= 0 || (uint64_t)sb.st_size > 16u * 1024 * 1024) {
		fclose(in);
		*cause = xfmt("%s is %s; a firmware or flash image is 1 byte to 16 MB", j->req.path,
		    sb.st_size <= 0 ? "empty" : "larger than any ESP8266 flash");
		return RC_ERR_ARG;
	}
	data = xmalloc((size_t)sb.st_size);
	if (fread(data, 1, (size_t)sb.st_size, in) != (size_t)sb.st_size) {
		fclose(in);
		free(data);
		*cause = xfmt("reading %s failed; is it still there?", j->req.path);
		return RC_ERR_IO;
	}
	fclose(in);
	if ((rc = flasher_plan_check_write(0, (size_t)sb.st_size, flasher_flash_size(f),
	    j->req.path, cause)) == RC_OK &&
	    (rc = flasher_plan_check_boot(0, data, (size_t)sb.st_size, j->req.path, cause)) == RC_OK &&
	    (rc = flasher_write(f, 0, data, (size_t)sb.st_size, NULL, &wr, cause)) == RC_OK)
		snprintf(res, rsize, "wrote %.200s: %u bytes sent, %u unchanged skipped%s", j->req.path,
		    wr.written, wr.skipped, wr.verified ? ", verified by MD5" : " (not verified)");
	free(data);
	return rc;
}

/* ---- a guided flow (src/flow/) on the worker ---- */

/* The engine's output: complete lines go to the snapshot (the last four). */
static ssize_t
ui_job_flow_write(void *arg, const char *buf, size_t len)
{
	struct ui_job *j = arg;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (j->linelen + 1 < sizeof j->linebuf)
				j->linebuf[j->linelen++] = buf[i];
			continue;
		}
		j->linebuf[j->linelen] = '\0';
		pthread_mutex_lock(&j->lock);
		memmove(j->st.lines[0], j->st.lines[1], sizeof j->st.lines - sizeof j->st.lines[0]);
		snprintf(j->st.lines[3], sizeof j->st.lines[3], "%s", j->linebuf);
		snprintf(j->st.msg, sizeof j->st.msg, "%s", j->linebuf);
		pthread_mutex_unlock(&j->lock);
		j->linelen = 0;
		ui_job_wake(j);
	}
	return (ssize_t)len;
}

static void
ui_job_flow_step(void *arg, size_t i, size_t n, const char *name, enum flow_step_state st)
{
	struct ui_job *j = arg;

	if (i >= UI_JOB_MAX_STEPS)
		return;
	pthread_mutex_lock(&j->lock);
	j->st.nsteps = n < UI_JOB_MAX_STEPS ? n : UI_JOB_MAX_STEPS;
	snprintf(j->st.step_name[i], sizeof j->st.step_name[i], "%s", name);
	j->st.step_state[i] = (int)st;
	j->run_step = st == FLOW_STEP_RUNNING ? (int)i : -1;
	/* A step's progress and waiting belong to it alone. */
	j->st.waiting = 0;
	j->st.done = j->st.total = 0;
	j->st.rate = 0;
	j->st.eta = -1;
	j->st.watch_msg[0] = '\0';
	pthread_mutex_unlock(&j->lock);
	ui_job_wake(j);
}

/* The engine's structured events of the running step: the same snapshot fields a plain job
 * fills (phase, progress, rate, ETA, waiting for download mode); the flow's text keeps msg. */
static void
ui_job_flow_event(void *arg, const struct flasher_event *ev)
{
	struct ui_job *j = arg;

	pthread_mutex_lock(&j->lock);
	ui_job_progress(j, ev);
	if (ev->phase == FLASHER_PH_RESET && ev->msg != NULL && j->run_step >= 0 &&
	    strcmp(j->st.step_name[j->run_step], "watch") == 0) {
		/* The boot watch listens (the flasher's own resets carry no message). */
		j->st.watch_seq++;
		snprintf(j->st.watch_msg, sizeof j->st.watch_msg, "%s", ev->msg ? ev->msg : "");
	}
	pthread_mutex_unlock(&j->lock);
	ui_job_wake(j);
}

/* The flow identified the chip: the device pane shows it as after a plain job. */
static void
ui_job_flow_info(void *arg, const struct flasher_info *info)
{
	struct ui_job *j = arg;

	pthread_mutex_lock(&j->lock);
	j->st.info = *info;
	j->st.have_info = 1;
	pthread_mutex_unlock(&j->lock);
	ui_job_wake(j);
}

/* Every byte the boot watch reads: queued as a record for the loop. */
struct ui_job_rx_rec {
	int baud;
	uint32_t len;
};

static void
ui_job_flow_rx(void *arg, const uint8_t *buf, size_t len, int baud)
{
	struct ui_job *j = arg;
	struct ui_job_rx_rec r = { baud, (uint32_t)len };
	size_t need = sizeof r + len;

	pthread_mutex_lock(&j->lock);
	if (j->rxq_len + need > UI_JOB_RX_MAX) {
		j->st.rx_dropped += len;
		pthread_mutex_unlock(&j->lock);
		return;
	}
	if (j->rxq_len + need > j->rxq_cap) {
		j->rxq_cap = j->rxq_len + need > 2 * j->rxq_cap ? j->rxq_len + need :
		    2 * j->rxq_cap;
		j->rxq = xreallocarray(j->rxq, j->rxq_cap, 1);
	}
	memcpy(j->rxq + j->rxq_len, &r, sizeof r);
	memcpy(j->rxq + j->rxq_len + sizeof r, buf, len);
	j->rxq_len += need;
	pthread_mutex_unlock(&j->lock);
	ui_job_wake(j);
}

void
ui_job_rx_drain(struct ui_job *j, void (*fn)(void *arg, const uint8_t *buf, size_t len,
    int baud), void *arg)
{
	struct ui_job_rx_rec r;
	uint8_t *q;
	size_t len, off = 0;

	if (!j->started)
		return;
	pthread_mutex_lock(&j->lock);
	q = j->rxq;
	len = j->rxq_len;
	j->rxq = NULL;
	j->rxq_len = j->rxq_cap = 0;
	pthread_mutex_unlock(&j->lock);
	while (off + sizeof r <= len) {
		memcpy(&r, q + off, sizeof r);
		off += sizeof r;
		fn(arg, q + off, r.len, r.baud);
		off += r.len;
	}
	free(q);
}

static int
ui_job_flow_ask(void *arg, const char *question, const char *detail, int risky,
    const char *flag)
{
	struct ui_job *j = arg;
	int yes;

	(void)flag;
	pthread_mutex_lock(&j->lock);
	snprintf(j->st.question, sizeof j->st.question, "%s", question);
	snprintf(j->st.detail, sizeof j->st.detail, "%s", detail ? detail : "");
	j->st.ask_risky = risky;
	j->st.asking = 1;
	j->answered = 0;
	pthread_mutex_unlock(&j->lock);
	ui_job_wake(j);
	pthread_mutex_lock(&j->lock);
	while (!j->answered && !atomic_load(&j->cancel))
		pthread_cond_wait(&j->cond, &j->lock);
	yes = j->answered && j->answer;
	j->st.asking = 0;
	pthread_mutex_unlock(&j->lock);
	ui_job_wake(j);
	return yes;
}

static int
ui_job_flow(struct ui_job *j, char *res, size_t rsize, char **cause)
{
	static const cookie_io_functions_t io = { .write = ui_job_flow_write };
	const struct flow_def *d;
	struct flow_opts o;
	FILE *out;
	int rc;

	if ((d = flow_find(j->req.flow)) != NULL) {
		pthread_mutex_lock(&j->lock);
		j->st.nsteps = flow_nsteps(d) < UI_JOB_MAX_STEPS ? flow_nsteps(d) : UI_JOB_MAX_STEPS;
		for (size_t i = 0; i < j->st.nsteps; i++)
			snprintf(j->st.step_name[i], sizeof j->st.step_name[i], "%s",
			    flow_step_name(d, i));
		pthread_mutex_unlock(&j->lock);
	}
	if ((out = fopencookie(j, "w", io)) == NULL) {
		*cause = xfmt("cannot start the flow: %s", strerror(errno));
		return RC_ERR_IO;
	}
	setvbuf(out, NULL, _IOLBF, 0);
	memset(&o, 0, sizeof o);
	o.flow = j->req.flow;
	o.port = j->req.port;
	o.baud = j->req.baud;
	o.manual = j->req.before == FLASHER_BEFORE_MANUAL;
	o.profile = j->req.profile[0] ? j->req.profile : NULL;
	o.file = j->req.path[0] ? j->req.path : NULL;
	o.backup = j->req.backup;
	o.out = out;
	o.cancel = &j->cancel;
	/* The flow watches the boot itself; its bytes go to the log pane through rx_cb. */
	o.watch_ms = 0;
	o.step_cb = ui_job_flow_step;
	o.ask_cb = ui_job_flow_ask;
	o.ev_cb = ui_job_flow_event;
	o.rx_cb = ui_job_flow_rx;
	o.info_cb = ui_job_flow_info;
	o.cb_arg = j;
	rc = j->req.resume ? flow_resume(&o, cause) : flow_start(&o, cause);
	fclose(out);
	if (rc == RC_OK)
		snprintf(res, rsize, "the %s flow is done: every step proven", j->req.flow);
	return rc;
}

static void *
ui_job_main(void *arg)
{
	struct ui_job *j = arg;
	struct flasher_opts o;
	struct flasher *f = NULL;
	char res[320] = "", *cause = NULL, *cause2 = NULL;
	int rc;

	memset(&o, 0, sizeof o);
	o.port = j->req.port;
	o.baud = j->req.baud;
	o.before = j->req.before;
	o.after = FLASHER_AFTER_HARD_RESET;
	o.cancel = &j->cancel;
	o.cb = ui_job_event;
	o.cb_arg = j;
	if (j->req.op == UI_JOB_FLOW)
		rc = ui_job_flow(j, res, sizeof res, &cause);
	else
		rc = flasher_open(&o, &f, &cause);
	if (rc == RC_OK && f != NULL) {
		pthread_mutex_lock(&j->lock);
		j->st.info = *flasher_info(f);
		j->st.have_info = 1;
		j->st.waiting = 0;
		pthread_mutex_unlock(&j->lock);
		ui_job_wake(j);
		switch (j->req.op) {
		case UI_JOB_IDENTIFY:
			snprintf(res, sizeof res, "identified %s, flash %u KB", flasher_info(f)->chip,
			    flasher_flash_size(f) / 1024);
			break;
		case UI_JOB_BACKUP:
			rc = ui_job_backup(j, f, res, sizeof res, &cause);
			break;
		case UI_JOB_WRITE:
			rc = ui_job_write(j, f, res, sizeof res, &cause);
			break;
		case UI_JOB_FLOW:
			break;
		}
		/* Leave the loader either way so the log shows the boot (a cancelled job too). */
		if (flasher_finish(f, &cause2) != RC_OK)
			free(cause2);
		flasher_close(f);
	}
	pthread_mutex_lock(&j->lock);
	j->st.rc = rc;
	snprintf(j->st.cause, sizeof j->st.cause, "%s", cause != NULL ? cause :
	    rc == RC_ERR_CANCEL ? "cancelled; the regions already done are intact" : rc_str(rc));
	snprintf(j->st.result, sizeof j->st.result, "%s", res);
	j->st.running = 0;
	pthread_mutex_unlock(&j->lock);
	free(cause);
	ui_job_wake(j);
	return NULL;
}

int
ui_job_start(struct ui_job *j, const struct ui_job_req *req, char **cause)
{
	*cause = NULL;
	memset(j, 0, sizeof *j);
	j->req = *req;
	j->run_step = -1;
	j->st.running = 1;
	j->st.op = req->op;
	atomic_init(&j->cancel, 0);
	if (pipe(j->pipe) != 0) {
		*cause = xfmt("cannot start the %s job: pipe: %s", ui_job_op_name(req->op),
		    strerror(errno));
		return RC_ERR_IO;
	}
	fcntl(j->pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(j->pipe[1], F_SETFL, O_NONBLOCK);
	fcntl(j->pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(j->pipe[1], F_SETFD, FD_CLOEXEC);
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	if (pthread_create(&j->thread, NULL, ui_job_main, j) != 0) {
		*cause = xfmt("cannot start the %s job: no thread", ui_job_op_name(req->op));
		close(j->pipe[0]);
		close(j->pipe[1]);
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->cond);
		return RC_ERR_IO;
	}
	j->started = 1;
	return RC_OK;
}

int
ui_job_fd(const struct ui_job *j)
{
	return j->started ? j->pipe[0] : -1;
}

void
ui_job_poll(struct ui_job *j, struct ui_job_status *out)
{
	char tmp[64];

	while (read(j->pipe[0], tmp, sizeof tmp) > 0)
		;
	pthread_mutex_lock(&j->lock);
	*out = j->st;
	pthread_mutex_unlock(&j->lock);
}

void
ui_job_cancel(struct ui_job *j)
{
	atomic_store(&j->cancel, 1);
	if (j->started) {
		pthread_mutex_lock(&j->lock);
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
	}
}

void
ui_job_answer(struct ui_job *j, int yes)
{
	pthread_mutex_lock(&j->lock);
	j->answered = 1;
	j->answer = yes;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

void
ui_job_join(struct ui_job *j)
{
	if (!j->started)
		return;
	pthread_join(j->thread, NULL);
	close(j->pipe[0]);
	close(j->pipe[1]);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cond);
	free(j->rxq);
	j->rxq = NULL;
	j->rxq_len = j->rxq_cap = 0;
	j->started = 0;
}
