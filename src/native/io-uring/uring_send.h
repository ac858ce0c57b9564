/*
 * io-uring-send and io-uring-send-zc: udp-send's connected UDP socket in the sender's namespace
 * (cb_sender_open opens it and owns the units' area), written through an io_uring (uring_ring.h)
 * instead of send() calls. Each unit is one IORING_OP_SEND entry, or IORING_OP_SEND_ZC, which
 * hands the kernel the area's pages rather than a copy; a batch of entries is submitted and
 * waited for in one io_uring_enter. Both tiers make the same calls: the js tier one per JS call
 * (cb_uring_send_one, cb_uring_send_batch, cb_uring_send_wait), the native tier
 * (cb_uring_send_loop) in the one send loop, cb_send_loop (send/send_loop.h).
 *
 * Accounting, as for every sender (sender.h): a send refused for room (EAGAIN, ENOBUFS) is sent
 * again by the caller, never skipped, so `taken` counts only units whose completion says the
 * whole datagram went. A batch's entries are linked (IOSQE_IO_LINK): the kernel runs them in
 * order and cancels the rest of the batch at the first that fails, so what was taken is always
 * the batch's first units, and the caller's next call starts at the refused one.
 *
 * Zero-copy: every SEND_ZC posts its completion with IORING_CQE_F_MORE, then, once the kernel
 * has let go of the pages, a notification (IORING_CQE_F_NOTIF) whose res carries
 * IORING_NOTIF_USAGE_ZC_COPIED when it copied after all. The sender's stats count them as
 * MSG_ZEROCOPY's are counted (zc_sends, zc_completions, zc_copied): sends whose completion said
 * taken, and their notifications. A refused send's notification is waited for, not counted.
 * Notifications come from the completion queue, read in memory with every call: zc_reaps and
 * zc_reap_ns count only the passes made for notifications alone (to free a slot, in
 * cb_uring_send_reap and while finishing).
 *
 * Pure C: no printing, no exiting, errors through cb_error.
 */
#ifndef CAPBENCH_URING_SEND_H
#define CAPBENCH_URING_SEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../send/send_loop.h"
#include "../send/sender.h"
#include "native_error.h"
#include "uring_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Zero-copy sends whose notification may be outstanding at once: each holds a slot, named in
 * its entry's user_data, until its notification arrives. Past it a call takes nothing and the
 * caller waits for notifications (the pages are in the veth backlog or a socket queue).
 */
#define CB_URING_SEND_SLOTS 4096u
/* A submitted batch whose completions do not all arrive in this long is an error, not a wait:
 * MSG_DONTWAIT makes every send complete at once, taken or refused. */
#define CB_URING_SEND_STUCK_MS 2000

struct cb_uring_sender {
	struct cb_sender s; /* the socket, the area, the stats, the refusal and back-off */
	struct cb_ring ring;
	enum cb_send_call call; /* CB_CALL_SEND: one entry per enter; CB_CALL_SENDMMSG: batches */
	bool zc;		/* IORING_OP_SEND_ZC */
	uint32_t gen;		/* the current batch, in its entries' user_data */
	int32_t *res;		/* per entry of the current batch: its completion's res */
	uint32_t results;	/* completions of the current batch seen */
	/* Zero-copy. */
	uint8_t *slot_state;  /* CB_URING_SEND_SLOTS */
	uint16_t *free_slots; /* a stack of the free ones */
	uint32_t nfree;
	uint64_t owed;	   /* notifications still to come, taken or refused */
	bool out_of_slots; /* why the last call took nothing: wait for notifications */
};

/*
 * Whether io_uring can run here (cb_ring_probe's wording); zc also: whether the kernel has
 * IORING_OP_SEND_ZC and UDP zero-copy (SO_ZEROCOPY accepted). 0, or -1 with e saying why not.
 */
int cb_uring_send_probe(bool zc, struct cb_error *e);

/*
 * Opens the UDP socket as o says (kind udp; o->call: CB_CALL_SEND or CB_CALL_SENDMMSG, batches
 * of o->batch entries; o->zerocopy: SEND_ZC) and a ring for it. 0, or -1 with e filled and
 * nothing left open.
 */
int cb_uring_send_open(struct cb_uring_sender *u, const struct cb_sender_options *o,
		       struct cb_error *e);

/* Closes the ring, then the socket and the area (cb_sender_close says why that is safe with
 * zero-copy sends outstanding). Idempotent. */
void cb_uring_send_close(struct cb_uring_sender *u);

/* One SEND entry for area[off, off + len), one io_uring_enter: len, 0 when refused for room,
 * -1 with e filled. */
ssize_t cb_uring_send_one(struct cb_uring_sender *u, uint32_t off, uint32_t len,
			  struct cb_error *e);

/* The first n pairs of table (n <= batch) as n linked entries, one io_uring_enter: units
 * taken, the first ones in order; 0 when the first was refused for room; -1 with e filled. */
int cb_uring_send_batch(struct cb_uring_sender *u, const uint32_t *table, uint32_t n,
			struct cb_error *e);

/* cb_uring_send_batch on the n pairs from pair `first` of a table of `units`, wrapping. */
int cb_uring_send_from(struct cb_uring_sender *u, const uint32_t *table, uint32_t units,
		       uint32_t first, uint32_t n, uint64_t *bytes, struct cb_error *e);

/*
 * After a call that took nothing, waits up to timeout_ms: for a notification to free a slot, or
 * as cb_sender_wait does (POLLOUT after EAGAIN, the back-off after ENOBUFS). 0, or -1.
 */
int cb_uring_send_wait(struct cb_uring_sender *u, int timeout_ms, struct cb_error *e);

/* The native tier: cb_send_loop (send_loop.h) with this sender's calls, an entry per enter or
 * batches of up to batch entries. */
int cb_uring_send_loop(struct cb_uring_sender *u, const uint32_t *table, uint32_t units,
		       const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		       struct cb_error *e);

/* Zero-copy: has the kernel post what notifications it can and reads them. Notifications of
 * taken sends read, or -1 with e filled; 0 for plain sends. */
int64_t cb_uring_send_reap(struct cb_uring_sender *u, struct cb_error *e);

/* Zero-copy: waits until every notification has arrived, after which the stats are exact.
 * ETIMEDOUT after timeout_ms. Nothing for plain sends. */
int cb_uring_send_finish(struct cb_uring_sender *u, int timeout_ms, struct cb_error *e);

#ifdef __cplusplus
}
#endif

#endif
