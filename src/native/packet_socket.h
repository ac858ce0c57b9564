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

#ifdef __cplusplus
extern "C" {
#endif

/* Room in front of each frame for the 4-byte VLAN tag the kernel stripped. */
#define CB_PSOCK_PREFIX 4u
/* Smallest receive slot: a minimum Ethernet frame plus the prefix. */
#define CB_PSOCK_MIN_SLOT (64u + CB_PSOCK_PREFIX)
/* recvmmsg() silently caps vlen at UIO_MAXIOV. */
#define CB_PSOCK_MAX_BATCH 1024u

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
	uint64_t packets; /* PACKET_STATISTICS accumulated: the kernel resets on each read */
	uint64_t drops;
	struct cb_mmsg_scratch scratch;
	uint8_t *consume_buf; /* the native loop's own slots */
	uint32_t consume_slot;
	uint32_t consume_frames;
};

/* Opens, configures and binds; rcvbuf_bytes 0 keeps the default. On failure s->fd is -1. */
int cb_psock_open(struct cb_psock *s, const char *ifname, int rcvbuf_bytes, struct cb_error *e);

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
 * until max_frames, slice_ms elapsed, or idle_ms with nothing queued. Adds to *out.
 */
int cb_psock_consume(struct cb_psock *s, uint64_t max_frames, uint32_t batch, uint32_t slice_ms,
		     uint32_t idle_ms, struct cb_count *out, struct cb_error *e);

/* Reads PACKET_STATISTICS into the running totals and returns them. */
int cb_psock_stats(struct cb_psock *s, uint64_t *packets, uint64_t *drops, struct cb_error *e);

/* Closes the socket and frees buffers; safe to call again. */
void cb_psock_close(struct cb_psock *s);

#ifdef __cplusplus
}
#endif

#endif
