/*
 * One io_uring, set up with the raw system calls and the kernel's own header (linux/io_uring.h),
 * not liburing (see io_uring_recv.h for why): what the io-uring capture method and the io-uring
 * send methods share. Every ring here is IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN:
 * the kernel finishes requests only when the one thread that made the ring enters it, rather
 * than interrupting that thread with task work whenever something completes; a session's one
 * thread is that thread. Pure C: no printing, no exiting, errors through cb_error.
 *
 * Compiled in where the header has DEFER_TASKRUN (Linux 6.1's uapi); elsewhere every call fails
 * with ENOSYS and says so.
 */
#ifndef CAPBENCH_URING_RING_H
#define CAPBENCH_URING_RING_H

#include <stddef.h>
#include <stdint.h>

#include "native_error.h"

/* The bindings (C++) only hold a ring: the kernel's structures stay out of them. */
#if !defined(__cplusplus) && __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#include <string.h>
#endif

#if defined(IORING_SETUP_DEFER_TASKRUN) && defined(IORING_ENTER_EXT_ARG)
#define CB_RING_SUPPORTED 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct io_uring_sqe;
struct io_uring_cqe;

struct cb_ring {
	int fd;		/* -1 when closed */
	uint8_t *rings; /* submission and completion queue heads, one mapping */
	size_t rings_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	uint32_t *sq_tail, *sq_array, sq_mask, sq_entries;
	uint32_t *cq_head, *cq_tail, cq_mask;
	struct io_uring_cqe *cqes;
};

/*
 * Whether io_uring can be set up here: 0, or -1 with e saying why, in words a user can act on
 * ("io_uring_setup (io_uring is disabled: sysctl kernel.io_uring_disabled)").
 */
int cb_ring_probe(struct cb_error *e);

/*
 * Whether this kernel's io_uring has opcode op (IORING_REGISTER_PROBE on a throwaway ring): 0,
 * or -1 with e saying why not; `name` names the opcode in the message.
 */
int cb_ring_probe_op(unsigned op, const char *name, struct cb_error *e);

/*
 * Sets up a ring of at least sq_entries submissions and cq_entries completions (the kernel
 * rounds both up to powers of two) and maps its queues. `what` names the ring's user in errors
 * ("veth0"). 0, or -1 with e filled and nothing left open.
 */
int cb_ring_open(struct cb_ring *r, unsigned sq_entries, unsigned cq_entries, const char *what,
		 struct cb_error *e);

/* Unmaps the queues and closes the ring, which cancels what is in flight. Idempotent. */
void cb_ring_close(struct cb_ring *r);

/* io_uring_register, as the system call returns. */
int cb_ring_register(int fd, unsigned op, void *arg, unsigned nr);

/* io_uring_enter that submits n entries and waits for nothing: as the system call returns. */
int cb_ring_submit(int fd, unsigned n);

/*
 * io_uring_enter that submits to_submit entries, runs the deferred task work, then waits until
 * min_complete completions are in the queue or timeout_ms has passed (< 0: no limit). The
 * entries submitted, or -1 with errno as the system call left it (ETIME: the timeout).
 */
int cb_ring_enter(int fd, unsigned to_submit, unsigned min_complete, int timeout_ms);

#ifdef CB_RING_SUPPORTED
/*
 * The submission entry k places past the tail, cleared: a batch fills entries 0..n-1 and
 * publishes them at once with cb_ring_publish. Only this thread writes the tail, so it reads it
 * plainly; the caller keeps n within the ring's sq_entries.
 */
static inline struct io_uring_sqe *cb_ring_sqe(struct cb_ring *r, uint32_t k)
{
	uint32_t idx = (*r->sq_tail + k) & r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	r->sq_array[idx] = idx;
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

/* Release: the kernel must see the entries' contents before it sees the new tail. */
static inline void cb_ring_publish(struct cb_ring *r, uint32_t n)
{
	__atomic_store_n(r->sq_tail, *r->sq_tail + n, __ATOMIC_RELEASE);
}
#endif

#ifdef __cplusplus
}
#endif

#endif
