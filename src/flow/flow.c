/*
 * flow.c: the one engine every flow runs on (see flow.h). It walks a flow's steps, skips those
 * the journal records as proven (unless their proof dies with the process), saves the journal
 * after each proven step, and records why a run stopped.
 */
#include "config.h"

#include "flow/flow.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/backup.h"
#include "core/afile.h"
#include "core/xmalloc.h"
#include "flasher/flasher.h"
#include "flow/flow_int.h"
#include "profile/profile.h"

const struct flow_def *const flow_table[] = {
	&flow_def_backup, &flow_def_flash, &flow_def_restore, &flow_def_erase, NULL,
};

const struct flow_def *
flow_find(const char *name)
{
	for (size_t i = 0; flow_table[i] != NULL; i++)
		if (strcmp(flow_table[i]->name, name) == 0)
			return flow_table[i];
	return NULL;
}

const char *
flow_name(const struct flow_def *d)
{
	return d->name;
}

size_t
flow_nsteps(const struct flow_def *d)
{
	return d->nsteps;
}

const char *
flow_step_name(const struct flow_def *d, size_t i)
{
	return i < d->nsteps ? d->steps[i].name : "";
}

void
flow_say(struct flow_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(c->o.out, fmt, ap);
	va_end(ap);
	fputc('\n', c->o.out);
	fflush(c->o.out);
}

