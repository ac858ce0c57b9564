#include "clock.h"

#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
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

int cb_thread_cpu_time(uint64_t *user_ns, uint64_t *sys_ns, uint64_t *total_ns, struct cb_error *e)
{
	struct rusage ru;
	struct timespec ts;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return cb_fail(e, errno, "getrusage(RUSAGE_THREAD)");
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return cb_fail(e, errno, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
	*user_ns = timeval_ns(&ru.ru_utime);
	*sys_ns = timeval_ns(&ru.ru_stime);
	*total_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return 0;
}

/* Own threads name themselves "cb-..." and choose their CPU themselves. */
static int is_own_thread(long tid)
{
	char path[64], name[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(name, sizeof(name), f))
		name[0] = '\0';
	fclose(f);
	return strncmp(name, "cb-", 3) == 0;
}

/*
 * The CPUs the process was started with (its taskset), taken before cb_reserve_cpu first pins
 * its caller: threads created after that inherit the pin, and this is where they belong instead.
 */
static cpu_set_t started_with;
static int have_started_with;

static int remember_started_with(struct cb_error *e)
{
	if (have_started_with)
		return 0;
	if (sched_getaffinity(0, sizeof(started_with), &started_with) != 0)
		return cb_fail(e, errno, "read this thread's CPU affinity (sched_getaffinity)");
	have_started_with = 1;
	return 0;
}

int cb_process_cpus(cpu_set_t *set, struct cb_error *e)
{
	if (remember_started_with(e) < 0)
		return -1;
	*set = started_with;
	return 0;
}

/*
 * Node's helper threads (V8's platform workers, libuv's pool) may run anywhere the process may,
 * and the scheduler sometimes puts them on the capture CPU in the middle of a window, where they
 * take milliseconds from the capturing thread. They get the process's CPUs less `cpu`.
 */
int cb_reserve_cpu(int cpu, struct cb_error *e)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	cpu_set_t others, pin;
	struct dirent *ent;
	DIR *dir;
	int rc;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return cb_fail(e, EINVAL, "reserve CPU %d (allowed 0..%d)", cpu, CPU_SETSIZE - 1);
	if (remember_started_with(e) < 0)
		return -1;
	/* The pin first: a CPU this process may not use fails here, before anything has moved. */
	CPU_ZERO(&pin);
	CPU_SET(cpu, &pin);
	/* pthread_* return the error instead of setting errno. */
	rc = pthread_setaffinity_np(pthread_self(), sizeof(pin), &pin);
	if (rc != 0)
		return cb_fail(e, rc, "pin thread to CPU %d (pthread_setaffinity_np)", cpu);

	others = started_with;
	CPU_CLR(cpu, &others);
	if (CPU_COUNT(&others) > 0) {
		dir = opendir("/proc/self/task");
		if (!dir)
			return cb_fail(e, errno, "reserve CPU %d: list threads (/proc/self/task)", cpu);
		while ((ent = readdir(dir)) != NULL) {
			char *end;
			long tid = strtol(ent->d_name, &end, 10);

			if (*end != '\0' || tid <= 0 || (pid_t)tid == self || is_own_thread(tid))
				continue;
			/* ESRCH: the thread ended meanwhile. */
			if (sched_setaffinity((pid_t)tid, sizeof(others), &others) != 0 && errno != ESRCH) {
				cb_fail(e, errno, "reserve CPU %d: move thread %ld off it", cpu, tid);
				closedir(dir);
				return -1;
			}
		}
		closedir(dir);
	}
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
		return cb_fail(e, errno,
			       "perf_event_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES) for this thread");
	return fd;
}

int cb_cycle_counter_read(int fd, uint64_t *cycles, struct cb_error *e)
{
	ssize_t n = read(fd, cycles, sizeof(*cycles));

	if (n < 0)
		return cb_fail(e, errno, "read cycle counter (perf fd %d)", fd);
	if (n != (ssize_t)sizeof(*cycles))
		return cb_fail(e, EIO, "read cycle counter (perf fd %d): short read of %zd bytes", fd, n);
	return 0;
}

void cb_cycle_counter_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
