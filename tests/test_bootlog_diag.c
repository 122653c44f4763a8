/*
 * The diagnosis: every real log in tests/data/bootlogs gets the cause its INDEX.md gives (the
 * first listed preferred, any listed accepted), and so does every log in bootlogs/extra, written
 * by hand from the reference tables (not from the real logs) to check that the rules generalise.
 * Then the facts API (profile and image header), the reset history and the vocabulary.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bootlog/bootlog.h"
#include "bootlog/bootlog_diag.h"
#include "tap.h"

struct run {
	struct bootlog_diag d;
	int64_t now;      /* fake arrival time, -1 for none */
	int64_t step;     /* ms added per line */
};

static void
run_cb(void *arg, const struct bootlog_event *ev)
{
	struct run *r = arg;

	bootlog_diag_event(&r->d, ev, r->now);
	if (r->now >= 0)
		r->now += r->step;
}

/* Decodes a file under tests/data; returns 0 if it cannot be read. */
static int
diag_file(const char *rel, struct run *r)
{
	static uint8_t data[65536];
	struct bootlog b;
	FILE *f = fopen(t_data(rel), "rb");
	size_t n;

	memset(r, 0, sizeof *r);
	r->now = -1;
	bootlog_diag_init(&r->d);
	if (f == NULL)
		return 0;
	n = fread(data, 1, sizeof data, f);
	fclose(f);
	bootlog_init(&b, run_cb, r);
	bootlog_feed(&b, data, n);
	bootlog_flush(&b);
	return 1;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Checks every row of an index file: "| file.log | cause | ..." where the cause cell may list
 * alternatives as "a|b" (which splits into cells; every following cell that is a cause word
 * belongs to it). Returns the number of logs checked.
 */
static int
check_index(const char *dir, const char *index, int *first_hits)
{
	char rel[512], line[4096];
	FILE *f;
	int checked = 0;

	snprintf(rel, sizeof rel, "%s/%s", dir, index);
	f = fopen(t_data(rel), "r");
	T_CHECK_(f != NULL, "cannot open %s", rel);
	if (f == NULL)
		return 0;
	*first_hits = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		char *cells[16], *p = line, *file;
		enum bootlog_cause accepted[4];
		int ncells = 0, nacc = 0, ok = 0;
		struct bootlog_verdict v;
		static struct run r;

		if (line[0] != '|')
			continue;
		while (ncells < 16 && (p = strchr(p, '|')) != NULL) {
			*p++ = '\0';
			cells[ncells++] = p;
		}
		if (ncells < 3)
			continue;
		for (int i = 0; i < ncells; i++) {
			char *bar = strchr(cells[i], '|');

			if (bar != NULL)
				*bar = '\0';
		}
		file = trim(cells[0]);
		if (strstr(file, ".log") == NULL)
			continue;
		for (int i = 1; i < ncells && nacc < 4; i++) {
			enum bootlog_cause c = bootlog_cause_from_name(trim(cells[i]));

			if (c == BL_CAUSE_NONE)
				break;
			accepted[nacc++] = c;
		}
		T_CHECK_(nacc > 0, "%s: no cause in the index", file);
		snprintf(rel, sizeof rel, "%s/%s", dir, file);
		T_CHECK_(diag_file(rel, &r), "cannot read %s", rel);
		bootlog_diag_verdict(&r.d, NULL, &v);
		for (int i = 0; i < nacc; i++)
			ok |= v.cause == accepted[i];
		T_CHECK_(ok, "%s: diagnosed %s, index says %s", file, bootlog_cause_name(v.cause),
		    nacc ? bootlog_cause_name(accepted[0]) : "?");
		if (nacc > 0 && v.cause == accepted[0])
			(*first_hits)++;
		else
			printf("# %s: %s is accepted, but the index prefers %s\n", file,
			    bootlog_cause_name(v.cause), bootlog_cause_name(accepted[0]));
		/* The verdict proves itself: evidence lines, a reason and advice. */
		T_CHECK_(v.nevidence > 0, "%s: no evidence", file);
		T_CHECK_(v.summary[0] != '\0', "%s: no summary", file);
		T_CHECK_(v.advice != NULL && v.advice[0] != '\0', "%s: no advice", file);
		T_CHECK_(v.confidence > 0 && v.confidence <= 1, "%s: confidence %f", file, v.confidence);
		if (v.alt != BL_CAUSE_NONE)
			T_CHECK_(v.check != NULL || v.cause == BL_CAUSE_HEALTHY ||
			    v.cause == BL_CAUSE_HW_WATCHDOG || v.cause == BL_CAUSE_EXCEPTION ||
			    v.cause == BL_CAUSE_FLASH_SIZE_MISMATCH,
			    "%s: two causes remain but nothing says what to check", file);
		checked++;
	}
	fclose(f);
	return checked;
}

