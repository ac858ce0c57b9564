/* CLOCK_MONOTONIC in ns, and whole milliseconds to a deadline: for loops that keep time. */
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

#endif
