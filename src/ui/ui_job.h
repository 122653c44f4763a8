/*
 * ui_job.h: one flasher job on one worker thread (doc/ARCHITECTURE.md). The worker opens the
 * port by name (the loop has closed it), runs the engine, and reports through a pipe: every
 * engine event updates a snapshot under a mutex and writes one wake-up byte, which the loop's
 * poll() sees. The worker never calls curses. Cancel is the engine's atomic_bool.
 *
 * Ownership: struct ui_job is the caller's (zero it, then ui_job_start()); ui_job_join() frees
 * what the job held. Snapshots copy everything (no borrowed pointers). Errors: ui_job_start()
 * returns RC_ERR_IO when the thread or the pipe cannot be made; the job's own outcome is in the
 * snapshot's rc and cause.
 */
#ifndef ESPDESK_UI_JOB_H
#define ESPDESK_UI_JOB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "flasher/flasher.h"

enum ui_job_op { UI_JOB_IDENTIFY, UI_JOB_BACKUP, UI_JOB_WRITE, UI_JOB_ERASE, UI_JOB_FLOW };

#define UI_JOB_MAX_STEPS 16

struct ui_job_req {
	enum ui_job_op op;
	char port[512];
	char path[1024];               /* BACKUP: file to create; WRITE: file to write at 0x0 */
	enum flasher_before before;
	int baud;                      /* cap, 0 = 921600 */
	/* FLOW: the guided flow (src/flow/flow.h) to start, or resume when resume is set; path is
	 * its file (flash), backup its backup id (restore). */
	char flow[16];
	char backup[96];
	int resume;
};

struct ui_job_status {
	int running;                   /* 0 once the worker finished */
	enum ui_job_op op;
	enum flasher_phase phase;
	uint64_t done, total;
	double rate, eta;
	char msg[320];                 /* the engine's last message, or "" */
	int waiting;                   /* manual mode: waiting for download mode */
	int have_info;
	struct flasher_info info;
	int rc;                        /* when finished: RC_OK or the failure */
	char cause[640];               /* when failed: what happened and what to do */
	char result[320];              /* when done: one line for the user */
	/* FLOW: the checklist (enum flow_step_state per step), the engine's last lines, and a
	 * question waiting for ui_job_answer() (risky: needs a typed confirmation). */
	size_t nsteps;
	char step_name[UI_JOB_MAX_STEPS][16];
	int step_state[UI_JOB_MAX_STEPS];
	char lines[4][200];
	int asking, ask_risky;
	char question[400];
};

struct ui_job {
	pthread_t thread;
	int started;
	int pipe[2];
	atomic_bool cancel;
	pthread_mutex_t lock;
	struct ui_job_req req;
	struct ui_job_status st;
	pthread_cond_t cond;           /* FLOW: the worker waits here for an answer */
	int answered, answer;
	char linebuf[200];             /* FLOW: the engine's output line being assembled */
	size_t linelen;
};

const char *ui_job_op_name(enum ui_job_op op);
/* Starts req on a new thread. The caller must not use the port until ui_job_join(). */
int ui_job_start(struct ui_job *j, const struct ui_job_req *req, char **cause);
/* The fd to poll for POLLIN; readable whenever the snapshot changed. */
int ui_job_fd(const struct ui_job *j);
/* Reads the pending wake-ups and copies the snapshot. */
void ui_job_poll(struct ui_job *j, struct ui_job_status *out);
void ui_job_cancel(struct ui_job *j);
/* Answers the flow's pending question (yes 1, no 0). */
void ui_job_answer(struct ui_job *j, int yes);
/* Waits for the worker (call once running is 0, or after a cancel) and releases the job. */
void ui_job_join(struct ui_job *j);

#endif
