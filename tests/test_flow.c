/*
 * test_flow.c: the flow definitions and the journal without a device: every flow's steps have
 * text and a runner, the journal written by hand (tests/data/fuzz/flow/flash.journal) reads
 * back field by field, damaged journals are refused with file:line, and what is formatted
 * reads back the same. The flows themselves run against espdesk-sim in tests/flow/test_flow.sh.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/afile.h"
#include "flow/flow.h"
#include "flow/flow_int.h"
#include "tap.h"

static void
test_table(void)
{
	static const char *const names[] = { "backup", "flash", "restore", "erase" };

	for (size_t i = 0; i < 4; i++) {
		const struct flow_def *d = flow_find(names[i]);

		T_TRUE(d != NULL);
		if (d == NULL)
			continue;
		T_EQ_STR(flow_name(d), names[i]);
		T_TRUE(d->nsteps > 0 && d->nsteps <= FLOW_MAX_STEPS);
		for (size_t k = 0; k < d->nsteps; k++)
			T_TRUE(d->steps[k].name && d->steps[k].does && d->steps[k].proves &&
			    d->steps[k].run);
		/* Every flow starts by connecting and identifying the device. */
		T_EQ_STR(d->steps[0].name, "connect");
		T_EQ_STR(d->steps[1].name, "identify");
	}
	T_TRUE(flow_find("format") == NULL);
	/* Flash and erase check for a backup before anything is written or erased. */
	T_EQ_STR(flow_def_flash.steps[2].name, "need-backup");
	T_EQ_STR(flow_def_erase.steps[2].name, "need-backup");
	T_EQ_STR(flow_def_erase.steps[3].name, "erase");
}

static void
test_journal_by_hand(void)
{
	struct flow_journal j;
	uint8_t *buf = NULL;
	size_t len;
	char *cause = NULL;
	static const uint8_t mac[6] = { 0x18, 0xfe, 0x34, 0xa1, 0xb2, 0xc3 };

	T_EQ_INT(afile_read(t_data("fuzz/flow/flash.journal"), 8192, &buf, &len, &cause), RC_OK);
	T_EQ_INT(flow_journal_parse("flash.journal", buf, len, &j, &cause), RC_OK);
	T_EQ_STR(j.flow, "flash");
	T_EQ_STR(j.port, "/dev/ttyUSB0");
	T_EQ_STR(j.file, "/home/user/tasmota.bin");
	T_EQ_STR(j.backup, "00a1b2c3-18fe34a1b2c3/20261130T084405Z");
	T_EQ_HEX(j.chip_id, 0x00a1b2c3u);
	T_EQ_MEM(j.mac, mac, 6);
	T_EQ_INT((int)j.done, 63);
	T_EQ_INT(j.finished, 0);
	T_EQ_INT(j.manual, 1);
	T_EQ_STR(j.failed, "step write: /dev/ttyUSB0 went away");
	free(buf);
}

static void
bad(const char *text, const char *expect)
{
	struct flow_journal j;
	char *cause = NULL;

	T_EQ_INT(flow_journal_parse("j", (const uint8_t *)text, strlen(text), &j, &cause),
	    RC_ERR_FORMAT);
	T_CONTAINS(cause, expect);
	free(cause);
}

static void
test_journal_damaged(void)
{
	bad("flow flash\ndone 65536\n", "j:2: bad value for 'done'");
	bad("flow flash\nmac 18:fe:34:a1:b2\n", "j:2: bad value for 'mac'");
	bad("flow flash\nspeed 3\n", "j:2: unknown key 'speed'");
	bad("flow flash\nfinished\n", "j:2: expected 'key value'");
	bad("flow format\n", "no known flow");
	bad("", "no known flow");
	bad("flow flash\nmanual 2\n", "j:2: bad value for 'manual'");
	bad("flow flash\nskipped 65536\n", "j:2: bad value for 'skipped'");
}

static void
test_journal_round_trip(void)
{
	struct flow_journal j, r;
	char *text, *cause = NULL;

	memset(&j, 0, sizeof j);
	snprintf(j.flow, sizeof j.flow, "restore");
	snprintf(j.port, sizeof j.port, "rfc2217://localhost:4000");
	snprintf(j.failed, sizeof j.failed, "two\nlines");
	j.have_device = 1;
	j.chip_id = 0x42;
	j.done = 0x15;
	j.skipped = 0x10;
	j.other_unit = 1;
	snprintf(j.profile, sizeof j.profile, "basic-r2");
	text = flow_journal_format(&j);
	T_EQ_INT(flow_journal_parse("rt", (uint8_t *)text, strlen(text), &r, &cause), RC_OK);
	T_EQ_STR(r.flow, "restore");
	T_EQ_STR(r.port, "rfc2217://localhost:4000");
	T_EQ_STR(r.failed, "two lines");
	T_EQ_INT((int)r.done, 0x15);
	T_EQ_INT((int)r.skipped, 0x10);
	T_EQ_STR(r.profile, "basic-r2");
	T_EQ_INT(r.other_unit, 1);
	T_EQ_HEX(r.chip_id, 0x42u);
	free(text);
}

int
main(void)
{
	T_RUN(test_table);
	T_RUN(test_journal_by_hand);
	T_RUN(test_journal_damaged);
	T_RUN(test_journal_round_trip);
	return t_done();
}
