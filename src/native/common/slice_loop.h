/*
 * The one native receive loop: every method's native tier runs inside it, so that the rows differ
 * only in how a mechanism hands over frames. It is the C twin of drive() in core/consume-loop.ts:
 * it owns the slice's deadline, the wait for readability, the idle rule and when to read the
 * clock; a method supplies only its step (receive what is ready, count it, give it back).
 *
 * Inline, with the step table a constant at each call site, so the compiler can call the step
 * directly: the loop must cost a method nothing that its own loop would not.
 */
#ifndef CAPBENCH_SLICE_LOOP_H
#define CAPBENCH_SLICE_LOOP_H

#include <stdint.h>

#include "counter.h"
#include "monotonic.h"
#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What a handle has asked of the kernel, in both tiers: its system calls (receive calls, waits,
 * wake-up kicks; for libpcap, its calls into libpcap) and the waits that woke to frames. They do
 * not drift with the machine's speed, and explain a cost: `capbench run --explain`.
 */
struct cb_calls {
	uint64_t syscalls;
	uint64_t wakeups;
};

/* What cb_wait_readable saw: nothing (a timeout, or a signal JS should see), frames, a hang-up. */
enum cb_wait { CB_WAIT_NOTHING = 0, CB_WAIT_READABLE = 1, CB_WAIT_HANGUP = 2 };

/*
 * poll() fd for POLLIN for up to timeout_ms. A signal counts as nothing yet, so that JS gets to
 * see it. POLLERR or POLLHUP without POLLIN is a hang-up: for a socket the next receive reports
 * the error; a method whose descriptor can be unbound under it (fastnet) says why. -1 with e set
 * when poll() itself fails, naming what was waited on ("AF_PACKET socket") and the interface.
 * Counted in calls: the poll, and a wake-up when it found frames.
 */
int cb_wait_readable(int fd, int timeout_ms, const char *kind, const char *ifname,
		     struct cb_calls *calls, struct cb_error *e);

/* A method's native step, and the few ways its mechanism asks the loop to differ. */
struct cb_step {
	/*
	 * Receives up to `want` frames without waiting, runs the counter over them into `out` and
	 * gives them back to the kernel. Frames received (0: none ready), or -1 with e set. A
	 * mechanism that hands frames over in bigger units (a TPACKET_V3 block) may return more.
	 */
	int (*take)(void *self, uint32_t want, struct cb_count *out, struct cb_error *e);
	/* What the loop waits on when a take comes back empty, for errors: "AF_PACKET socket". */
	const char *kind;
	/*
	 * Optional, before each wait: af-xdp wakes the kernel to refill its fill ring, or the
	 * kernel may never have a frame to hand over.
	 */
	void (*before_wait)(void *self);
	/*
	 * Optional, after a wait that timed out: whether frames are ready anyway. fastnet's ring is
	 * written by the module (or in ZC by the NIC), and a slot can turn ready without a wake-up
	 * the poll saw; a socket has no such state to look at.
	 */
	int (*ready)(const void *self);
	/* Optional, on a hang-up: why (always -1, e set). Absent: the next take reports it. */
	int (*hangup)(void *self, struct cb_error *e);
	/*
	 * Optional: the wait itself, for a mechanism whose frames poll() cannot see coming (an
	 * io_uring that posts completions only when asked, in io_uring_enter). An enum cb_wait, or
	 * -1 with e set; counted in the handle's calls as cb_wait_readable counts its own. Absent:
	 * cb_wait_readable on the handle's descriptor.
	 */
	int (*wait)(void *self, int timeout_ms, struct cb_error *e);
	/* Frames taken between clock reads: one of the two below. */
	uint32_t frames_per_clock;
};

/*
 * A method that makes a system call per take reads the clock after each: beside the call it
 * costs nothing. One that takes frames from memory it shares with the kernel, at a few dozen
 * cycles a frame, reads it once per this many: a read per 64-frame batch would be a visible share
 * of the batch (bench/README.md, "Figures behind design choices in the code"), and even a slow
 * frame times this many is far shorter than a slice (SLICE_MS in core/consume-loop.ts).
 */
#define CB_FRAMES_PER_CLOCK_SYSCALL 1u
#define CB_FRAMES_PER_CLOCK_RING 1024u

/* One call of the native tier, as JS makes it: see consumeNative in native/binding.ts. */
struct cb_slice {
	uint64_t max_frames; /* stop once this many have been counted */
	uint32_t slice_ms;   /* return after this long, to let JS see signals and its limits */
	uint32_t idle_ms;    /* return after this long with nothing arriving */
};

/* What a handle gives the loop: the descriptor to wait on, its name in errors, its call counts. */
struct cb_waitable {
	int fd;
	const char *ifname;
	struct cb_calls *calls;
};

/*
 * Runs `step` on self until the slice's frames have been counted, its time has passed, or
 * nothing has arrived for idle_ms since the last frame (or since the start), waiting on the
 * handle's descriptor whenever a take comes back empty. A wait never outlasts the slice. `batch`
 * is the most one take is asked for. 0, or -1 with e set.
 */
static inline int cb_slice_loop(const struct cb_step *step, void *self, struct cb_waitable on,
				uint32_t batch, const struct cb_slice *slice, struct cb_count *out,
				struct cb_error *e)
{
	const uint64_t max_frames = slice->max_frames;
	uint64_t now = cb_now_ns();
	const uint64_t deadline = now + (uint64_t)slice->slice_ms * 1000000u;
	const uint64_t idle_ns = (uint64_t)slice->idle_ms * 1000000u;
	uint64_t idle_until = now + idle_ns, got = 0;
	uint32_t unclocked = 0;

	while (got < max_frames) {
		uint64_t rest = max_frames - got;
		int n = step->take(self, rest < batch ? (uint32_t)rest : batch, out, e);

		if (n < 0)
			return -1;
		if (n > 0) {
			out->takes++;
			got += (uint64_t)n;
			unclocked += (uint32_t)n;
			if (unclocked < step->frames_per_clock)
				continue;
		}
		now = cb_now_ns();
		if (unclocked > 0) {
			/* Frames since the last read: the last of them arrived about now. */
			unclocked = 0;
			idle_until = now + idle_ns;
		}
		if (now >= deadline)
			break;
		if (n > 0)
			continue;
		uint64_t until = idle_until < deadline ? idle_until : deadline;
		if (now >= until)
			break;
		if (step->before_wait)
			step->before_wait(self);
		int ms = cb_ms_left(now, until);
		int w = step->wait
				? step->wait(self, ms, e)
				: cb_wait_readable(on.fd, ms, step->kind, on.ifname, on.calls, e);
		if (w < 0)
			return -1;
		if (w == CB_WAIT_HANGUP && step->hangup)
			return step->hangup(self, e);
		if (w == CB_WAIT_NOTHING && !(step->ready && step->ready(self)))
			break; /* idle, end of slice, or a signal JS should see */
	}
	return 0;
}

#ifdef __cplusplus
}
#endif

#endif
