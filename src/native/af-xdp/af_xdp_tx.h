/*
 * AF_XDP sending for `capbench send` (method af-xdp-tx): one AF_XDP socket bound to queue 0 of the
 * sender's interface, with a TX ring and no RX ring, and no XDP program (transmitting needs none).
 * The units' frames are copied once, at open, into a UMEM of their own, one chunk per unit; a send
 * writes TX descriptors pointing at those chunks and kicks the kernel with sendto(). Copy mode on
 * veth (the kernel builds an skb per descriptor, in the kick); zero-copy where the driver
 * advertises it (NETDEV_XDP_ACT_XSK_ZEROCOPY), the NIC then reading the UMEM itself.
 *
 * Accounting, as the TX ring method's: a unit is handed over when its descriptor is on the TX
 * ring, and taken once the kernel gives its chunk back on the completion ring. A descriptor stays
 * ours until then, which is what bounds the ring: never more than ring_size descriptors between
 * the ring and the completions. A kick refused for room (EAGAIN, ENOBUFS) leaves the descriptors on
 * the ring, and the next kick sends them. Copy mode has one refusal that a retry cannot cover:
 * when the device drops the skb (veth: the peer's backlog is full) the kernel still completes the
 * descriptor, and sendto() says EBUSY. That one descriptor (the last the kernel took, as its
 * published consumer index says) is queued again ahead of new ones and its completion is not
 * counted as taken, so a drop is resent, never skipped.
 *
 * The same cores serve both tiers: the js tier calls cb_xsk_tx_send_one / cb_xsk_tx_send_from /
 * cb_xsk_tx_wait once per JS call, the native tier (cb_xsk_tx_loop) runs them in the one send
 * loop, cb_send_loop (send/send_loop.h). Pure C: no printing, no exiting, errors through
 * cb_error. Without libxdp's headers af_xdp_tx.c compiles to nothing and af_xdp_stubs.c to calls
 * that say so (CB_HAVE_LIBXDP, af_xdp.h).
 */
#ifndef CAPBENCH_AF_XDP_TX_H
#define CAPBENCH_AF_XDP_TX_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../send/send_loop.h"
#include "af_xdp.h"
#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most units per batch (the send methods' limit: sendmmsg's UIO_MAXIOV). */
#define CB_XSK_TX_MAX_BATCH 1024u
/* TX and completion ring entries: at least this many, and at least 4 batches, so a batch never
 * waits for the completions of the one before it (the TX ring method's sizing). */
#define CB_XSK_TX_MIN_RING 4096u

struct cb_xsk_tx_options {
	const char *netns_path; /* the socket's namespace; NULL: the caller's */
	const char *ifname;	/* bound to its queue 0 */
	const uint8_t *data;	/* the bytes the units point into */
	size_t data_len;
	const uint32_t *units; /* (offset, length) pairs into data, one per unit */
	uint32_t nunits;
	uint32_t batch; /* 1 .. CB_XSK_TX_MAX_BATCH: descriptors per batch and kick */
};

/* Cumulative since open, over both tiers. */
struct cb_xsk_tx_stats {
	uint64_t calls;		  /* kicks: sendto() */
	uint64_t waits;		  /* cb_xsk_tx_wait calls */
	uint64_t retries;	  /* kicks refused for room, batches that found no room */
	uint64_t completed;	  /* descriptors the completion ring gave back */
	uint64_t completed_bytes; /* and their frames' bytes */
	uint64_t dropped;	  /* of those, dropped by the device and queued again (EBUSY) */
	uint64_t dropped_bytes;
};

struct cb_xsk_tx_impl; /* libxdp's objects; opaque so that the binding needs no libxdp headers */

