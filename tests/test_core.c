/* Unit tests for src/core: byte queue, escaping, allocation helpers, clock, atomic files, stop
 * signals. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/afile.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/esc.h"
#include "core/sig.h"
#include "core/xmalloc.h"
#include "tap.h"

static void
test_buf_fifo(void)
{
	struct buf b = BUF_INIT;
	uint8_t big[5000];

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7);
	buf_add(&b, "abc", 3);
	buf_add_byte(&b, 'd');
	T_EQ_INT(buf_len(&b), 4);
	T_EQ_MEM(buf_head(&b), "abcd", 4);
	buf_drain(&b, 2);
	T_EQ_MEM(buf_head(&b), "cd", 2);
	buf_add(&b, big, sizeof big);
	T_EQ_INT(buf_len(&b), 2 + sizeof big);
	T_EQ_MEM(buf_head(&b) + 2, big, sizeof big);
	buf_drain(&b, 1000000);
	T_EQ_INT(buf_len(&b), 0);
	T_TRUE(buf_head(&b) == NULL);
	buf_free(&b);
}

static void
test_buf_no_growth_when_drained(void)
{
	struct buf b = BUF_INIT;
	size_t cap;

	buf_add(&b, "0123456789", 10);
	cap = b.cap;
	for (int i = 0; i < 1000; i++) {
		buf_add(&b, "0123456789", 10);
		buf_drain(&b, 10);
	}
	T_EQ_INT(b.cap, cap);
	T_EQ_MEM(buf_head(&b), "0123456789", 10);
	buf_free(&b);
}

static void
test_esc_controls(void)
{
	char out[64];
	/* ESC [ 2 J would clear the user's screen; CR, BEL and NUL must not reach it either. */
	size_t n = esc_bytes(out, sizeof out, "a\x1b[2J\r\x07\0z\n", 10, 0);

	T_EQ_INT(n, 10);
	T_EQ_STR(out, "a\\e[2J\\r\\x07\\x00z\\n");
	esc_bytes(out, sizeof out, "line\n", 5, ESC_KEEP_NL);
	T_EQ_STR(out, "line\n");
	esc_bytes(out, sizeof out, "\x7f\x9b", 2, ESC_KEEP_UTF8);
	T_EQ_STR(out, "\\x7f\\x9b");
}

static void
test_esc_utf8(void)
{
	char out[64];

	/* "é" is kept with ESC_KEEP_UTF8; a C1 CSI encoded as UTF-8 (c2 9b) is not. */
	esc_bytes(out, sizeof out, "\xc3\xa9", 2, ESC_KEEP_UTF8);
	T_EQ_STR(out, "\xc3\xa9");
	esc_bytes(out, sizeof out, "\xc2\x9b", 2, ESC_KEEP_UTF8);
	T_EQ_STR(out, "\\xc2\\x9b");
	esc_bytes(out, sizeof out, "\xc3\xa9", 2, 0);
	T_EQ_STR(out, "\\xc3\\xa9");
	/* overlong '/' and a lone continuation byte */
	esc_bytes(out, sizeof out, "\xc0\xaf\x80", 3, ESC_KEEP_UTF8);
	T_EQ_STR(out, "\\xc0\\xaf\\x80");
}

static void
test_esc_truncates_whole(void)
{
	char out[6];
	size_t n = esc_bytes(out, sizeof out, "ab\x01xyz", 6, 0);

	/* "ab" fits, "\x01" needs 4 more bytes plus the NUL: stop before it, never mid-escape. */
	T_EQ_INT(n, 2);
	T_EQ_STR(out, "ab");
}

static void
test_xfmt(void)
{
	char *s = xfmt("%s:%d: %s", "pow-r2.yaml", 12, "unknown key");

	T_EQ_STR(s, "pow-r2.yaml:12: unknown key");
	free(s);
	s = xstrndup("abcdef", 3);
	T_EQ_STR(s, "abc");
	free(s);
}

