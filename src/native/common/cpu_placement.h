/*
 * Where capbench's threads run: the capturing thread gets a CPU to itself, and every other thread
 * of the process (Node's helpers, an unpinned generator) stays off it.
 */
#ifndef CAPBENCH_CPU_PLACEMENT_H
#define CAPBENCH_CPU_PLACEMENT_H

#include <sched.h>

#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Pins the calling thread to `cpu` and moves the process's other threads to the CPUs the process
 * started with (its affinity at the first call) less `cpu`. Threads named "cb-..." are capbench's
 * own and place themselves. Call it again to catch threads created since: they inherit the pin.
 * On an error the caller may be pinned and some threads moved; all of them are this process's.
 */
int cb_reserve_cpu(int cpu, struct cb_error *e);

/*
 * Pins the calling thread, and only it, to `cpu`: for reader threads (Node worker_threads), which
 * can only place themselves. A thread other than the process's main one is also named
 * "cb-pinned", so a later cb_reserve_cpu leaves it where it put itself.
 */
int cb_pin_thread(int cpu, struct cb_error *e);

/*
 * The CPUs a thread that is not pinned should run on: the process's CPUs less the reserved one,
 * or, before any cb_reserve_cpu, the calling thread's own affinity.
 */
int cb_unreserved_cpus(cpu_set_t *set, struct cb_error *e);

#ifdef __cplusplus
}
#endif

#endif
