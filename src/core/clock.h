/*
 * clock.h: monotonic time in milliseconds. Engines take `now_ms` or deadlines from here so that
 * tests can reason about time; wall-clock time never drives a timeout.
 */
#ifndef ESPDESK_CLOCK_H
#define ESPDESK_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t clock_now_ms(void);
/* Microseconds on CLOCK_MONOTONIC. */
int64_t clock_now_us(void);
/* Milliseconds left until deadline (never negative). */
int64_t clock_left_ms(int64_t deadline_ms);
/* Sleeps for ms milliseconds, resuming after signals. */
void clock_sleep_ms(int64_t ms);
/* Sleeps for us microseconds, resuming after signals. */
void clock_sleep_us(int64_t us);

#endif