int
flow_ask(struct flow_ctx *c, const char *question, const char *detail, int risky,
    int flag_given, const char *flag)
{
	char line[32];

	if (detail != NULL)
		flow_say(c, "  %s", detail);
	if (flag_given) {
		flow_say(c, "%s yes (%s)", question, flag);
		return 1;
	}
	if (c->o.yes && !risky) {
		flow_say(c, "%s yes (--yes)", question);
		return 1;
	}
	if (c->o.ask_cb != NULL) {
		int yes = c->o.ask_cb(c->o.cb_arg, question, detail, risky, flag);

		flow_say(c, "%s %s", question, yes ? "yes" : "no");
		return yes;
	}
	if (!isatty(STDIN_FILENO)) {
		flow_say(c, "%s no answer: not a terminal; give %s to answer yes%s", question, flag,
		    risky ? " (--yes does not answer this one)" : "");
		return 0;
	}
	/* A risky answer is typed out, as in the TUI: a stray "y" must not cost the only backup. */
	fprintf(c->o.out, risky ? "%s Type yes to go on: " : "%s [y/N] ", question);
	fflush(c->o.out);
	if (fgets(line, sizeof line, stdin) == NULL) {
		fputc('\n', c->o.out);
		return 0;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (risky) {
		if (strcmp(line, "yes") == 0)
			return 1;
		flow_say(c, "  not confirmed (only a typed \"yes\" is)");
		return 0;
	}
	return line[0] == 'y' || line[0] == 'Y';
}

/* A test hook: ESPDESK_FLOW_TEST_EXIT=STEP makes the process die (as a crash or a closed SSH
 * session would) when STEP starts, after the journal recorded everything before it. */
static void
test_exit(const char *step)
{
	const char *e = getenv("ESPDESK_FLOW_TEST_EXIT");

	if (e != NULL && strcmp(e, step) == 0)
		_exit(99);
}

static void
ctx_free(struct flow_ctx *c)
{
	if (c->f != NULL) {
		char *why = NULL;

		/* Back to the ROM loader if the line still works; a pulled cable just fails. After a
		 * Ctrl-C the cancel flag is cleared first so this last exchange can run. */
		if (c->o.cancel != NULL)
			atomic_store(c->o.cancel, false);
		if (flasher_finish(c->f, &why) != RC_OK)
			free(why);
		flasher_close(c->f);
	}
	profile_set_free(c->ps);
	free(c->dump);
	free(c->img);
}

static void
step_state(struct flow_ctx *c, size_t i, enum flow_step_state st)
{
	if (c->o.step_cb != NULL)
		c->o.step_cb(c->o.cb_arg, i, c->def->nsteps, c->def->steps[i].name, st);
}

static int
run(struct flow_ctx *c, char **cause)
{
	const struct flow_def *d = c->def;
	char *why = NULL;
	int rc = RC_OK;

	flow_say(c, "== %s%s ==", d->title, c->resuming ? " (resumed)" : "");
	for (size_t i = 0; i < d->nsteps; i++) {
		const struct flow_step *s = &d->steps[i];

		if ((c->j.done & (1u << i)) && !(s->flags & FLOW_S_AGAIN)) {
			if (c->j.skipped & (1u << i))
				flow_say(c, "[%zu/%zu] %s: skipped earlier", i + 1, d->nsteps,
				    s->name);
			else
				flow_say(c, "[%zu/%zu] %s: proven earlier (%s)", i + 1, d->nsteps,
				    s->name, s->proves);
			step_state(c, i, FLOW_STEP_DONE);
			continue;
		}
		test_exit(s->name);
		flow_say(c, "[%zu/%zu] %s: %s", i + 1, d->nsteps, s->name, s->does);
		step_state(c, i, FLOW_STEP_RUNNING);
		c->skipped = 0;
		rc = s->run(c, &why);
		if (rc != RC_OK) {
			char *w = NULL;

			step_state(c, i, FLOW_STEP_FAILED);
			snprintf(c->j.failed, sizeof c->j.failed, "step %s: %s", s->name,
			    why ? why : rc_str(rc));
			if (flow_journal_save(&c->j, &w) != RC_OK)
				free(w);
			*cause = xfmt("%s step failed: %s%s", s->name, why ? why : rc_str(rc),
			    rc == RC_ERR_GONE || rc == RC_ERR_TIMEOUT ? "; reconnect and run "
			    "`espdesk flow resume`" : rc == RC_ERR_CANCEL ? "; `espdesk flow resume` "
			    "continues it" : "");
			free(why);
			return rc;
		}
		/* A skipped step is not failed either; it is passed, but must not claim its proof. */
		if (c->skipped)
			flow_say(c, "[%zu/%zu] %s: skipped", i + 1, d->nsteps, s->name);
		else
			flow_say(c, "[%zu/%zu] %s: ok: %s", i + 1, d->nsteps, s->name, s->proves);
		step_state(c, i, FLOW_STEP_DONE);
		c->j.done |= 1u << i;
		if (c->skipped)
			c->j.skipped |= 1u << i;
		else
			c->j.skipped &= ~(1u << i);
		c->j.failed[0] = '\0';
		if ((rc = flow_journal_save(&c->j, cause)) != RC_OK)
			return rc;
	}
	c->j.finished = 1;
	if ((rc = flow_journal_save(&c->j, cause)) != RC_OK)
		return rc;
	flow_say(c, "== %s: done ==", d->title);
	return RC_OK;
}

/* The firmware file, before anything runs: a missing file or a .bin.gz should not be found out
 * after a whole backup. The full check (size, header) is the check-image step's. */
static int
precheck_file(const char *path, char **cause)
{
	uint8_t *data = NULL;
	size_t len;
	char *why = NULL;
	int rc;

	if ((rc = afile_read(path, 16u << 20, &data, &len, &why)) != RC_OK) {
		*cause = xfmt("%s; nothing was done", why);
		free(why);
		return rc;
	}
	if (len == 0)
		*cause = xfmt("%s is empty; nothing was done", path);
	else if (flasher_plan_check_boot(0, data, len, path, &why) != RC_OK) {
		*cause = xfmt("%s; nothing was done", why);
		free(why);
	}
	free(data);
	return *cause != NULL ? RC_ERR_FORMAT : RC_OK;
}

static int
journal_unfinished(void)
{
	struct flow_journal j;
	char *cause = NULL;
	int rc = flow_journal_load(&j, &cause);

	free(cause);
	return rc == RC_OK && !j.finished;
}

int
flow_start(const struct flow_opts *o, char **cause)
{
	struct flow_ctx c;
	int rc;

	*cause = NULL;
	memset(&c, 0, sizeof c);
	c.o = *o;
	if (c.o.out == NULL)
		c.o.out = stdout;
	if ((c.def = flow_find(o->flow)) == NULL) {
		*cause = xfmt("no flow named '%s'", o->flow);
		return RC_ERR_ARG;
	}
	if (o->port == NULL) {
		*cause = xstrdup("no port given; use -p PORT (`espdesk list-ports` shows them)");
		return RC_ERR_ARG;
	}
	if (o->file != NULL && (rc = precheck_file(o->file, cause)) != RC_OK)
		return rc;
	if (journal_unfinished()) {
		*cause = xstrdup("an earlier flow did not finish; run `espdesk flow status` to see "
		    "it, `espdesk flow resume` to continue it or `espdesk flow abort` to forget it");
		return RC_ERR_BUSY;
	}
	snprintf(c.j.flow, sizeof c.j.flow, "%s", o->flow);
	snprintf(c.j.port, sizeof c.j.port, "%s", o->port);
	if (o->file != NULL) {
		char *abs = realpath(o->file, NULL);

		snprintf(c.j.file, sizeof c.j.file, "%s", abs ? abs : o->file);
		free(abs);
	}
	if (o->backup != NULL)
		snprintf(c.j.backup, sizeof c.j.backup, "%s", o->backup);
	if (o->profile != NULL && (rc = flow_profile_load(&c, o->profile, cause)) != RC_OK) {
		ctx_free(&c);
		return rc;
	}
	c.j.manual = o->manual;
	c.j.no_backup = o->no_backup;
	c.j.other_unit = o->other_unit;
	c.j.relayout = o->relayout;
	if ((rc = flow_journal_save(&c.j, cause)) != RC_OK)
		return rc;
	rc = run(&c, cause);
	ctx_free(&c);
	return rc;
}

int
flow_resume(const struct flow_opts *o, char **cause)
{
	struct flow_ctx c;
	int rc;

	*cause = NULL;
	memset(&c, 0, sizeof c);
	if ((rc = flow_journal_load(&c.j, cause)) != RC_OK)
		return rc;
	if (c.j.finished) {
		*cause = xfmt("the last flow (%s) finished; there is nothing to resume", c.j.flow);
		return RC_ERR_ARG;
	}
	c.def = flow_find(c.j.flow);
	c.o = *o;
	if (c.o.out == NULL)
		c.o.out = stdout;
	c.o.flow = c.j.flow;
	if (o->port != NULL)
		snprintf(c.j.port, sizeof c.j.port, "%s", o->port);
	c.o.port = c.j.port;
	c.o.file = c.j.file[0] ? c.j.file : NULL;
	c.o.backup = c.j.backup;
	c.o.manual = o->manual || c.j.manual;
	if (o->profile != NULL)
		snprintf(c.j.profile, sizeof c.j.profile, "%s", o->profile);
	c.o.profile = c.j.profile[0] ? c.j.profile : NULL;
	if (c.o.profile != NULL && (rc = flow_profile_load(&c, c.o.profile, cause)) != RC_OK) {
		ctx_free(&c);
		return rc;
	}
	c.o.no_backup = c.j.no_backup;
	c.o.other_unit = c.j.other_unit;
	c.o.relayout = c.j.relayout;
	c.resuming = 1;
	c.have_backup = c.j.backup[0] != '\0' && strcmp(c.j.flow, "restore") != 0;
	rc = run(&c, cause);
	ctx_free(&c);
	return rc;
}

int
flow_status(FILE *out, char **cause)
{
	struct flow_journal j;
	const struct flow_def *d;
	int rc = flow_journal_load(&j, cause);

	if (rc != RC_OK)
		return rc;
	d = flow_find(j.flow);
	fprintf(out, "flow:   %s (%s)\n", d->title, j.finished ? "finished" : "not finished");
	fprintf(out, "port:   %s\n", j.port);
	if (j.file[0])
		fprintf(out, "file:   %s\n", j.file);
	if (j.backup[0])
		fprintf(out, "backup: %s\n", j.backup);
	if (j.have_device)
		fprintf(out, "device: chip id 0x%08x, MAC %02x:%02x:%02x:%02x:%02x:%02x\n",
		    (unsigned)j.chip_id, j.mac[0], j.mac[1], j.mac[2], j.mac[3], j.mac[4], j.mac[5]);
	if (j.profile[0])
		fprintf(out, "board:  %s (profile named by the user)\n", j.profile);
	if (j.manual)
		fprintf(out, "reset:  by hand (the board has no auto-reset)\n");
	for (size_t i = 0; i < d->nsteps; i++) {
		const struct flow_step *s = &d->steps[i];
		int proven = (j.done & (1u << i)) != 0, skipped = (j.skipped & (1u << i)) != 0;

		fprintf(out, "  [%s] %-13s %s\n", skipped ? "skip" : proven ?
		    (s->flags & FLOW_S_AGAIN ? "redo" : "done") : "    ", s->name,
		    skipped ? "skipped: nothing proven" : proven ? s->proves : s->does);
	}
	if (j.failed[0])
		fprintf(out, "stopped: %s\n", j.failed);
	if (!j.finished)
		fprintf(out, "next: `espdesk flow resume` (or `espdesk flow abort`)\n");
	return RC_OK;
}

int
flow_abort(char **cause)
{
	char *path = flow_journal_path();
	int rc = RC_OK;

	*cause = NULL;
	if (unlink(path) != 0) {
		*cause = xfmt("no flow to abort (%s: %s)", path, strerror(errno));
		rc = RC_ERR_ARG;
	}
	free(path);
	return rc;
}
