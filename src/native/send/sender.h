/*
 * The sending side of `capbench send`: one socket (AF_PACKET, UDP or TCP) opened in the sender's
 * network namespace, the units it sends (byte ranges of one area of the sender's own), and the
 * operations both tiers build on. The js tier calls cb_sender_send_one / cb_sender_send_batch /
 * cb_sender_wait once per JS call; the native tier, cb_sender_loop, runs the same calls in
 * cb_send_loop (send_loop.h). Pure C: no printing, no exiting, errors through cb_error.
 *
 * Accounting rule, as for the generator: a refusal that means "no room now" (EAGAIN, ENOBUFS, a
 * ring slot the kernel put back) is retried by the caller, never skipped, so `taken` counts only
 * what the kernel took.
 *
 * A unit is one (offset, length) pair of a uint32_t table, pointing into the area: one frame
 * (packet), one datagram or one GSO call (udp), one write (tcp).
 */
#ifndef CAPBENCH_SENDER_H
#define CAPBENCH_SENDER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "native_error.h"
#include "send_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sendmmsg() silently caps vlen at UIO_MAXIOV. */
#define CB_SEND_MAX_BATCH 1024u
/* Largest frame a TX ring slot is sized for (maxFrameBytes). */
#define CB_SEND_MAX_FRAME 65535u
/*
 * Zero-copy: reap the error queue once this many sends are outstanding. Each outstanding send
 * holds a notification skb charged to the socket's optmem (optmem_max is 128 KiB here, a few
 * hundred skbs); past it the kernel refuses MSG_ZEROCOPY sends with ENOBUFS.
 */
#define CB_SEND_ZC_REAP_AT 256u

enum cb_send_kind { CB_SEND_PACKET = 0, CB_SEND_UDP = 1, CB_SEND_TCP = 2 };

/* How units are handed over: send() each, sendmmsg() batches, TX ring slots and one kick. */
enum cb_send_call { CB_CALL_SEND = 0, CB_CALL_SENDMMSG = 1, CB_CALL_TX_RING = 2 };

/* Why the last send or sendmmsg took nothing: what cb_sender_wait waits for. (A TX ring's wait
 * looks at the ring itself.) */
enum cb_send_refusal {
	CB_REFUSED_NONE = 0,
	CB_REFUSED_AGAIN = 1,  /* EAGAIN: the send buffer is full; poll for POLLOUT */
	CB_REFUSED_NOBUFS = 2, /* ENOBUFS: device, veth backlog or optmem full; back off */
};

struct cb_sender_options {
	enum cb_send_kind kind;
	enum cb_send_call call;	  /* tcp: CB_CALL_SEND; tx-ring: packet only */
	const char *netns_path;	  /* the socket's namespace; NULL: the caller's */
	const char *ifname;	  /* packet: bound to it; udp, tcp: SO_BINDTODEVICE */
	bool qdisc_bypass;	  /* packet: PACKET_QDISC_BYPASS */
	const char *src_addr;	  /* udp, tcp: dotted IPv4, bound with port 0 */
	const char *dst_addr;	  /* udp, tcp: dotted IPv4, connected to */
	uint16_t dst_port;	  /* udp, tcp */
	bool zerocopy;		  /* udp, tcp: SO_ZEROCOPY, and MSG_ZEROCOPY on every send */
	uint32_t gso_size;	  /* udp: UDP_SEGMENT when > 0 */
	const uint8_t *data;	  /* copied into the sender's area */
	size_t data_len;	  /* 1 .. UINT32_MAX */
	uint32_t batch;		  /* 1 .. CB_SEND_MAX_BATCH: units per sendmmsg or kick */
	uint32_t max_frame_bytes; /* tx-ring: the largest frame, 14 .. CB_SEND_MAX_FRAME */
};

/* Cumulative since open, over both tiers. */
struct cb_send_stats {
	uint64_t calls;		 /* send, sendmmsg, ring kicks (not polls, not reaps) */
	uint64_t waits;		 /* cb_sender_wait calls */
	uint64_t retries;	 /* calls the kernel did not take in full for want of room */
	uint64_t taken;		 /* units taken (tx ring: slots released as sent) */
	uint64_t bytes;		 /* their payload bytes (tcp: every byte taken) */
	uint64_t zc_sends;	 /* MSG_ZEROCOPY sends that were assigned a notification id */
	uint64_t zc_completions; /* ids the error queue reported complete */
	uint64_t zc_copied;	 /* of those, in ranges marked SO_EE_CODE_ZEROCOPY_COPIED */
	uint64_t zc_reaps;	 /* passes over the error queue */
	uint64_t zc_reap_ns;	 /* CLOCK_MONOTONIC time spent in them */
	uint64_t segs_out;	 /* tcp: TCP_INFO tcpi_segs_out, read by cb_sender_stats */
};

/*
 * PACKET_TX_RING, TPACKET_V2. Global slot indices (never wrapping in practice). Invariant:
 * tail <= kpos <= head; [tail, kpos) taken by the kernel and not yet released, [kpos, head)
 * marked SEND_REQUEST but not yet taken (the kernel refused them, or no kick has run since).
 */
struct cb_send_ring {
	uint8_t *map; /* MAP_SHARED with the kernel, MADV_DONTFORK */
	size_t map_len;
	uint32_t nslots;
	uint32_t frame_size;
	uint32_t frames_per_block;
	uint32_t block_size;
	uint64_t head;
	uint64_t kpos;
	uint64_t tail;
};

