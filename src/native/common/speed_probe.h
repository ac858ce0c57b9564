/*
 * How fast a CPU runs right now: a fixed amount of integer and memory work, timed by the CPU
 * clock of a thread pinned to that CPU. On a VM whose speed drifts by tens of percent over
 * seconds, capbench times this around every window, so that figures taken at different moments
 * (other rounds, other runs) can be compared at one reference speed (src/core/drift.ts).
 */
#ifndef CAPBENCH_SPEED_PROBE_H
#define CAPBENCH_SPEED_PROBE_H

#include <stdint.h>

#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Runs the probe's work on a new thread pinned to cpu (-1: wherever the process may run) and
 * gives the thread CPU time it took, in ns, or -1 with e set.
 */
int cb_speed_probe(int cpu, uint64_t *ns, struct cb_error *e);

#ifdef __cplusplus
}
#endif

#endif
