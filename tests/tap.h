/*
 * tap.h: the tiny test harness every C test uses. Header-only.
 *
 *   static void test_something(void) { T_EQ_INT(1 + 1, 2); T_TRUE(p != NULL); }
 *   int main(void) { T_RUN(test_something); return t_done(); }
 *
 * Each T_RUN is one test case and prints one TAP line ("ok 3 - test_something" or
 * "not ok 3 - ..." followed by "# file:line: what failed"). A case passes only if it made at
 * least one assertion and none failed: a test that asserts nothing is reported as a failure.
 * t_skip() records a case as skipped with a reason. tests/run-tests.sh counts the lines.
 */
#ifndef ESPDESK_TAP_H
#define ESPDESK_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_case_n, t_failed_cases, t_case_asserts, t_case_fails;

#define T_CHECK_(cond, ...) do {                                                     \
	t_case_asserts++;                                                            \
	if (!(cond)) {                                                               \
		t_case_fails++;                                                      \
		printf("# %s:%d: ", __FILE__, __LINE__);                             \
		printf(__VA_ARGS__);                                                 \
		printf("\n");                                                        \
	}                                                                            \
} while (0)

#define T_TRUE(c) T_CHECK_((c), "expected true: %s", #c)
#define T_FALSE(c) T_CHECK_(!(c), "expected false: %s", #c)
#define T_EQ_INT(a, b) do {                                                          \
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);                      \
	T_CHECK_(t_a_ == t_b_, "%s == %s: got %lld, expected %lld", #a, #b, t_a_, t_b_); \
} while (0)
#define T_EQ_HEX(a, b) do {                                                          \
	unsigned long long t_a_ = (unsigned long long)(a), t_b_ = (unsigned long long)(b); \
	T_CHECK_(t_a_ == t_b_, "%s == %s: got 0x%llx, expected 0x%llx", #a, #b, t_a_, t_b_); \
} while (0)
#define T_EQ_STR(a, b) do {                                                          \
	const char *t_a_ = (a), *t_b_ = (b);                                         \
	T_CHECK_(t_a_ != NULL && t_b_ != NULL && strcmp(t_a_, t_b_) == 0,            \
	    "%s == %s: got \"%s\", expected \"%s\"", #a, #b,                         \
	    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");                         \
} while (0)
#define T_CONTAINS(hay, needle) do {                                                 \
	const char *t_h_ = (hay), *t_n_ = (needle);                                  \
	T_CHECK_(t_h_ != NULL && strstr(t_h_, t_n_) != NULL,                         \
	    "%s contains \"%s\": got \"%s\"", #hay, t_n_, t_h_ ? t_h_ : "(null)");   \
} while (0)
#define T_EQ_MEM(a, b, n) do {                                                       \
	const unsigned char *t_a_ = (const void *)(a), *t_b_ = (const void *)(b);    \
	size_t t_n_ = (n), t_i_ = 0;                                                 \
	while (t_i_ < t_n_ && t_a_[t_i_] == t_b_[t_i_]) t_i_++;                      \
	T_CHECK_(t_i_ == t_n_, "%s == %s over %zu bytes: first difference at %zu (0x%02x vs 0x%02x)", \
	    #a, #b, t_n_, t_i_, t_i_ < t_n_ ? t_a_[t_i_] : 0, t_i_ < t_n_ ? t_b_[t_i_] : 0); \
} while (0)

static inline void
t_begin_(void)
{
	t_case_asserts = t_case_fails = 0;
}

static inline void
t_end_(const char *name)
{
	t_case_n++;
	if (t_case_fails == 0 && t_case_asserts == 0) {
		printf("# %s made no assertion\n", name);
		t_case_fails = 1;
	}
	if (t_case_fails) {
		t_failed_cases++;
		printf("not ok %d - %s\n", t_case_n, name);
	} else
		printf("ok %d - %s\n", t_case_n, name);
	fflush(stdout);
}

#define T_RUN(fn) do { t_begin_(); fn(); t_end_(#fn); } while (0)

static inline void
t_skip(const char *name, const char *reason)
{
	t_case_n++;
	printf("ok %d - %s # SKIP %s\n", t_case_n, name, reason);
	fflush(stdout);
}

static inline int
t_done(void)
{
	printf("1..%d\n", t_case_n);
	return t_failed_cases ? 1 : 0;
}

/* Path of a file under tests/data in the source tree. Returns a static buffer. */
static inline const char *
t_data(const char *rel)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/tests/data/%s", ESPDESK_SRCDIR, rel);
	return path;
}

#endif
