/*
 * test_profile_cli.c: runs the built `espdesk profiles` and checks what a person sees: exit
 * codes, the 80-column table, the precedence marks, --json lines, and the messages. Expected
 * values come from tests/data/profiles (positions counted by hand) and devices.md.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tap.h"

static char out[1 << 18];

/* Runs `espdesk ARGS` with ESPDESK_PROFILE_PATH=path; stdout+stderr into out. Returns exit code. */
static int
run(const char *path, const char *args)
{
	char cmd[32768];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof cmd, "ESPDESK_PROFILE_PATH='%s' '%s/espdesk' %s 2>&1", path,
	    ESPDESK_BUILDDIR, args);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* t_data() returns one static buffer; keep a second path in a copy. */
static const char *
data2(const char *rel)
{
	static char buf[4096];

	snprintf(buf, sizeof buf, "%s", t_data(rel));
	return buf;
}

static const char *
shipped(void)
{
	return ESPDESK_SRCDIR "/profiles";
}

static void
test_check_shipped(void)
{
	T_EQ_INT(run(shipped(), "profiles check"), 0);
	T_CONTAINS(out, "profiles loaded from the search path, 0 errors");
}

static void
test_check_files(void)
{
	char args[16384];

	const char *bad = data2("profiles/bad/enum.yaml");  /* in order: t_data() reuses its buffer */

	snprintf(args, sizeof args, "profiles check '%s' '%s'", bad, t_data("profiles/good/min.yaml"));
	T_EQ_INT(run(shipped(), args), 1);
	T_CONTAINS(out, "bad/enum.yaml:4:7: 'chip' is 'esp32'; allowed values: esp8266, esp8285, esp8266-or-esp8285, not-esp8266");
	T_CONTAINS(out, "good/min.yaml: ok (profile 'test-min')");
	T_CONTAINS(out, "3 errors");
	snprintf(args, sizeof args, "profiles check '%s'", t_data("profiles/good/full.yaml"));
	T_EQ_INT(run(shipped(), args), 0);
	/* The file being checked reuses an alias of a profile on the path: it is the one blamed. */
	snprintf(args, sizeof args, "profiles check '%s' --json", data2("profiles/dup/c.yaml"));
	T_EQ_INT(run(t_data("profiles/dup"), args), 1);
	T_CONTAINS(out, "{\"error\":\"");
	T_CONTAINS(out, "dup/c.yaml:2:11: alias 'dup-alias' is already an alias of profile 'dup-one'");
	T_TRUE(strstr(out, "b.yaml") == NULL);  /* problems of other files are not this check's */
	T_EQ_INT(run(shipped(), "profiles check /nonexistent/my-board.txt"), 1);
	T_CONTAINS(out, "/nonexistent/my-board.txt: cannot open: No such file or directory");
}

static void
test_list_table(void)
{
	char path[8192];
	int lines = 0, longest = 0, cur = 0;

	T_EQ_INT(run(shipped(), "profiles"), 0);
	for (const char *s = out; *s != '\0'; s++) {
		if (*s == '\n') {
			lines++;
			if (cur > longest)
				longest = cur;
			cur = 0;
		} else if (((unsigned char)*s & 0xc0) != 0x80)
			cur++;
	}
	T_TRUE(lines > 60);
	T_CHECK_(longest <= 80, "longest line is %d columns", longest);
	T_CONTAINS(out, "MAINS! hold button while powering");   /* pow, pow-r2: devices.md rows 8, 9 */
	T_CONTAINS(out, "LOCKED: nobody can flash it");         /* MINI R4M, MINI-DIM */
	/* Two directories: the first one's profiles are marked 1 and win by name. */
	const char *high = data2("profiles/override/high");

	snprintf(path, sizeof path, "%s:%s", high, t_data("profiles/override/low"));
	T_EQ_INT(run(path, "profiles"), 0);
	T_CONTAINS(out, "1 ovr ");
	T_CONTAINS(out, "2 low-only ");
	T_CONTAINS(out, "clash.yaml:2:11: alias 'lo' is already an alias of profile 'low-only'");
	T_EQ_INT(run(path, "profiles show OVR"), 0);
	T_CONTAINS(out, "override/high/ovr.yaml");
	T_CONTAINS(out, "overrides:");
	T_CONTAINS(out, "override/low/ovr.yaml");
}