static void
test_clock_monotonic(void)
{
	int64_t a = clock_now_us();

	clock_sleep_ms(2);
	T_TRUE(clock_now_us() - a >= 2000);
	T_EQ_INT(clock_left_ms(clock_now_ms() - 5), 0);
}

static void
test_le_helpers(void)
{
	uint8_t b[4];

	wr_le32(b, 0x40001000);
	T_EQ_MEM(b, "\x00\x10\x00\x40", 4);
	T_EQ_HEX(rd_le32(b), 0x40001000);
	wr_le16(b, 0xc0db);
	T_EQ_HEX(rd_le16(b), 0xc0db);
}

static void
test_afile_atomic(void)
{
	char dir[] = "/tmp/espdesk-afile-XXXXXX", path[64], *cause = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	struct stat st;

	T_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/backup.bin", dir);
	T_EQ_INT(afile_write(path, "factory", 7, 0444, 0, &cause), RC_OK);
	T_TRUE(cause == NULL);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0444);
	/* An existing file is never replaced without being asked to. */
	T_EQ_INT(afile_write(path, "other", 5, 0444, 0, &cause), RC_ERR_BUSY);
	T_CONTAINS(cause, "already exists");
	free(cause);
	T_EQ_INT(afile_read(path, 1 << 20, &data, &len, &cause), RC_OK);
	T_EQ_INT(len, 7);
	T_EQ_MEM(data, "factory", 7);
	free(data);
	T_EQ_INT(afile_write(path, "newer", 5, 0644, AFILE_OVERWRITE, &cause), RC_OK);
	T_EQ_INT(afile_read(path, 1 << 20, &data, &len, &cause), RC_OK);
	T_EQ_MEM(data, "newer", 5);
	free(data);
	/* Too large for the caller's limit: refused, with the path in the message. */
	T_EQ_INT(afile_read(path, 2, &data, &len, &cause), RC_ERR_IO);
	T_CONTAINS(cause, "larger than");
	free(cause);
	T_TRUE(afile_same(path, path));
	T_FALSE(afile_same(path, dir));
	T_EQ_INT(afile_read("/nonexistent/x", 10, &data, &len, &cause), RC_ERR_IO);
	T_CONTAINS(cause, "/nonexistent/x");
	free(cause);
	unlink(path);
	rmdir(dir);
}

/* Each stop signal sets the flag and writes its number to the wake-up pipe instead of killing
 * us; SIGPIPE is ignored (the write to a closed pipe fails with EPIPE). */
static void
test_sig_stop(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	int p[2], q[2];
	unsigned char c;

	T_EQ_INT(pipe(p), 0);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	sig_catch_stop(p[1]);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		atomic_store(&sig_stop, 0);
		T_EQ_INT(raise(sigs[i]), 0);
		T_TRUE(atomic_load(&sig_stop));
		T_EQ_INT(read(p[0], &c, 1), 1);
		T_EQ_INT(c, sigs[i]);
	}
	T_EQ_INT(pipe(q), 0);
	close(q[0]);
	T_EQ_INT(write(q[1], "x", 1), -1);
	T_EQ_INT(errno, EPIPE);
	close(q[1]);
	sig_catch_stop(-1);
	atomic_store(&sig_stop, 0);
	T_EQ_INT(raise(SIGINT), 0);
	T_TRUE(atomic_load(&sig_stop));
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	T_RUN(test_buf_fifo);
	T_RUN(test_buf_no_growth_when_drained);
	T_RUN(test_esc_controls);
	T_RUN(test_esc_utf8);
	T_RUN(test_esc_truncates_whole);
	T_RUN(test_xfmt);
	T_RUN(test_clock_monotonic);
	T_RUN(test_le_helpers);
	T_RUN(test_afile_atomic);
	T_RUN(test_sig_stop);
	return t_done();
}
