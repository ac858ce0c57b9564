/*
 * io-uring: an AF_PACKET socket read through io_uring, one multishot recvmsg whose frames land in
 * a ring of provided buffers. The reader never makes a receive call: it walks the completion
 * queue in memory it shares with the kernel, counts each frame where the kernel put it and hands
 * its buffer back. The ring defers the kernel's part (IORING_SETUP_DEFER_TASKRUN): what arrives
 * is received into buffers when the reader enters the ring, once the completion queue is empty,
 * for as many frames as it wants at once, or to wait. The other system call is a new multishot
 * when the kernel ended the last (it ends one when every buffer is in use).
 *
 * The ring is set up with the raw system calls and the kernel's own header (linux/io_uring.h),
 * not liburing: Debian 12's liburing 2.3 would add a package and a library to link for about a
 * hundred lines of setup, and its buffer-ring helpers are inline code over the same structures.
 * Compiled in only where that header has multishot receive (Linux 6.0's uapi); elsewhere open
 * fails with ENOSYS and says so.
 */
#ifndef CAPBENCH_IO_URING_RECV_H
#define CAPBENCH_IO_URING_RECV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../af-packet/packet_socket.h"
#include "counter.h"
#include "native_error.h"
#include "slice_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Provided buffers, a power of two (the kernel's buffer ring needs one), one frame each. */
#define CB_URING_BUFFERS 4096u
/* The most frames one take hands over: a js step's table holds this many pairs. */
#define CB_URING_MAX_TAKE 1024u

struct cb_uring_options {
	const char *ifname;
	int rcvbuf_bytes;		/* the socket's queue: 0 keeps the default */
	const struct cb_fanout *fanout; /* NULL or disabled: no group */
};

struct cb_uring {
	struct cb_psock sock; /* the socket: open, fanout, PACKET_STATISTICS */
	int ring_fd;
	uint8_t *rings; /* submission and completion queue heads, one mapping */
	size_t rings_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	uint32_t *sq_tail, *sq_array, sq_mask;
	uint32_t *cq_head, *cq_tail, cq_mask;
	struct io_uring_cqe *cqes;
	struct io_uring_buf_ring *bufring; /* where buffers are handed back to the kernel */
	size_t bufring_len;
	uint16_t buf_tail; /* the next free entry of bufring, published with a release store */
	uint8_t *buffers;  /* CB_URING_BUFFERS slots of `slot` bytes */
	size_t buffers_len;
	uint32_t slot;
	struct msghdr msg; /* what the multishot asks for: no address, room for auxdata */
	int armed;	   /* a multishot recvmsg is in flight */
	uint16_t held[CB_URING_MAX_TAKE]; /* the js tier's buffers, given back at its next call */
	uint32_t nheld;
	struct cb_calls calls;
};

/* Whether io_uring can be set up here: 0, or -1 with e saying why (disabled, too old, no headers). */
int cb_uring_probe(struct cb_error *e);

/* Opens the socket (as socket-mmsg's) and the ring, registers the buffers. On failure closed. */
int cb_uring_open(struct cb_uring *u, const struct cb_uring_options *o, struct cb_error *e);

/*
 * The js tier: gives back the buffers of the previous call, then takes up to max frames (at most
 * CB_URING_MAX_TAKE), waiting up to timeout_ms when none is ready. table[2i], table[2i+1]: frame
 * i's offset in u->buffers and its length; the frames stay put until the next call or close.
 * Frames taken, or -1.
 */
int cb_uring_next(struct cb_uring *u, uint32_t max, uint32_t *table, int timeout_ms,
		  struct cb_error *e);

/* The native tier: takes, counts and gives back for one slice (slice_loop.h). Adds to *out. */
int cb_uring_consume(struct cb_uring *u, const struct cb_slice *slice, struct cb_count *out,
		     struct cb_error *e);

/* PACKET_STATISTICS, accumulated since open. */
int cb_uring_stats(struct cb_uring *u, uint64_t *packets, uint64_t *drops, struct cb_error *e);

/* Closes the ring (which ends the multishot), the socket, and unmaps; safe to call again. */
void cb_uring_close(struct cb_uring *u);

#ifdef __cplusplus
}
#endif

#endif
