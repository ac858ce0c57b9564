/* CLOCK_MONOTONIC in ns, whole milliseconds to a deadline, a sleep: for loops that keep time. */
#ifndef CAPBENCH_MONOTONIC_H
#define CAPBENCH_MONOTONIC_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t cb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Whole milliseconds from now to deadline, rounded up; 0 once it has passed. */
static inline int cb_ms_left(uint64_t now, uint64_t deadline)
{
	uint64_t left = deadline > now ? (deadline - now + 999999u) / 1000000u : 0;

	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Sleeps ns. A signal may cut it short, which is harmless: every caller looks at its state again. */
static inline void cb_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

#endif