static void
test_list_json(void)
{
	int objs = 0;
	char *save = NULL;

	T_EQ_INT(run(shipped(), "profiles --json"), 0);
	for (char *l = strtok_r(out, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(l);

		T_CHECK_(n > 2 && l[0] == '{' && l[n - 1] == '}', "not a JSON object line: %s", l);
		objs++;
	}
	T_TRUE(objs >= 50);
	T_EQ_INT(run(shipped(), "profiles show pow-r2 --json"), 0);
	T_CONTAINS(out, "\"chip\":\"esp8266-or-esp8285\"");
	T_CONTAINS(out, "\"mains_live_ground\":true");
	T_CONTAINS(out, "\"flash_sizes\":[4194304]");
}

static void
test_show(void)
{
	T_EQ_INT(run(shipped(), "profiles show 'Basic R4'"), 0);
	T_CONTAINS(out, "the Sonoff Basic R4 is an ESP32-C3: espdesk cannot flash it");
	T_EQ_INT(run(shipped(), "profiles show POW"), 0);
	T_CONTAINS(out, "!! DANGER: the board's ground is tied to mains live.");
	T_EQ_INT(run(shipped(), "profiles show pow-r5"), 1);
	T_CONTAINS(out, "no profile named 'pow-r5' (did you mean 'pow'");
	T_EQ_INT(run(shipped(), "profiles show"), 2);
}

static void
test_match(void)
{
	/* devices.md §5c: 0x51/0x4014 on ESP8285 Basics and the 4CH Pro. */
	T_EQ_INT(run(shipped(), "profiles match --chip esp8285 --flash-id 0x514014 --size 1MB"), 0);
	T_CONTAINS(out, "100  basic-r2");
	T_CONTAINS(out, "100  4ch-pro");
	T_TRUE(strstr(out, " pow ") == NULL);
	/* esptool's "Manufacturer: ef, Device: 4016" against the 1 MB Basic. */
	T_EQ_INT(run(shipped(), "profiles match --chip esp8266 --flash-id ef/4016 --profile basic"), 1);
	T_CONTAINS(out, "basic: profile says 1 MB, chip reports 4 MB (0xEF4016 Winbond W25Q32)");
	/* protocol.md §9.2: W0 = 0x001640EF is the same chip. */
	T_EQ_INT(run(shipped(), "profiles match --chip esp8266 --flash-id-le 0x1640EF --profile pow"), 0);
	T_CONTAINS(out, "pow: consistent with the detected hardware");
	T_EQ_INT(run(shipped(), "profiles match"), 2);
	T_EQ_INT(run(shipped(), "profiles match --chip esp32"), 2);
	T_EQ_INT(run(shipped(), "profiles match --size 3MB"), 2);
	T_EQ_INT(run(shipped(), "profiles match --flash-id 0xFFFFFF"), 2);
	T_CONTAINS(out, "did not answer");
}

int
main(void)
{
	char exe[4096];
	FILE *f;

	snprintf(exe, sizeof exe, "%s/espdesk", ESPDESK_BUILDDIR);
	if ((f = fopen(exe, "r")) == NULL) {
		t_skip("profiles_cli", "the espdesk program is not built");
		return t_done();
	}
	fclose(f);
	T_RUN(test_check_shipped);
	T_RUN(test_check_files);
	T_RUN(test_list_table);
	T_RUN(test_list_json);
	T_RUN(test_show);
	T_RUN(test_match);
	return t_done();
}
