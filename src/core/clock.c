#include "config.h"

#include "core/clock.h"

#include <errno.h>
#include <time.h>

int64_t
clock_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_now_ms(void)
{
	return clock_now_us() / 1000;
}

int64_t
clock_left_ms(int64_t deadline_ms)
{
	int64_t left = deadline_ms - clock_now_ms();

	return left > 0 ? left : 0;
}

void
clock_sleep_us(int64_t us)
{
	struct timespec ts, rem;

	if (us <= 0)
		return;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

void
clock_sleep_ms(int64_t ms)
{
	clock_sleep_us(ms * 1000);
}
