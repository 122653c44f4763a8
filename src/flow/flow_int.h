/*
 * flow_int.h: what the engine (flow.c), the steps (flow_steps.c) and the flow definitions
 * (flow_backup.c, flow_flash.c, flow_restore.c, flow_erase.c) share. Not for other modules.
 */
#ifndef ESPDESK_FLOW_INT_H
#define ESPDESK_FLOW_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"
#include "flasher/flasher.h"

struct profile_set;
struct profile;

/* A step's flags. */
#define FLOW_S_AGAIN 0x1  /* its proof does not outlive the process: run it on every resume */

struct flow_ctx;

struct flow_step {
	const char *name;       /* "read", "write", ... */
	const char *does;       /* shown before it runs */
	const char *proves;     /* shown when it succeeds */
	unsigned flags;
	int (*run)(struct flow_ctx *c, char **cause);
};

struct flow_def {
	const char *name;
	const char *title;
	const struct flow_step *steps;
	size_t nsteps;
};

struct flow_ctx {
	struct flow_opts o;
	struct flow_journal j;
	const struct flow_def *def;
	int resuming;
	struct flasher *f;
	const struct flasher_info *info; /* points at info_copy (outlives the session) */
	struct flasher_info info_copy;
	uint32_t size;                /* flash size in use (JEDEC) */
	struct profile_set *ps;
	const struct profile *prof;   /* borrowed from ps; the one o.profile names (loaded when the
	                               * run starts), or the best fit; NULL when none fits */
	uint8_t *dump;                /* the chip read in this run (backup) */
	uint8_t dev_md5[16];          /* the device's MD5 of the whole chip, once verified */
	uint8_t *img;                 /* what will be written (flash, restore) */
	size_t img_len;
	struct flasher_hdr hdr;
	int have_backup;              /* a verified backup of this device exists (j.backup) */
	atomic_bool cancel;
	int skipped;                  /* the running step had nothing to do: it proved nothing */
	int last_pct;
	int last_phase;
	char last_wait[160];          /* the WAITING message said last */
};

/* Loads the profile the user named into c->prof (its name journalled). RC_OK, or
 * RC_ERR_ARG with the names that come close. */
int flow_profile_load(struct flow_ctx *c, const char *name, char **cause);

/* Shared steps (flow_steps.c). */
int flow_st_connect(struct flow_ctx *c, char **cause);
int flow_st_identify(struct flow_ctx *c, char **cause);
int flow_st_need_backup(struct flow_ctx *c, char **cause);
int flow_st_read(struct flow_ctx *c, char **cause);
int flow_st_verify_read(struct flow_ctx *c, char **cause);
int flow_st_store(struct flow_ctx *c, char **cause);
int flow_st_show(struct flow_ctx *c, char **cause);
int flow_st_check_image(struct flow_ctx *c, char **cause);
int flow_st_choose_backup(struct flow_ctx *c, char **cause);
int flow_st_erase(struct flow_ctx *c, char **cause);
int flow_st_write(struct flow_ctx *c, char **cause);
int flow_st_verify_write(struct flow_ctx *c, char **cause);
int flow_st_watch(struct flow_ctx *c, char **cause);

/* Engine helpers for steps. */
void flow_say(struct flow_ctx *c, const char *fmt, ...) ED_PRINTFLIKE(2, 3);
/* Asks a yes/no question. detail (may be NULL) is said first: what the answer means. flag
 * names the option that answers it for scripts; risky questions (those that could lose the
 * only backup) are not answered by --yes. 1 yes, 0 no. */
int flow_ask(struct flow_ctx *c, const char *question, const char *detail, int risky,
    int flag_given, const char *flag);

extern const struct flow_def flow_def_backup;
extern const struct flow_def flow_def_flash;
extern const struct flow_def flow_def_restore;
extern const struct flow_def flow_def_erase;

#endif
