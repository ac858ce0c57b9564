/*
 * The clock and waits every native consume loop uses: a slice of CLOCK_MONOTONIC time, and a
 * poll() for readability that treats a signal as "nothing yet" so that JS gets to see it.
 */
#ifndef CAPBENCH_SLICE_CLOCK_H
#define CAPBENCH_SLICE_CLOCK_H

#include <errno.h>
#include <limits.h>
#include <poll.h>
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

/* How long a slice may wait for the next frame: the idle allowance, or what is left of the slice. */
static inline int cb_slice_wait_ms(uint64_t now, uint64_t deadline, uint32_t idle_ms)
{
	int slice_left = cb_ms_left(now, deadline);

	return idle_ms < (uint32_t)slice_left ? (int)idle_ms : slice_left;
}

/*
 * poll() fd for POLLIN: 1 ready (revents set when not NULL), 0 timed out or interrupted by a
 * signal, -1 with errno on failure.
 */
static inline int cb_poll_in(int fd, int timeout_ms, short *revents)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc = poll(&p, 1, timeout_ms);

	if (rc < 0 && errno == EINTR)
		return 0;
	if (rc > 0 && revents)
		*revents = p.revents;
	return rc;
}

#endif
