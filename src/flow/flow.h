/*
 * flow.h: guided flows (issue 9): back up, flash new firmware, restore, erase, each a list of
 * steps run by one engine. A flow is data (const struct flow_def, one small file each); the
 * engine (flow.c) runs its steps in order, shows what each step is about to do (with the device
 * profile's instructions: where GPIO0 is, the pin order, mains warnings) and what it proved.
 *
 * Interlocks: flashing needs a verified backup of this very device (chip id and MAC) or takes
 * one first; erasing needs one or an explicit `no_backup`; restoring another unit's dump needs
 * `other_unit`; a 1 MB dump goes to a bigger chip only relaid (`relayout`). `yes` answers the
 * ordinary questions, never these.
 *
 * Resume: every run keeps a journal next to the backup store ($DATA/espdesk/flow.journal,
 * written atomically after each proven step). A flow that stopped for any reason resumes at the
 * first step not proven; steps whose proof does not survive the process (connect, identify, a
 * read held in memory) run again, and a write continues through the flasher's skip of sectors
 * whose device MD5 already matches, so verified data is not rewritten.
 *
 * Errors: enum rc, `char **cause` (caller frees). Output goes to the FILE in the options; the
 * engine never exits.
 */
#ifndef ESPDESK_FLOW_H
#define ESPDESK_FLOW_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "core/common.h"

struct flow_def;
struct flasher_event;
struct flasher_info;

/* A step's state, as a front end (the TUI's flow pane) shows it. */
enum flow_step_state { FLOW_STEP_WAITING, FLOW_STEP_RUNNING, FLOW_STEP_DONE, FLOW_STEP_FAILED };

/* What a run was asked to do. Strings are borrowed for the run. */
struct flow_opts {
	const char *flow;       /* "backup", "flash", "restore", "erase" */
	const char *port;
	int baud;               /* cap, 0 = fastest */
	int manual;             /* the board has no auto-reset: the user enters download mode
	                         * (learnt when a reset does nothing and the user does it) */
	int reset_only;         /* reset through DTR/RTS and never wait for the user (the chip
	                         * must answer within about 10 s) */
	const char *profile;    /* the board's profile by name (`espdesk profiles`): its
	                         * instructions are shown before connecting, and the chip must
	                         * fit it; NULL = matched from the chip */
	const char *file;       /* flash: the firmware image */
	const char *backup;     /* restore: the backup id ("" = this device's newest) */
	int yes;                /* answer ordinary questions yes */
	int no_backup;          /* erase without a backup, accepting the loss */
	int other_unit;         /* restore another unit's dump (its eWeLink identity comes along) */
	int relayout;           /* restore a smaller dump relaid to this chip's size */
	int watch_ms;           /* how long to watch the boot; 0 = default, < 0 = do not watch */
	FILE *out;              /* messages (stdout) */
	atomic_bool *cancel;    /* set (by a SIGINT handler) to stop the running step; may be NULL */
	/* Optional, for front ends; all called on the thread that runs the flow, all NULL in the
	 * CLI, all given cb_arg.
	 * step_cb: step i of n (name) changed state (a step proven earlier is reported DONE without
	 *   running).
	 * ask_cb: answers a question the CLI would ask on the terminal; detail (may be NULL) is
	 *   what the user should know first (what it means, what is at stake); risky: it could
	 *   lose the only backup (the front end should want "yes" typed out); flag names the CLI
	 *   option that answers it. Returns 1 for yes.
	 * ev_cb: every engine event of the running step (progress of read/write/erase/verify with
	 *   rate and ETA, FLASHER_PH_WAITING while the user is to put a manual board in download
	 *   mode). The boot watch (the step named "watch") sends one FLASHER_PH_RESET event
	 *   with msg set once it listens (the flasher's own resets carry no msg), msg saying
	 *   what the user is to do (power-cycle without the button on a manual board).
	 *   ev is borrowed for the call.
	 * info_cb: the identify step read the chip (info borrowed for the call).
	 * rx_cb: every byte the boot watch reads from the port, with the baud it was read at, so
	 *   the front end can decode and show the boot in place (buf borrowed for the call). */
	void (*step_cb)(void *arg, size_t i, size_t n, const char *name, enum flow_step_state st);
	int (*ask_cb)(void *arg, const char *question, const char *detail, int risky,
	    const char *flag);
	void (*ev_cb)(void *arg, const struct flasher_event *ev);
	void (*rx_cb)(void *arg, const uint8_t *buf, size_t len, int baud);
	void (*info_cb)(void *arg, const struct flasher_info *info);
	void *cb_arg;
};

/* The flows, NULL-terminated. */
extern const struct flow_def *const flow_table[];
/* Finds a flow by name, NULL when none. */
const struct flow_def *flow_find(const char *name);
const char *flow_name(const struct flow_def *d);
/* A flow's steps, for a checklist: their number and the name of step i (static strings). */
size_t flow_nsteps(const struct flow_def *d);
const char *flow_step_name(const struct flow_def *d, size_t i);

/* Runs a flow from its first step; an existing unfinished journal is refused (resume or abort
 * it first), and so is a profile name that names no profile. Returns RC_OK when every step
 * was proven. */
int flow_start(const struct flow_opts *o, char **cause);
/* Continues the journalled flow at its first unproven step (o: port and flags may override the
 * journal's; NULL fields keep it). */
int flow_resume(const struct flow_opts *o, char **cause);
/* Prints the journal: flow, device, steps proven, the failure that stopped it. RC_OK, or
 * RC_ERR_ARG when there is no journal. */
int flow_status(FILE *out, char **cause);
/* Forgets the journal (the backup store is not touched). */
int flow_abort(char **cause);

/* The journal (flow_journal.c), a push parser over the file's bytes. */
#define FLOW_MAX_STEPS 16
struct flow_journal {
	char flow[16];
	char port[128];
	char file[512];
	char backup[96];        /* the backup this flow relies on or took */
	char profile[64];       /* the profile the user named, "" = matched from the chip */
	int have_device, have_mac; /* chip_id and mac were given (always both) */
	uint32_t chip_id;
	uint8_t mac[6];
	uint32_t done;          /* bit per step proven */
	uint32_t skipped;       /* bit per step passed without proving anything (--no-watch) */
	int finished;
	int manual, no_backup, other_unit, relayout;
	char failed[320];       /* why the last run stopped, "" if it did not fail */
};
int flow_journal_parse(const char *name, const uint8_t *buf, size_t len, struct flow_journal *j,
    char **cause);
/* Text form (new string, caller frees). */
char *flow_journal_format(const struct flow_journal *j);
/* Path of the journal (new string, caller frees). */
char *flow_journal_path(void);
int flow_journal_load(struct flow_journal *j, char **cause);
int flow_journal_save(const struct flow_journal *j, char **cause);

#endif
