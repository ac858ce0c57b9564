/*
 * Time and CPU accounting for the measurements: the TSC (cycles/pkt is CPU time x TSC
 * frequency), per-thread CPU time and, where a PMU exists, a hardware cycle counter.
 */
#ifndef CAPBENCH_CLOCK_H
#define CAPBENCH_CLOCK_H

#include <stdint.h>

#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The time stamp counter (x86); elsewhere the best free-running counter available. */
uint64_t cb_read_tsc(void);

/* Ticks of cb_read_tsc per second, measured against CLOCK_MONOTONIC over about ms (1..60000). */
int cb_calibrate_tsc(uint32_t ms, double *ticks_per_sec, struct cb_error *e);

/*
 * What the calling thread has used: CLOCK_THREAD_CPUTIME_ID's total, which the kernel brings up to
 * date on every read, and from getrusage(RUSAGE_THREAD) the user/system split (updated at ticks
 * and context switches, so stale over short windows), its context switches and its minor faults,
 * which are exact counts.
 */
struct cb_thread_usage {
	uint64_t user_ns;
	uint64_t sys_ns;
	uint64_t total_ns;
	uint64_t voluntary_switches;   /* it slept: waited for frames, or for a lock */
	uint64_t involuntary_switches; /* the scheduler took the CPU from it */
	uint64_t minor_faults;
};

int cb_thread_usage(struct cb_thread_usage *u, struct cb_error *e);

/*
 * CPU time of another process (a single-threaded one such as a ksoftirqd kernel thread) from its
 * CPU clock (clock_getcpuclockid), exact in ns, unlike /proc/PID/stat's ticks.
 */
int cb_task_cpu_time(int pid, uint64_t *total_ns, struct cb_error *e);

/* perf_event_open(PERF_COUNT_HW_CPU_CYCLES) for the calling thread; returns the fd or -1. */
int cb_cycle_counter_open(struct cb_error *e);
int cb_cycle_counter_read(int fd, uint64_t *cycles, struct cb_error *e);
void cb_cycle_counter_close(int fd);

#ifdef __cplusplus
}
#endif

#endif
