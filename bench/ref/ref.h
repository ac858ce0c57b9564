/*
 * What every reference program shares: the clocks, the counter, and the ready/go handshake with
 * bench/native-vs-ref. Each program stays one file of its own mechanism; only this is common.
 */
#ifndef CAPBENCH_REF_H
#define CAPBENCH_REF_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reference programs are tools run by the bench: on failure they say why and exit. */
static inline void die_msg(const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, detail);
	exit(1);
}

static inline uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time this thread has used: the loop's cost without the time others ran on its CPU. */
static inline uint64_t cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* The counter: an untagged IPv4 frame has EtherType 0x0800 at bytes 12-13. */
static inline int is_ipv4(const uint8_t *p, size_t len)
{
	return len >= 14 && p[12] == 0x08 && p[13] == 0x00;
}

static inline void ready_then_wait_go(void)
{
	char line[16];

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || strncmp(line, "go", 2) != 0)
		exit(1);
}

#endif