static void
test_real_logs_match_index(void)
{
	int first = 0, n = check_index("bootlogs", "INDEX.md", &first);

	T_EQ_INT(n, 17);
	printf("# %d of %d real logs got the index's preferred cause\n", first, n);
	T_EQ_INT(first, n);
}

static void
test_handwritten_logs_match_expected(void)
{
	int first = 0, n = check_index("bootlogs/extra", "EXPECTED.md", &first);

	T_EQ_INT(n, 16);
	printf("# %d of %d hand-written logs got the preferred cause\n", first, n);
}

/* Evidence must be the lines that prove the cause, not just any lines. */
static void
test_evidence_lines(void)
{
	static struct run r;
	struct bootlog_verdict v;
	int magic = 0, jump = 0;

	T_TRUE(diag_file("bootlogs/27-boot17-user2-81000-error-magic.log", &r));
	bootlog_diag_verdict(&r.d, NULL, &v);
	for (size_t i = 0; i < v.nevidence; i++) {
		if (memcmp(v.evidence[i].text, "error magic!", 12) == 0)
			magic = 1;
		if (v.evidence[i].len >= 24 && memcmp(v.evidence[i].text, "jump to run user2 @ 81000", 24) == 0)
			jump = 1;
	}
	T_TRUE(magic);
	T_TRUE(jump);
	for (size_t i = 1; i < v.nevidence; i++)
		T_TRUE(v.evidence[i - 1].lineno < v.evidence[i].lineno);

	T_TRUE(diag_file("bootlogs/32-exception28-uninitialized-pointer-io_ctx.log", &r));
	bootlog_diag_verdict(&r.d, NULL, &v);
	T_CONTAINS(v.summary, "LoadProhibitedCause");
	T_CONTAINS(v.summary, "flash-mapped code");
}

/* A DIO header on a DOUT-only ESP8285 (issue 5's first example). */
static void
test_facts_flash_mode(void)
{
	static struct run r;
	struct bootlog_facts f;
	struct bootlog_verdict v;

	T_TRUE(diag_file("bootlogs/extra/x09-header-unreadable.log", &r));
	bootlog_facts_init(&f);
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.alt, BL_CAUSE_IMAGE_CORRUPT); /* undecided without facts */

	f.chip = BL_CHIP_ESP8285;
	f.hdr_mode = 2; /* DIO */
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_FLASH_MODE_MISMATCH);
	T_EQ_INT(v.alt, BL_CAUSE_NONE);
	T_TRUE(v.confidence >= 0.9);

	/* DOUT fits the ESP8285: then the image itself is bad. */
	f.hdr_mode = 3;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_IMAGE_CORRUPT);

	/* A board whose flash does DIO, with a QIO header: mismatch; with a DIO header: fits. */
	f.chip = BL_CHIP_ESP8266;
	f.flash_mode = 2;
	f.hdr_mode = 0;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_FLASH_MODE_MISMATCH);
	f.hdr_mode = 2;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_IMAGE_CORRUPT);

	/* The real csum-err log (file 19) with the facts its thread established: QIO build on a
	 * module that cannot do QIO. */
	T_TRUE(diag_file("bootlogs/19-csum-err-qio-arduino164-esp07.log", &r));
	bootlog_facts_init(&f);
	f.flash_mode = 2;
	f.hdr_mode = 0;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_FLASH_MODE_MISMATCH);
	T_EQ_INT(v.alt, BL_CAUSE_NONE);
}

