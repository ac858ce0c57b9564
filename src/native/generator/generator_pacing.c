/*
 * The generator's waits (see generator_pacing.h): towards a paced burst, and after the kernel
 * refused frames.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "generator_pacing.h"
#include "monotonic.h"

#include <time.h>

/* Sleep until this long before a burst is due, then spin: a wake-up from clock_nanosleep can be
 * late (the thread's timer slack is 1 ns, but a VM adds its own), a spin is not. Short, because
 * every spun nanosecond is CPU time the system-wide cost figures must not see. */
#define SPIN_NS 10000ull
/* Never sleep longer than this in one go, so stop() is answered within ~10 ms even at 1 pps. */
#define MAX_SLEEP_NS 10000000ull
/* A refusal that lasts this long is not congestion but a dead path (peer down, device stuck). */
#define STALL_NS 2000000000ull

void cb_gen_sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	/* EINTR is harmless: every caller re-reads the clock and decides again. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void cb_gen_pace_wait(uint64_t target, uint64_t deadline)
{
	uint64_t now = cb_now_ns();

	if (now >= target)
		return;
	if (target - now > SPIN_NS) {
		uint64_t wake = target - SPIN_NS;

		wake = min_u64(wake, now + MAX_SLEEP_NS);
		wake = min_u64(wake, deadline);
		cb_gen_sleep_until(wake);
		return;
	}
	while (cb_now_ns() < target)
		cpu_relax();
}

int cb_gen_backoff_wait(struct backoff *bo, bool progress, int err, uint64_t deadline,
			const char *what, const char *ifname, struct cb_error *e)
{
	uint64_t now = cb_now_ns();

	if (progress) {
		bo->stalled_since = 0;
		bo->ns = BACKOFF_MIN_NS;
	} else if (bo->stalled_since == 0) {
		bo->stalled_since = now;
	} else if (now - bo->stalled_since > STALL_NS) {
		return cb_fail(e, err, "%s on %s: no frame accepted for %llu s", what, ifname,
			       STALL_NS / 1000000000ull);
	}
	cb_gen_sleep_until(min_u64(now + bo->ns, deadline));
	bo->ns = min_u64(bo->ns * 2, BACKOFF_MAX_NS);
	return 0;
}
