/*
 * AF_PACKET SOCK_RAW capture: one recvmsg() per frame, recvmmsg() batches, and a native loop that
 * runs the C counter. Frames are handed over in wire layout: an 802.1Q tag the kernel moved into
 * metadata is put back, which is why every receive slot starts CB_PSOCK_PREFIX bytes early.
 */
#ifndef CAPBENCH_PACKET_SOCKET_H
#define CAPBENCH_PACKET_SOCKET_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "counter.h"
#include "native_error.h"
#include "slice_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room in front of each frame for the 4-byte VLAN tag the kernel stripped. */
#define CB_PSOCK_PREFIX 4u
/* Smallest receive slot: a minimum Ethernet frame plus the prefix. */
#define CB_PSOCK_MIN_SLOT (64u + CB_PSOCK_PREFIX)
/* recvmmsg() silently caps vlen at UIO_MAXIOV. */
#define CB_PSOCK_MAX_BATCH 1024u
/* PACKET_FANOUT ids are 16 bits; 0 is taken to mean "a new group" (see struct cb_fanout). */
#define CB_FANOUT_MAX_GROUP 65535u

/*
 * A PACKET_FANOUT group to join once the socket is bound: the kernel then hands each frame to one
 * member only. group 0 asks the kernel for a new group with an id nobody in this network
 * namespace uses; any other id joins that group, creating it if it does not exist. type is
 * PACKET_FANOUT_HASH, _LB, _CPU or _QM; no ROLLOVER flag, so a frame goes where the mode says
 * even when that member is full (it is then a drop on that member's statistics).
 */
struct cb_fanout {
	int enabled;
	int type;
	uint32_t group;
};

/* "hash", "lb", "cpu", "qm" to PACKET_FANOUT_*; -1 for any other name. */
int cb_fanout_type(const char *mode, int *type);
const char *cb_fanout_mode_name(int type);

/*
 * A socket bound to an interface takes every frame until it joins its fanout group, so a reader
 * opened while traffic flows (--iface) would count some frames twice: a socket that will join
 * gets a filter refusing everything before it is bound, and cb_fanout_join removes it.
 */
int cb_fanout_mute(int fd, const char *ifname, struct cb_error *e);

/*
 * Joins fd (bound, its interface up, muted) to f's group, writes the group's id to *group and
 * lifts the mute. On a failure the caller closes the socket.
 */
int cb_fanout_join(int fd, const char *ifname, const struct cb_fanout *f, uint32_t *group,
		   struct cb_error *e);

/*
 * The kernel numbers new groups from one counter starting at 0 at boot, so the first group made
 * after a boot (and one every 65536 after) gets id 0, which here means "no group" and could not
 * be joined by id. An open that was given 0 closes the socket (the group goes with it) and opens
 * again: the counter has moved on. CB_FANOUT_OPEN_TRIES bounds that.
 */
#define CB_FANOUT_OPEN_TRIES 2
int cb_fanout_got_id_zero(const struct cb_fanout *f, uint32_t group);
/* The error once CB_FANOUT_OPEN_TRIES opens were all given id 0. */
int cb_fanout_id_zero_error(const char *ifname, const struct cb_fanout *f, struct cb_error *e);

/* recvmmsg() headers, iovecs and control space, reused across calls. */
struct cb_mmsg_scratch {
	struct mmsghdr *msgs;
	struct iovec *iovs;
	uint8_t *ctrl;
	uint32_t capacity;
};

struct cb_psock {
	int fd;
	int ifindex;
	char ifname[IF_NAMESIZE];
	int rcvbuf; /* SO_RCVBUF as read back after open */
	uint32_t mtu;
	uint32_t fanout_group; /* PACKET_FANOUT id, 0 when in no group */
	uint64_t packets;      /* PACKET_STATISTICS accumulated: the kernel resets on each read */
	uint64_t drops;
	struct cb_mmsg_scratch scratch;
	uint8_t *consume_buf; /* the native loop's own slots */
	uint32_t consume_slot;
	uint32_t consume_frames;
	uint32_t consume_batch; /* 1: recvmsg() per frame; more: recvmmsg() of up to that many */
	struct cb_calls calls;	/* recvmsg()/recvmmsg() and poll() calls, both tiers */
};

/*
 * Opens, configures, binds and, when fanout->enabled, joins the fanout group; rcvbuf_bytes 0
 * keeps the default; fanout may be NULL. On failure s->fd is -1.
 */
int cb_psock_open(struct cb_psock *s, const char *ifname, int rcvbuf_bytes,
		  const struct cb_fanout *fanout, struct cb_error *e);

/*
 * One frame into buf (buflen >= CB_PSOCK_MIN_SLOT); table[0] = offset, table[1] = length.
 * Waits up to timeout_ms in poll() when nothing is queued. Returns 1, 0 when none came, or -1.
 */
int cb_psock_recv_one(struct cb_psock *s, uint8_t *buf, size_t buflen, uint32_t *table,
		      int timeout_ms, struct cb_error *e);

/*
 * Up to max_frames frames in one recvmmsg(); slot i starts at i * (buflen / max_frames) and
 * table[2i], table[2i+1] describe frame i. Returns the number received (0 after timeout_ms) or -1.
 */
int cb_psock_recv_batch(struct cb_psock *s, uint8_t *buf, size_t buflen, uint32_t max_frames,
			uint32_t *table, int timeout_ms, struct cb_error *e);

/*
 * The native tier: receives (batch 1: recvmsg per frame, > 1: recvmmsg of that many) and counts
 * for one slice (slice_loop.h). Adds to *out.
 */
int cb_psock_consume(struct cb_psock *s, const struct cb_slice *slice, uint32_t batch,
		     struct cb_count *out, struct cb_error *e);

/*
 * A frame received CB_PSOCK_PREFIX bytes into its slot, with its recvmsg() control messages in mh
 * (PACKET_AUXDATA): if the kernel stripped a VLAN tag, slides the MAC addresses into the prefix
 * and writes the tag after them, as it was on the wire. Writes (offset within the slot, length)
 * to pair. Also io-uring's, whose multishot recvmsg hands over the same control messages.
 */
void cb_psock_place_frame(uint8_t *slot, uint32_t len, const struct msghdr *mh, uint32_t *pair);

/* Reads PACKET_STATISTICS into the running totals and returns them. */
int cb_psock_stats(struct cb_psock *s, uint64_t *packets, uint64_t *drops, struct cb_error *e);

/* Closes the socket and frees buffers; safe to call again. */
void cb_psock_close(struct cb_psock *s);

#ifdef __cplusplus
}
#endif

#endif
