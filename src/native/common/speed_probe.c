#include "speed_probe.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* In a core's L2 on the machines capbench runs on: the work is the CPU's, not the memory bus's. */
#define PROBE_BYTES (256u << 10)
/* About a millisecond here: long against the clock's resolution, short against a window. */
#define PROBE_STEPS (1u << 19)
/*
 * The work is done this many times and the mean taken: what slows a window (a neighbour's burst,
 * time the host takes from the vCPU) is what the probe is for, so no pass is thrown away. The
 * fastest of the passes followed the windows' costs less closely here (bench/README.md).
 */
#define PROBE_PASSES 3

struct probe {
	uint8_t *buf;
	uint64_t ns;
	uint64_t sink; /* what the work computed, so the compiler cannot drop it */
};

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift32 picks where to read and write next: no pattern a prefetcher could follow. */
static uint64_t work(uint8_t *buf)
{
	uint32_t x = 0x9e3779b9u;
	uint64_t acc = 0;

	for (uint32_t i = 0; i < PROBE_STEPS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint32_t at = x & (PROBE_BYTES - 1);
		acc += buf[at];
		buf[at] = (uint8_t)(acc ^ i);
	}
	return acc;
}

static void *run(void *arg)
{
	struct probe *p = arg;

	/* Pages faulted in and the buffer in cache before the clock starts. */
	memset(p->buf, 0x5a, PROBE_BYTES);
	uint64_t t0 = thread_ns();
	for (int i = 0; i < PROBE_PASSES; i++)
		p->sink += work(p->buf);
	p->ns = (thread_ns() - t0) / PROBE_PASSES;
	return NULL;
}

int cb_speed_probe(int cpu, uint64_t *ns, struct cb_error *e)
{
	struct probe p = { .buf = malloc(PROBE_BYTES) };
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (!p.buf)
		return cb_fail(e, ENOMEM, "allocate %u bytes for the speed probe", PROBE_BYTES);
	pthread_attr_init(&attr);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	rc = pthread_create(&t, &attr, run, &p);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		pthread_join(t, NULL);
	free(p.buf);
	if (rc != 0)
		return cb_fail(e, rc, "start the speed probe's thread on CPU %d", cpu);
	*ns = p.ns;
	return 0;
}
