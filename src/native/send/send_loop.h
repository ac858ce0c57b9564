/*
 * The one native send loop: every send method's native tier runs inside it, the send-side twin of
 * cb_slice_loop (common/slice_loop.h). It makes exactly the calls the js tier makes from
 * TypeScript (jsSlice in src/senders/sender-session.ts): a send of the next unit, or a batch from
 * it, and a wait for room after a call that took nothing, so the gap between the tiers is the
 * runtime's cost alone. It owns the table's round-robin, a partial unit, the slice's deadline and
 * the count; a mechanism supplies only its step (send a unit, send a batch, wait for room).
 *
 * Inline, with the step table a constant at each call site, so the compiler can call the step
 * directly: the loop must cost a method nothing that its own loop would not.
 */
#ifndef CAPBENCH_SEND_LOOP_H
#define CAPBENCH_SEND_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "monotonic.h"
#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A mechanism's native step: what the js tier's send, sendBatch and wait call, and how a unit
 * may be taken. */
struct cb_send_step {
	/*
	 * ONE unit, area[off, off + len): bytes taken, 0 when there is no room now, -1 with e set.
	 * NULL for a mechanism the native tier only runs in batches (AF_XDP's TX ring).
	 */
	ssize_t (*send_one)(void *self, uint32_t off, uint32_t len, struct cb_error *e);
	/*
	 * n (1 .. the handle's batch) pairs of a table of `units`, from pair `first`, wrapping from
	 * the last pair to pair 0: units taken (or handed over: a ring's), always the first ones; 0
	 * when there is no room now; -1 with e set. Their payload bytes go to *bytes. (The js
	 * tier's sendBatch is the same call with first 0, on a table it wrapped itself.)
	 */
	int (*send_from)(void *self, const uint32_t *table, uint32_t units, uint32_t first,
			 uint32_t n, uint64_t *bytes, struct cb_error *e);
	/* After a call that took nothing: waits for room up to timeout_ms, never spinning. 0, or -1. */
	int (*wait)(void *self, int timeout_ms, struct cb_error *e);
	/*
	 * send_one may take part of a unit (a TCP stream): the rest goes next, from where it stopped
	 * (also in the next slice), and the unit counts once whole, as the js tier does. Without it
	 * a unit (a datagram, a frame) is taken whole or not at all.
	 */
	bool partial;
};

/*
 * Where the kernel has no room and nothing says when it will (ENOBUFS from a device's or a veth
 * peer's queue, which is not ours to poll; AF_XDP completions in copy mode): sleeps *backoff_ns,
 * never past timeout_ms, and when `grow`, doubles it up to CB_SEND_BACKOFF_MAX_NS for the next
 * time. A mechanism resets it to CB_SEND_BACKOFF_MIN_NS when a send takes.
 */
#define CB_SEND_BACKOFF_MIN_NS 20000ull
#define CB_SEND_BACKOFF_MAX_NS 1000000ull

static inline void cb_send_back_off(uint64_t *backoff_ns, int timeout_ms, bool grow)
{
	uint64_t cap = (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;

	cb_sleep_ns(*backoff_ns < cap ? *backoff_ns : cap);
	if (grow)
		*backoff_ns = *backoff_ns * 2 > CB_SEND_BACKOFF_MAX_NS ? CB_SEND_BACKOFF_MAX_NS
								       : *backoff_ns * 2;
}

/* The native tier's place in its table: in the handle, from one call to the next. */
struct cb_send_cursor {
	uint32_t pos;	  /* the next unit */
	uint32_t partial; /* bytes of it already taken (a step with `partial`) */
};

/* What a handle gives the loop, as cb_waitable does cb_slice_loop. */
struct cb_send_handle {
	struct cb_send_cursor *at;
	bool per_unit;	    /* send_one per unit (the js tier's call 'send'), else send_from */
	uint32_t batch;	    /* the most units one send_from is asked for */
	const char *ifname; /* for errors */
};

/* One call of the native tier, as JS makes it: runNative in send/sender_binding.h. */
struct cb_send_slice {
	uint64_t max_units; /* stop once this many units have been taken */
	uint32_t slice_ms;  /* return after this long, to let JS see signals and its limits */
};

/*
 * Runs `step` on self over the first `units` pairs of table, round-robin from where the previous
 * call stopped, until slice->max_units units were taken or slice_ms has passed. After a call that
 * took nothing it waits for room, never past the slice. Units taken (a ring: handed over) and
 * payload bytes go to the outputs. 0, or -1 with e set (what was taken until then is in the
 * outputs and the handle's stats).
 *
 * The clock is read once per call: beside a system call of a microsecond or more, a vDSO clock
 * read costs nothing worth saving.
 */
static inline int cb_send_loop(const struct cb_send_step *step, void *self, struct cb_send_handle h,
			       const uint32_t *table, uint32_t units,
			       const struct cb_send_slice *slice, uint64_t *units_out,
			       uint64_t *bytes_out, struct cb_error *e)
{
	struct cb_send_cursor *at = h.at;
	const uint64_t max_units = slice->max_units;
	uint64_t now = cb_now_ns();
	const uint64_t deadline = now + (uint64_t)slice->slice_ms * 1000000u;
	uint64_t got = 0, bytes = 0;
	int rc = 0;

	*units_out = 0;
	*bytes_out = 0;
	if (units == 0)
		return cb_fail(e, EINVAL, "send loop on %s: the table has no units", h.ifname);
	if (at->pos >= units) {
		/* A shorter table than last time: start it over. */
		at->pos = 0;
		at->partial = 0;
	}
	if (at->partial >= table[2 * (size_t)at->pos + 1])
		at->partial = 0;
	while (got < max_units) {
		uint64_t took = 0;
		bool empty; /* the kernel took nothing: wait for room */

		if (h.per_unit) {
			uint32_t off = table[2 * (size_t)at->pos] + at->partial;
			uint32_t len = table[2 * (size_t)at->pos + 1] - at->partial;
			ssize_t n = step->send_one(self, off, len, e);

			if (n < 0) {
				rc = -1;
				break;
			}
			bytes += (uint64_t)n;
			empty = n == 0;
			if ((size_t)n == len || (n > 0 && !step->partial)) {
				at->partial = 0;
				took = 1;
			} else {
				/* Taken in part: the rest goes next, as in the js tier. */
				at->partial += (uint32_t)n;
			}
		} else {
			uint64_t rest = max_units - got, b = 0;
			uint32_t want = rest < h.batch ? (uint32_t)rest : h.batch;
			int n = step->send_from(self, table, units, at->pos, want, &b, e);

			if (n < 0) {
				rc = -1;
				break;
			}
			bytes += b;
			took = (uint64_t)n;
			empty = n == 0;
		}
		at->pos = (uint32_t)(((uint64_t)at->pos + took) % units);
		got += took;
		now = cb_now_ns();
		if (now >= deadline)
			break;
		if (empty && step->wait(self, cb_ms_left(now, deadline), e) < 0) {
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