/* A 4 MB header on a 1 MB chip (issue 5's second example; protocol.md §13.3). */
static void
test_facts_flash_size(void)
{
	static struct run r;
	struct bootlog_facts f;
	struct bootlog_verdict v;

	/* error magic after jumping to user2: normally an empty OTA slot ... */
	T_TRUE(diag_file("bootlogs/27-boot17-user2-81000-error-magic.log", &r));
	bootlog_facts_init(&f);
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_OTA_SLOT_INVALID);
	/* ... but with a 4 MB header on a 1 MB chip the selection comes from beyond the flash. */
	f.flash_size = 1u << 20;
	f.hdr_size = 4u << 20;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_FLASH_SIZE_MISMATCH);
	T_EQ_INT(v.alt, BL_CAUSE_OTA_SLOT_INVALID);
	/* A header that fits changes nothing. */
	f.hdr_size = 1u << 20;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_OTA_SLOT_INVALID);

	/* rf_cal 0xFF on its own is missing init data; with an oversized header it is the size. */
	T_TRUE(diag_file("bootlogs/22-rf-cal-0xff-missing-init-data.log", &r));
	bootlog_facts_init(&f);
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_RF_INIT_DATA);
	f.flash_size = 1u << 20;
	f.hdr_size = 4u << 20;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_FLASH_SIZE_MISMATCH);

	/* The size the 2nd stage prints counts as the header's when no header is given: file 02
	 * prints 32Mbit; on a 1 MB chip, with a crash, that is the suspect. A healthy boot stays
	 * healthy. */
	T_TRUE(diag_file("bootlogs/02-healthy-boot16-dio-user1-after-dio-fix.log", &r));
	bootlog_facts_init(&f);
	f.flash_size = 1u << 20;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_HEALTHY);
}

/* A dump taken from another unit (issue 5's third example). */
static void
test_facts_foreign_dump(void)
{
	static struct run r;
	struct bootlog_facts f;
	struct bootlog_verdict v;

	/* File 25 alone reads as a flash size problem (its thread's answer) ... */
	T_TRUE(diag_file("bootlogs/25-flash-size-16mb-unsupported-system-param-error.log", &r));
	bootlog_facts_init(&f);
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_FLASH_SIZE_MISMATCH);
	/* ... but if the flash came from another unit and the header fits the chip, the foreign
	 * RF and parameter sectors are the first suspect. */
	f.foreign_dump = 1;
	f.flash_size = 4u << 20;
	f.hdr_size = 4u << 20;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_RF_INIT_DATA);
	T_EQ_INT(v.alt, BL_CAUSE_FLASH_SIZE_MISMATCH);
	/* A header larger than the chip still wins. */
	f.hdr_size = 16u << 20;
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_FLASH_SIZE_MISMATCH);
	/* A healthy boot stays healthy, whoever's dump it was. */
	T_TRUE(diag_file("bootlogs/01-healthy-at-stock-boot15-user1-1000.log", &r));
	bootlog_diag_verdict(&r.d, &f, &v);
	T_EQ_INT(v.cause, BL_CAUSE_HEALTHY);
}

static void
feed_lines(struct run *r, const char *text)
{
	struct bootlog b;

	bootlog_init(&b, run_cb, r);
	bootlog_feed(&b, text, strlen(text));
	bootlog_flush(&b);
}

