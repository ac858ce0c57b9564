/*
 * The native tier's send loop: the send-side twin of cb_slice_loop (common/slice_loop.h). It
 * makes exactly the calls the js tier makes from TypeScript (cb_sender_send_one per unit, or
 * cb_sender_send_from per batch, and cb_sender_wait after a call that took nothing), so the gap
 * between the tiers is the runtime's cost alone. Inline, so that the call type is a branch the
 * compiler sees through, not a pointer.
 */
#ifndef CAPBENCH_SEND_LOOP_H
#define CAPBENCH_SEND_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "monotonic.h"
#include "native_error.h"
#include "sender.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One call of the native tier, as JS makes it: see runNative in sender_binding.cc. */
struct cb_send_slice {
	uint64_t max_units; /* stop once this many units have been taken */
	uint32_t slice_ms;  /* return after this long, to let JS see signals and its limits */
};

/*
 * Cycles through the first `units` pairs of table, round-robin from where the previous call
 * stopped (s->pos), with the sender's call: a send per unit (a tcp unit counts once all its
 * bytes are taken; a partial write continues where it stopped, also across calls), or batches
 * of up to s->batch units that wrap from the last pair to the first. After a call that took
 * nothing it waits for room, never past the slice. Stops once max_units units were taken or
 * slice_ms has passed. Units taken (tx-ring: handed over) and payload bytes go to the outputs.
 * 0, or -1 with e filled (what was taken until then is in the outputs and the stats).
 *
 * The clock is read once per call: beside a system call of a microsecond or more, a vDSO clock
 * read costs nothing worth saving.
 */
static inline int cb_send_loop(struct cb_sender *s, const uint32_t *table, uint32_t units,
			       const struct cb_send_slice *slice, uint64_t *units_out,
			       uint64_t *bytes_out, struct cb_error *e)
{
	const uint64_t max_units = slice->max_units;
	uint64_t now = cb_now_ns();
	const uint64_t deadline = now + (uint64_t)slice->slice_ms * 1000000u;
	uint64_t got = 0, bytes = 0;
	int rc = 0;

	*units_out = 0;
	*bytes_out = 0;
	if (units == 0)
		return cb_fail(e, EINVAL, "send loop on %s: the table has no units", s->ifname);
	if (s->pos >= units) {
		/* A shorter table than last time: start it over. */
		s->pos = 0;
		s->partial = 0;
	}
	if (s->partial >= table[2 * (size_t)s->pos + 1])
		s->partial = 0;
	while (got < max_units) {
		uint64_t took = 0;
		bool empty; /* the kernel took nothing: wait for room */

		if (s->call == CB_CALL_SEND) {
			uint32_t off = table[2 * (size_t)s->pos] + s->partial;
			uint32_t len = table[2 * (size_t)s->pos + 1] - s->partial;
			ssize_t n = cb_sender_send_one(s, off, len, e);

			if (n < 0) {
				rc = -1;
				break;
			}
			bytes += (uint64_t)n;
			empty = n == 0;
			if ((size_t)n == len) {
				s->partial = 0;
				if (++s->pos == units)
					s->pos = 0;
				took = 1;
			} else {
				/* tcp took part: the rest goes next, as in the js tier. */
				s->partial += (uint32_t)n;
			}
		} else {
			uint64_t rest = max_units - got, b = 0;
			uint32_t want = rest < s->batch ? (uint32_t)rest : s->batch;
			int n = cb_sender_send_from(s, table, units, s->pos, want, &b, e);

			if (n < 0) {
				rc = -1;
				break;
			}
			bytes += b;
			s->pos = (uint32_t)(((uint64_t)s->pos + (uint64_t)n) % units);
			took = (uint64_t)n;
			empty = n == 0;
		}
		got += took;
		now = cb_now_ns();
		if (now >= deadline)
			break;
		if (empty && cb_sender_wait(s, cb_ms_left(now, deadline), e) < 0) {
			rc = -1;
			break;
		}
	}
	*units_out = got;
	*bytes_out = bytes;
	return rc;
}

#ifdef __cplusplus
}
#endif

#endif