struct cb_xsk_tx {
	int fd; /* -1 once closed */
	char ifname[IF_NAMESIZE];
	bool zero_copy; /* bound with XDP_ZEROCOPY (the kernel's XDP_OPTIONS says so) */
	uint32_t batch;
	/* UMEM: chunk i holds unit i (in order of offset); MAP_PRIVATE anonymous, MADV_DONTFORK. */
	uint8_t *umem;
	size_t umem_len;
	uint32_t frame_bytes; /* 2048 or 4096 */
	/* The distinct units, sorted by offset: unit i starts at unit_off[i] in the caller's data. */
	uint32_t nunits;
	uint32_t *unit_off;
	uint32_t *unit_len;
	uint32_t hint;	   /* where the next lookup looks first: the unit after the last one */
	uint32_t *scratch; /* a batch's chunks, looked up before any descriptor is written */
	uint32_t ring_size;
	uint64_t produced; /* descriptors put on the TX ring, resends included */
	/* Chunks of dropped descriptors, to go again before new units (at most ring_size). */
	uint32_t *resend;
	uint32_t nresend;
	uint64_t backoff_ns;
	struct cb_send_cursor at; /* the native tier's place in its table */
	struct cb_xsk_tx_stats st;
	struct cb_xsk_tx_impl *impl;
};

/*
 * Copies the units into a new UMEM and, in a short-lived thread that joins netns_path, resolves
 * the interface, creates the socket and binds it (zero-copy when the driver advertises it, else
 * copy). 0, or -1 with e filled and nothing left open or mapped.
 */
int cb_xsk_tx_open(struct cb_xsk_tx *s, const struct cb_xsk_tx_options *o, struct cb_error *e);

/* Closes the socket, deletes the UMEM registration and unmaps the UMEM unless s->umem was set to
 * NULL first (a JS view of it that could not be detached). Idempotent. */
void cb_xsk_tx_close(struct cb_xsk_tx *s);

/* One descriptor for the unit (off, len) and a kick: len when it went on the TX ring, 0 when
 * the ring had no room. -1 with e filled (a unit that is not one of those given at open). */
int64_t cb_xsk_tx_send_one(struct cb_xsk_tx *s, uint32_t off, uint32_t len, struct cb_error *e);

/*
 * Descriptors for n (<= batch) pairs of table starting at pair `first` of `units`, wrapping to
 * pair 0, and one kick: units put on the TX ring (fewer, or 0, when it is short of room; dropped
 * descriptors queued again go first and are not among them). Their bytes go to *bytes. -1 with
 * e filled.
 */
int cb_xsk_tx_send_from(struct cb_xsk_tx *s, const uint32_t *table, uint32_t units, uint32_t first,
			uint32_t n, uint64_t *bytes, struct cb_error *e);

static inline int cb_xsk_tx_send_batch(struct cb_xsk_tx *s, const uint32_t *table, uint32_t n,
				       struct cb_error *e)
{
	uint64_t bytes;

	return cb_xsk_tx_send_from(s, table, n, 0, n, &bytes, e);
}

/*
 * After a call that put nothing on the ring: reaps completions and, when that frees no room,
 * kicks what the kernel left on the ring and sleeps a short back-off (never past timeout_ms). Never
 * spins. 0, or -1 with e filled.
 */
int cb_xsk_tx_wait(struct cb_xsk_tx *s, int timeout_ms, struct cb_error *e);

/* Reads the completion ring until it is empty: descriptors reaped. */
int64_t cb_xsk_tx_reap(struct cb_xsk_tx *s);

/*
 * The end of a window: sends what is still queued and waits until every descriptor has come back
 * on the completion ring, after which taken is exact. ETIMEDOUT after timeout_ms (with the
 * kernel's count of descriptors it refused as invalid); -1 with e filled.
 */
int cb_xsk_tx_finish(struct cb_xsk_tx *s, int timeout_ms, struct cb_error *e);

/* Units taken: completions, less those of dropped descriptors (sent again). */
static inline uint64_t cb_xsk_tx_taken(const struct cb_xsk_tx *s)
{
	return s->st.completed - s->st.dropped;
}

static inline uint64_t cb_xsk_tx_bytes(const struct cb_xsk_tx *s)
{
	return s->st.completed_bytes - s->st.dropped_bytes;
}

/*
 * The native tier: cb_send_loop (send/send_loop.h) with this socket's calls, batches of up to
 * s->batch descriptors and a kick, as the js tier's sendBatch.
 */
int cb_xsk_tx_loop(struct cb_xsk_tx *s, const uint32_t *table, uint32_t units,
		   const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		   struct cb_error *e);

#ifdef __cplusplus
}
#endif

#endif
