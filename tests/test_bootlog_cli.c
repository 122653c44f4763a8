/*
 * `espdesk decode` as a user runs it: the JSON report is one valid JSON object (checked by a
 * strict RFC 8259 parser below, so control bytes and raw device bytes must come out escaped)
 * whose cause is the one INDEX.md gives; the text report ends in the diagnosis; a missing file
 * and a bad option fail with the documented exit codes and a message that says what to do.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "tap.h"

static char esp[4200];

/* Runs espdesk with argv (argv[0] ignored) and stdin from in_path (NULL: /dev/null); collects
 * stdout and stderr. Returns the exit status. */
static int
run(char *const argv[], const char *in_path, struct buf *out, struct buf *err)
{
	char tmpl_o[] = "/tmp/espdesk-decode-out-XXXXXX", tmpl_e[] = "/tmp/espdesk-decode-err-XXXXXX";
	int fo = mkstemp(tmpl_o), fe = mkstemp(tmpl_e), st = -1;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	if (fo < 0 || fe < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int in = open(in_path != NULL ? in_path : "/dev/null", O_RDONLY);

		dup2(in, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(esp, argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	lseek(fo, 0, SEEK_SET);
	lseek(fe, 0, SEEK_SET);
	while ((n = read(fo, buf, sizeof buf)) > 0)
		buf_add(out, buf, (size_t)n);
	while ((n = read(fe, buf, sizeof buf)) > 0)
		buf_add(err, buf, (size_t)n);
	buf_add_byte(out, 0);
	buf_add_byte(err, 0);
	close(fo);
	close(fe);
	unlink(tmpl_o);
	unlink(tmpl_e);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- a strict JSON checker (RFC 8259), enough to prove the output parses ---- */

struct js {
	const unsigned char *p;
	int depth;
};

static int js_value(struct js *j);

static void
js_ws(struct js *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int
js_string(struct js *j)
{
	if (*j->p != '"')
		return 0;
	j->p++;
	for (;;) {
		unsigned char c = *j->p++;

		if (c == '"')
			return 1;
		if (c < 0x20)
			return 0; /* raw control characters are not allowed in JSON strings */
		if (c == '\\') {
			c = *j->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++, j->p++)
					if (!((*j->p >= '0' && *j->p <= '9') || (*j->p >= 'a' && *j->p <= 'f') ||
					    (*j->p >= 'A' && *j->p <= 'F')))
						return 0;
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == 0)
				return 0;
		} else if (c >= 0x80) {
			/* Must be well-formed UTF-8. */
			int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;

			if (more < 0 || c > 0xf4)
				return 0;
			for (int i = 0; i < more; i++, j->p++)
				if ((*j->p & 0xc0) != 0x80)
					return 0;
		}
	}
}

static int
js_number(struct js *j)
{
	const unsigned char *s = j->p;

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return 0;
	if (*j->p == '.') {
		j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return 0;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static int
js_value(struct js *j)
{
	js_ws(j);
	if (++j->depth > 64)
		return 0;
	if (*j->p == '{') {
		j->p++;
		js_ws(j);
		if (*j->p == '}') {
			j->p++;
			j->depth--;
			return 1;
		}
		for (;;) {
			js_ws(j);
			if (!js_string(j))
				return 0;
			js_ws(j);
			if (*j->p++ != ':' || !js_value(j))
				return 0;
			js_ws(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p++ != '}')
				return 0;
			j->depth--;
			return 1;
		}
	}
	if (*j->p == '[') {
		j->p++;
		js_ws(j);
		if (*j->p == ']') {
			j->p++;
			j->depth--;
			return 1;
		}
		for (;;) {
			if (!js_value(j))
				return 0;
			js_ws(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p++ != ']')
				return 0;
			j->depth--;
			return 1;
		}
	}
	j->depth--;
	if (*j->p == '"')
		return js_string(j);
	if (strncmp((const char *)j->p, "true", 4) == 0 || strncmp((const char *)j->p, "null", 4) == 0) {
		j->p += 4;
		return 1;
	}
	if (strncmp((const char *)j->p, "false", 5) == 0) {
		j->p += 5;
		return 1;
	}
	return js_number(j);
}

/* The whole text is exactly one JSON value (plus trailing whitespace). */
static int
json_valid(const char *s)
{
	struct js j = { (const unsigned char *)s, 0 };

	if (!js_value(&j))
		return 0;
	js_ws(&j);
	return *j.p == '\0';
}

static void
test_json_checker_can_fail(void)
{
	T_TRUE(json_valid("{\"a\": [1, 2.5, \"x\\u0001\", null, true]}\n"));
	T_FALSE(json_valid("{\"a\": \"raw\x01control\"}"));
	T_FALSE(json_valid("{\"a\": \"bad \\x01 escape\"}"));
	T_FALSE(json_valid("{\"a\": \"\xff\"}"));
	T_FALSE(json_valid("{\"a\": 1} {\"b\": 2}"));
}

static void
test_json_reports(void)
{
	static const struct { const char *file, *cause; } logs[] = {
		{ "01-healthy-at-stock-boot15-user1-1000.log", "\"cause\": \"healthy\"" },
		{ "08-download-mode-gpio0-low-1-7.log", "\"cause\": \"download-mode\"" },
		{ "19-csum-err-qio-arduino164-esp07.log", "\"cause\": \"flash-mode-mismatch\"" },
		{ "27-boot17-user2-81000-error-magic.log", "\"cause\": \"ota-slot-invalid\"" },
		{ "32-exception28-uninitialized-pointer-io_ctx.log", "\"cause\": \"exception\"" },
		{ "41-at-boot15-viewed-at-115200-rom-garbage.log", "\"cause\": \"healthy\"" },
		{ "extra/x12-rom-read-at-115200-only.log", "\"cause\": \"wrong-baud\"" },
	};

	for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
		char path[4096], rel[512];
		struct buf out = BUF_INIT, err = BUF_INIT;
		char *argv[] = { esp, "decode", "--format", "json", path, NULL };
		int rc;

		snprintf(rel, sizeof rel, "bootlogs/%s", logs[i].file);
		snprintf(path, sizeof path, "%s", t_data(rel));
		rc = run(argv, NULL, &out, &err);
		T_EQ_INT(rc, 0);
		T_CHECK_(json_valid((const char *)buf_head(&out)), "%s: output is not one JSON object",
		    logs[i].file);
		T_CONTAINS((const char *)buf_head(&out), logs[i].cause);
		T_CONTAINS((const char *)buf_head(&out), "\"evidence\": [{\"line\": ");
		T_CONTAINS((const char *)buf_head(&out), "\"events\": [{\"line\": 1, ");
		buf_free(&out);
		buf_free(&err);
	}
}

/* Raw bytes on standard input: every control and high byte escaped, JSON still valid. */
static void
test_binary_stdin(void)
{
	char tmpl[] = "/tmp/espdesk-decode-in-XXXXXX";
	int fd = mkstemp(tmpl);
	uint8_t data[600];
	struct buf out = BUF_INIT, err = BUF_INIT;
	char *json[] = { esp, "decode", "--format", "json", "-", NULL };
	char *text[] = { esp, "decode", NULL };

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 37 + (i >> 3));
	memcpy(data + 100, "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n", 50);
	T_TRUE(fd >= 0 && write(fd, data, sizeof data) == (ssize_t)sizeof data);
	close(fd);
	T_EQ_INT(run(json, tmpl, &out, &err), 0);
	T_TRUE(json_valid((const char *)buf_head(&out)));
	T_CONTAINS((const char *)buf_head(&out), "\"kind\": \"rom-banner\"");
	buf_free(&out);
	buf_free(&err);
	T_EQ_INT(run(text, tmpl, &out, &err), 0);
	for (size_t i = 0; i + 1 < buf_len(&out); i++) {
		uint8_t c = buf_head(&out)[i];

		T_CHECK_(c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f) || c >= 0x80,
		    "raw control byte 0x%02x in the text output at %zu", c, i);
		if (c < 0x20 && c != '\n' && c != '\t')
			break;
	}
	T_CONTAINS((const char *)buf_head(&out), "diagnosis: ");
	buf_free(&out);
	buf_free(&err);
	unlink(tmpl);
}

static void
test_errors(void)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	char *missing[] = { esp, "decode", "/nonexistent/boot.log", NULL };
	char *badfmt[] = { esp, "decode", "--format", "xml", NULL };
	char *twofiles[] = { esp, "decode", "a.log", "b.log", NULL };
	char *noport[] = { esp, "monitor", NULL };

	T_EQ_INT(run(missing, NULL, &out, &err), 1);
	T_CONTAINS((const char *)buf_head(&err), "/nonexistent/boot.log");
	T_CONTAINS((const char *)buf_head(&err), "No such file");
	buf_free(&out);
	buf_free(&err);
	T_EQ_INT(run(badfmt, NULL, &out, &err), 2);
	T_CONTAINS((const char *)buf_head(&err), "xml");
	buf_free(&out);
	buf_free(&err);
	T_EQ_INT(run(twofiles, NULL, &out, &err), 2);
	buf_free(&out);
	buf_free(&err);
	T_EQ_INT(run(noport, NULL, &out, &err), 2);
	T_CONTAINS((const char *)buf_head(&err), "-p PORT");
	buf_free(&out);
	buf_free(&err);
}

int
main(void)
{
	const char *b = getenv("ESPDESK_BUILDDIR");

	snprintf(esp, sizeof esp, "%s/espdesk", b != NULL ? b : ESPDESK_BUILDDIR);
	T_RUN(test_json_checker_can_fail);
	if (access(esp, X_OK) != 0) {
		t_skip("test_json_reports", "espdesk is not built");
		return t_done();
	}
	T_RUN(test_json_reports);
	T_RUN(test_binary_stdin);
	T_RUN(test_errors);
	return t_done();
}
