/*
 * doSomething in C: the per-packet work every method does. It must agree byte for byte with
 * src/core/counter.ts, because the js and native tiers are only comparable if they count the same.
 */
#ifndef CAPBENCH_COUNTER_H
#define CAPBENCH_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What a native-tier loop reports: frames handed to the counter, how many it counted, and the
 * takes that brought frames (a recvmmsg batch, a ring block, an af-xdp peek: the unit the
 * mechanism hands frames over in).
 */
struct cb_count {
	uint64_t received;
	uint64_t ipv4;
	uint64_t takes;
};

/*
 * 1 iff the frame is long enough for an Ethernet header and bytes 12-13 are 0x08 0x00. Inline:
 * a call per frame is a measurable share of a native loop that spends only tens of cycles on a
 * frame (bench/README.md, "Why af-xdp's js tier stays at about 0.7 of its native tier").
 */
static inline int cb_do_something(const uint8_t *frame, uint32_t len)
{
	if (len < 14)
		return 0;
	return frame[12] == 0x08 && frame[13] == 0x00;
}

/*
 * Index of the first (offset, length) pair in table[0 .. 2n) that does not lie inside
 * [0, buflen), or -1 when all do. Callers check before counting so the count never reads
 * outside the buffer.
 */
long cb_table_first_bad(size_t buflen, const uint32_t *table, uint32_t n);

/* Sum of cb_do_something over n pairs; pairs outside buflen count 0 (callers check first). */
uint64_t cb_count_table(const uint8_t *buf, size_t buflen, const uint32_t *table, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif
