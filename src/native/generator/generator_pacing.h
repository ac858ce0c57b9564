/*
 * The generator's pacing and back-off, shared by both engines: when the next burst is due, how to
 * wait for it, and how to wait after the kernel refused frames. The arithmetic is inline, since
 * the engines' sending loops run it once per batch; the waits, which sleep or spin anyway, are in
 * generator_pacing.c.
 */
#ifndef CAPBENCH_GENERATOR_PACING_H
#define CAPBENCH_GENERATOR_PACING_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "native_error.h"

/* Back-off after the kernel refused frames: long enough to let the softirq (often ksoftirqd on the
 * same CPU) drain the peer's backlog, short enough not to leave the device idle for long. */
#define BACKOFF_MIN_NS 5000ull
#define BACKOFF_MAX_NS 1000000ull

struct backoff {
	uint64_t ns;
	uint64_t stalled_since; /* 0 = the last attempt made progress */
};

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Frames due by `now`: frame i is due at t0 + i / rate, so frame 0 is due at once. long double
 * keeps (elapsed ns x rate) exact for any realistic run instead of rounding at 2^53. */
static inline uint64_t frames_due(double rate, uint64_t t0, uint64_t now)
{
	long double d = (long double)(now - t0) * (long double)rate / 1e9L;

	return (uint64_t)d + 1;
}

/* Frames per paced burst: a millisecond's worth, at least one, at most a batch. */
static inline uint64_t pacing_burst(double rate_pps, uint32_t batch)
{
	uint64_t per_ms = (uint64_t)(rate_pps / 1000.0);

	return per_ms < 1 ? 1 : per_ms > batch ? batch : per_ms;
}

static inline uint64_t due_time(double rate, uint64_t t0, uint64_t i)
{
	long double t = (long double)i * 1e9L / (long double)rate;
	uint64_t whole = (uint64_t)t;

	if ((long double)whole < t)
		whole++;
	return t0 + whole;
}

static inline void backoff_reset(struct backoff *bo)
{
	bo->ns = BACKOFF_MIN_NS;
	bo->stalled_since = 0;
}

/* A refusal worth retrying: the device, the peer's backlog or the send buffer was full. */
static inline bool transient(int err)
{
	return err == ENOBUFS || err == EAGAIN || err == EINTR;
}

/* Hidden: called directly, as when they were static in one file, not through the PLT. */
#pragma GCC visibility push(hidden)

/* Sleeps until CLOCK_MONOTONIC time t (ns); returns early on a signal. */
void cb_gen_sleep_until(uint64_t t);

/* Waits towards `target` (capped by the deadline and a 10 ms sleep); the caller loops. */
void cb_gen_pace_wait(uint64_t target, uint64_t deadline);

/*
 * The kernel took fewer frames than offered. Sleeps briefly (yielding the CPU, which on a veth is
 * what lets the softirq drain the peer's backlog) and returns 0, or -1 with e filled when nothing
 * has been accepted for 2 s. `what` and `err` describe the refusal for that error.
 */
int cb_gen_backoff_wait(struct backoff *bo, bool progress, int err, uint64_t deadline,
			const char *what, const char *ifname, struct cb_error *e);

#pragma GCC visibility pop

#endif