struct cb_sender {
	int fd; /* -1 once closed */
	enum cb_send_kind kind;
	enum cb_send_call call;
	bool zerocopy;
	int send_flags; /* MSG_DONTWAIT, plus MSG_ZEROCOPY */
	char ifname[IFNAMSIZ];
	uint32_t batch;
	uint32_t max_frame_bytes;
	/* The units' bytes: MAP_PRIVATE anonymous, MADV_DONTFORK, written once at open. */
	uint8_t *area;
	size_t area_len; /* what the caller gave: the bound every unit is checked against */
	size_t area_map_len;
	/* sendmmsg: batch headers, each with its own iovec, refilled from the table per call. */
	struct mmsghdr *msgs;
	struct iovec *iovs;
	struct cb_send_ring ring;
	struct cb_send_cursor at; /* the native tier's place in its table */
	/* Why the last call took nothing, and the ENOBUFS back-off (reset when a send takes). */
	enum cb_send_refusal refused;
	uint64_t backoff_ns;
	struct cb_send_stats st;
};

/* Opens the socket as o says and copies the data. 0, or -1 with e filled and nothing left open. */
int cb_sender_open(struct cb_sender *s, const struct cb_sender_options *o, struct cb_error *e);

/*
 * Unmaps the ring and the area and closes the socket. Idempotent. Zero-copy sends still
 * outstanding are fine: the kernel holds its own references to the pages it pinned, so unmapping
 * the area only drops our mapping, and the pages are freed once the last skb goes.
 */
void cb_sender_close(struct cb_sender *s);

/*
 * ONE send() of area[off, off + len) with s->send_flags, after checking the range (at least one
 * byte, for a packet sender an Ethernet header; inside the area): bytes taken (tcp may take
 * part; packet and udp all or nothing), 0 when the kernel has no room (EAGAIN, ENOBUFS), -1
 * with e filled on any other error. Zero-copy: reaps the error queue after ENOBUFS and once
 * CB_SEND_ZC_REAP_AT sends are outstanding, so both tiers reap alike.
 */
ssize_t cb_sender_send_one(struct cb_sender *s, uint32_t off, uint32_t len, struct cb_error *e);

/*
 * The batch call for the first n pairs of table (n <= batch): sendmmsg, messages taken; or
 * tx-ring, frames copied into free slots and marked SEND_REQUEST before one kick, 0 when no slot
 * was free. Each pair is checked as it is used (a packet sender's tx-ring frame also against
 * max_frame_bytes). -1 with e filled on an error.
 */
int cb_sender_send_batch(struct cb_sender *s, const uint32_t *table, uint32_t n,
			 struct cb_error *e);

/*
 * cb_sender_send_batch on the n pairs starting at pair `first` of a table of `units` pairs,
 * wrapping to pair 0 after the last: what the native loop calls, with the same checks. The
 * payload bytes of what was taken (tx-ring: handed over) go to *bytes.
 */
int cb_sender_send_from(struct cb_sender *s, const uint32_t *table, uint32_t units, uint32_t first,
			uint32_t n, uint64_t *bytes, struct cb_error *e);

/*
 * The native tier: cb_send_loop (send_loop.h) with this sender's calls, a send per unit (tcp: a
 * unit may be taken in part) or batches of up to s->batch.
 */
int cb_sender_loop(struct cb_sender *s, const uint32_t *table, uint32_t units,
		   const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		   struct cb_error *e);

/*
 * After a call that took nothing, waits up to timeout_ms for room, never spinning: EAGAIN polls
 * for POLLOUT (zero-copy: also POLLERR, reaping when it comes), ENOBUFS sleeps the back-off, a
 * full ring polls for a released slot (or backs off when the kernel refused its slots). A signal
 * ends the wait early. 0, or -1 with e filled.
 */
int cb_sender_wait(struct cb_sender *s, int timeout_ms, struct cb_error *e);

/*
 * Zero-copy: reads the error queue until it is empty. Completions reaped (ids covered), or -1
 * with e filled (a queued error that is not a zero-copy notification, such as an ICMP error).
 */
int64_t cb_sender_reap(struct cb_sender *s, struct cb_error *e);

/*
 * The end of a window: zero-copy, waits until every id has completed or timeout_ms has passed
 * (what is still outstanding then is zc_sends - zc_completions, for the caller to report: see
 * zc_finish); tx-ring, kicks what the kernel has not taken and waits until every slot handed
 * over is released, after which taken is exact (ETIMEDOUT after timeout_ms). -1 with e filled.
 */
int cb_sender_finish(struct cb_sender *s, int timeout_ms, struct cb_error *e);

/* tcp: shutdown(SHUT_WR), so the receiver sees the end of the stream. Nothing for the others. */
int cb_sender_shutdown(struct cb_sender *s, struct cb_error *e);

/* Copies the counters; tcp reads TCP_INFO for segs_out. -1 with e filled. */
int cb_sender_stats(struct cb_sender *s, struct cb_send_stats *out, struct cb_error *e);

/* Whether SO_ZEROCOPY is accepted on a throwaway UDP or TCP socket here. 0, or -1 with e saying
 * why not. */
int cb_sender_probe_zerocopy(enum cb_send_kind kind, struct cb_error *e);

#ifdef __cplusplus
}
#endif

#endif
