#include "clock.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#define CALIBRATE_MAX_MS 60000u
/* Samples per end of the interval; the tightest bracket wins, so a preemption is discarded. */
#define CALIBRATE_TRIES 5

uint64_t cb_read_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#elif defined(__aarch64__)
	uint64_t v;
	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * One (tsc, ns) pair taken as close together as possible: the clock read is bracketed by two
 * TSC reads and the narrowest bracket of a few tries is kept, its midpoint paired with the clock.
 */
static void sample_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best_width = UINT64_MAX;

	*tsc = 0;
	*ns = 0;
	for (int i = 0; i < CALIBRATE_TRIES; i++) {
		uint64_t before = cb_read_tsc();
		uint64_t t = monotonic_ns();
		uint64_t after = cb_read_tsc();

		if (after - before < best_width) {
			best_width = after - before;
			*tsc = before + (after - before) / 2;
			*ns = t;
		}
	}
}

static int sleep_ms(uint32_t ms, struct cb_error *e)
{
	struct timespec req = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	/* Signals may cut the sleep short; the interval is measured, so resuming is enough. */
	while (nanosleep(&req, &req) != 0) {
		if (errno != EINTR)
			return cb_fail(e, errno, "nanosleep %u ms while calibrating the TSC", ms);
	}
	return 0;
}

int cb_calibrate_tsc(uint32_t ms, double *ticks_per_sec, struct cb_error *e)
{
	uint64_t tsc0, ns0, tsc1, ns1;

	if (ms < 1 || ms > CALIBRATE_MAX_MS)
		return cb_fail(e, EINVAL, "calibrate TSC over %u ms (allowed 1..%u)", ms,
			       CALIBRATE_MAX_MS);
	sample_pair(&tsc0, &ns0);
	if (sleep_ms(ms, e) < 0)
		return -1;
	sample_pair(&tsc1, &ns1);
	if (ns1 <= ns0 || tsc1 <= tsc0)
		return cb_fail(e, 0, "calibrate TSC: counter did not advance over %u ms", ms);
	*ticks_per_sec = (double)(tsc1 - tsc0) * 1e9 / (double)(ns1 - ns0);
	return 0;
}

static uint64_t timeval_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

int cb_thread_usage(struct cb_thread_usage *u, struct cb_error *e)
{
	struct rusage ru;
	struct timespec ts;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return cb_fail(e, errno, "getrusage(RUSAGE_THREAD)");
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return cb_fail(e, errno, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
	u->user_ns = timeval_ns(&ru.ru_utime);
	u->sys_ns = timeval_ns(&ru.ru_stime);
	u->total_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	u->voluntary_switches = (uint64_t)ru.ru_nvcsw;
	u->involuntary_switches = (uint64_t)ru.ru_nivcsw;
	u->minor_faults = (uint64_t)ru.ru_minflt;
	return 0;
}

int cb_task_cpu_time(int pid, uint64_t *total_ns, struct cb_error *e)
{
	clockid_t clock;
	struct timespec ts;
	int err = clock_getcpuclockid((pid_t)pid, &clock);

	if (err)
		return cb_fail(e, err, "clock_getcpuclockid(%d)", pid);
	if (clock_gettime(clock, &ts) != 0)
		return cb_fail(e, errno, "clock_gettime(CPU clock of %d)", pid);
	*total_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return 0;
}

static int perf_open_cycles(int exclude_kernel)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_HARDWARE;
	attr.config = PERF_COUNT_HW_CPU_CYCLES;
	attr.exclude_kernel = (unsigned)exclude_kernel;
	attr.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &attr, 0 /* this thread */, -1 /* any CPU */,
			    -1 /* no group */, PERF_FLAG_FD_CLOEXEC);
}

int cb_cycle_counter_open(struct cb_error *e)
{
	/* Kernel cycles matter here (recv copies run in the kernel); user-only if paranoia forbids. */
	int fd = perf_open_cycles(0);

	if (fd < 0 && (errno == EACCES || errno == EPERM))
		fd = perf_open_cycles(1);
	if (fd < 0)
		return cb_fail(
			e, errno,
			"perf_event_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES) for this thread");
	return fd;
}

int cb_cycle_counter_read(int fd, uint64_t *cycles, struct cb_error *e)
{
	ssize_t n = read(fd, cycles, sizeof(*cycles));

	if (n < 0)
		return cb_fail(e, errno, "read cycle counter (perf fd %d)", fd);
	if (n != (ssize_t)sizeof(*cycles))
		return cb_fail(e, EIO, "read cycle counter (perf fd %d): short read of %zd bytes",
			       fd, n);
	return 0;
}

void cb_cycle_counter_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