/* The history: reset count, interval and the loop detector, with arrival times. */
static void
test_history_and_loop(void)
{
	static struct run r;
	struct bootlog_verdict v;
	static const char boot[] =
	    " ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n"
	    "load 0x40100000, len 26420, room 16 \r\ntail 4\r\nchksum 0xea\r\ncsum 0xea\r\n"
	    "rf_cal[0] !=0x05,is 0xFF\r\n";

	memset(&r, 0, sizeof r);
	bootlog_diag_init(&r.d);
	r.now = 1000;
	r.step = 100; /* 6 lines per boot: one boot every 600 ms */
	for (int i = 0; i < 5; i++)
		feed_lines(&r, boot);
	bootlog_diag_verdict(&r.d, NULL, &v);
	T_EQ_INT(v.cause, BL_CAUSE_RF_INIT_DATA);
	T_EQ_INT(v.boots, 5);
	T_TRUE(v.loop);
	T_EQ_INT(v.interval_ms, 600);

	/* One boot, no times: no loop, no interval. */
	memset(&r, 0, sizeof r);
	bootlog_diag_init(&r.d);
	r.now = -1;
	feed_lines(&r, boot);
	bootlog_diag_verdict(&r.d, NULL, &v);
	T_EQ_INT(v.boots, 1);
	T_FALSE(v.loop);
	T_EQ_INT(v.interval_ms, -1);
}

/* The straps of the last boot decide: a board flashed in download mode, then reset normally. */
static void
test_last_boot_decides_straps(void)
{
	static struct run r;
	struct bootlog_verdict v;

	memset(&r, 0, sizeof r);
	bootlog_diag_init(&r.d);
	r.now = -1;
	feed_lines(&r, " ets Jan  8 2013,rst cause:2, boot mode:(1,7)\r\n\r\n"
	    " ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n"
	    "load 0x4010f000, len 3584, room 16 \r\ntail 0\r\nchksum 0xb0\r\ncsum 0xb0\r\n"
	    "v2843a5ac\r\n~ld\r\nHello from the sketch\r\n");
	bootlog_diag_verdict(&r.d, NULL, &v);
	T_EQ_INT(v.cause, BL_CAUSE_HEALTHY);
	T_EQ_INT(v.boots, 2);
}

static void
test_empty_log(void)
{
	static struct run r;
	struct bootlog_verdict v;

	memset(&r, 0, sizeof r);
	bootlog_diag_init(&r.d);
	bootlog_diag_verdict(&r.d, NULL, &v);
	/* bootlog.md §1: no banner at all means power, EN or wiring (or the baud). */
	T_EQ_INT(v.cause, BL_CAUSE_POWER_SUPPLY);
	T_EQ_INT(v.alt, BL_CAUSE_WRONG_BAUD);
	T_TRUE(v.check != NULL);
	T_EQ_INT(v.boots, 0);
}

static void
test_vocabulary(void)
{
	/* Issue 5: the exact words machine output uses. */
	static const char *const words[] = {
		"healthy", "download-mode", "sdio-mode", "strapping-error", "flash-mode-mismatch",
		"image-corrupt", "ota-slot-invalid", "rf-init-data", "flash-size-mismatch",
		"hw-watchdog", "soft-watchdog", "exception", "power-supply", "wrong-baud",
	};

	T_EQ_INT(BL_CAUSE_COUNT, 14);
	for (int i = 0; i < 14; i++) {
		int found = 0;

		for (int c = 0; c < BL_CAUSE_COUNT; c++)
			found |= strcmp(bootlog_cause_name((enum bootlog_cause)c), words[i]) == 0;
		T_CHECK_(found, "cause word %s missing", words[i]);
		T_TRUE(bootlog_cause_from_name(words[i]) != BL_CAUSE_NONE);
	}
	T_EQ_STR(bootlog_cause_name(BL_CAUSE_NONE), "none");
	T_EQ_INT(bootlog_cause_from_name("brownout"), BL_CAUSE_NONE);
}

int
main(void)
{
	T_RUN(test_real_logs_match_index);
	T_RUN(test_handwritten_logs_match_expected);
	T_RUN(test_evidence_lines);
	T_RUN(test_facts_flash_mode);
	T_RUN(test_facts_flash_size);
	T_RUN(test_facts_foreign_dump);
	T_RUN(test_history_and_loop);
	T_RUN(test_last_boot_decides_straps);
	T_RUN(test_empty_log);
	T_RUN(test_vocabulary);
	return t_done();
}
