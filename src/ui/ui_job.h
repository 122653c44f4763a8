/*
 * ui_job.h: one flasher job on one worker thread (doc/ARCHITECTURE.md). The worker opens the
 * port by name (the loop has closed it), runs the engine, and reports through a pipe: every
 * engine event updates a snapshot under a mutex and writes one wake-up byte, which the loop's
 * poll() sees. The worker never calls curses. Cancel is the engine's atomic_bool.
 *
 * A FLOW job also passes on the engine's structured events (progress, FLASHER_PH_WAITING) into
 * the same snapshot fields a plain job fills, and queues every byte the flow's boot watch
 * reads (with its baud) for the loop, which takes them with ui_job_rx_drain() and feeds them
 * to the log pane as if read from the port. The queue is bounded (UI_JOB_RX_MAX); bytes past
 * it are counted in rx_dropped, never blocking the worker.
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

/* Erasing is the erase flow's job (UI_JOB_FLOW), with its backup interlock. */
enum ui_job_op { UI_JOB_IDENTIFY, UI_JOB_BACKUP, UI_JOB_WRITE, UI_JOB_FLOW };

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
	char profile[64];              /* FLOW: the profile the user named, "" = matched */
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
	char detail[600];              /* what the flow says first about the question, or "" */
	/* FLOW: the boot watch listens (count of its FLASHER_PH_RESET events) and what the user
	 * is to do for it ("power-cycle the board WITHOUT holding the button ..."). */
	unsigned watch_seq;
	char watch_msg[200];
	uint64_t rx_dropped;           /* boot-watch bytes the full queue could not take */
};

#define UI_JOB_RX_MAX (1u << 20)

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
	int run_step;                  /* FLOW: the running step, -1 none */
	char linebuf[200];             /* FLOW: the engine's output line being assembled */
	size_t linelen;
	uint8_t *rxq;                  /* FLOW: queued boot-watch bytes, records of struct
	                                * ui_job_rx_rec + bytes; under lock */
	size_t rxq_len, rxq_cap;
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
/* Takes the queued boot-watch bytes and calls fn for each chunk in order, with the baud it was
 * read at (bytes borrowed for the call). Call on the loop's thread; fn may not call back into
 * the job. */
void ui_job_rx_drain(struct ui_job *j, void (*fn)(void *arg, const uint8_t *buf, size_t len,
    int baud), void *arg);
/* Waits for the worker (call once running is 0, or after a cancel) and releases the job. */
void ui_job_join(struct ui_job *j);

#endif
