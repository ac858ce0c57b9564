#include "io_uring_recv.h"
#include "uring_ring.h"

#include <errno.h>
#include <string.h>

#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#endif

#ifdef IORING_RECV_MULTISHOT

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define KIND "io_uring"
/* The one buffer group this ring registers. */
#define BGID 0
/* Control space: auxdata (the stripped VLAN tag), and 8 spare bytes the frame's 4-byte tag
 * prefix may take once auxdata has been read (cb_psock_place_frame). */
#define CTRL_BYTES (CMSG_SPACE(sizeof(struct tpacket_auxdata)) + 8u)
/* A buffer: the kernel's recvmsg_out header, the control space, then the frame. */
#define PAYLOAD_AT (sizeof(struct io_uring_recvmsg_out) + CTRL_BYTES)

int cb_uring_probe(struct cb_error *e)
{
	return cb_ring_probe(e);
}

/* ---- the ring ----------------------------------------------------------------------------- */

/*
 * The ring's fields live in struct cb_uring itself (io_uring_recv.h, shared with the binding),
 * so the ring is set up in a struct cb_ring and its fields copied over; ring_of() is the reverse,
 * for closing.
 */
static struct cb_ring ring_of(const struct cb_uring *u)
{
	return (struct cb_ring){ .fd = u->ring_fd,
				 .rings = u->rings,
				 .rings_len = u->rings_len,
				 .sqes = u->sqes,
				 .sqes_len = u->sqes_len,
				 .sq_tail = u->sq_tail,
				 .sq_array = u->sq_array,
				 .sq_mask = u->sq_mask,
				 .cq_head = u->cq_head,
				 .cq_tail = u->cq_tail,
				 .cq_mask = u->cq_mask,
				 .cqes = u->cqes };
}

static int setup_ring(struct cb_uring *u, struct cb_error *e)
{
	struct cb_ring r;

	/*
	 * One submission is all it ever has in flight; completions one per buffer, and room.
	 * DEFER_TASKRUN (every cb_ring has it): the kernel finishes receives only when this thread
	 * enters the ring, rather than interrupting it with task work at every arrival, which made
	 * a live reader cost twice what socket-mmsg's does.
	 */
	if (cb_ring_open(&r, 4, 2 * CB_URING_BUFFERS, u->sock.ifname, e) < 0)
		return -1;
	u->ring_fd = r.fd;
	u->rings = r.rings;
	u->rings_len = r.rings_len;
	u->sqes = r.sqes;
	u->sqes_len = r.sqes_len;
	u->sq_tail = r.sq_tail;
	u->sq_array = r.sq_array;
	u->sq_mask = r.sq_mask;
	u->cq_head = r.cq_head;
	u->cq_tail = r.cq_tail;
	u->cq_mask = r.cq_mask;
	u->cqes = r.cqes;
	return 0;
}

/* ---- provided buffers -------------------------------------------------------------------- */

/* Queues buffer bid for the kernel; visible to it once publish_buffers() has run. */
static void give_back(struct cb_uring *u, uint16_t bid)
{
	struct io_uring_buf *b = &u->bufring->bufs[u->buf_tail & (CB_URING_BUFFERS - 1)];

	b->addr = (uint64_t)(uintptr_t)(u->buffers + (size_t)bid * u->slot);
	b->len = u->slot;
	b->bid = bid;
	u->buf_tail++;
}

static void publish_buffers(struct cb_uring *u)
{
	__atomic_store_n(&u->bufring->tail, u->buf_tail, __ATOMIC_RELEASE);
}

static int register_buffers(struct cb_uring *u, struct cb_error *e)
{
	struct io_uring_buf_reg reg;

	/* Room for the largest frame the interface takes, its VLAN tag back, and the headers. */
	u->slot = (uint32_t)(PAYLOAD_AT + ETH_HLEN + 4u + u->sock.mtu + 63u) & ~63u;
	if (u->slot < 2048u)
		u->slot = 2048u;
	u->buffers_len = (size_t)u->slot * CB_URING_BUFFERS;
	/*
	 * Shared, not private: capbench starts child processes between windows, and after a fork
	 * every page of a private mapping is copy-on-write, so the kernel's first write to each in
	 * the next window faulted (2,048 minor faults per window, --explain's minflt/Mpkt).
	 */
	u->buffers = mmap(NULL, u->buffers_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (u->buffers == MAP_FAILED) {
		u->buffers = NULL;
		return cb_fail(e, errno, "allocate %u receive buffers of %u bytes for %s",
			       CB_URING_BUFFERS, u->slot, u->sock.ifname);
	}
	u->bufring_len = CB_URING_BUFFERS * sizeof(struct io_uring_buf);
	u->bufring = mmap(NULL, u->bufring_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (u->bufring == MAP_FAILED) {
		u->bufring = NULL;
		return cb_fail(e, errno, "allocate the io_uring buffer ring for %s",
			       u->sock.ifname);
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)u->bufring;
	reg.ring_entries = CB_URING_BUFFERS;
	reg.bgid = BGID;
	if (cb_ring_register(u->ring_fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
		return cb_fail(e, errno,
			       "register %u provided buffers with io_uring for %s "
			       "(IORING_REGISTER_PBUF_RING, Linux 5.19)",
			       CB_URING_BUFFERS, u->sock.ifname);
	for (uint32_t i = 0; i < CB_URING_BUFFERS; i++)
		give_back(u, (uint16_t)i);
	publish_buffers(u);
	return 0;
}

/* ---- open / close ------------------------------------------------------------------------ */

int cb_uring_open(struct cb_uring *u, const struct cb_uring_options *o, struct cb_error *e)
{
	memset(u, 0, sizeof(*u));
	u->ring_fd = -1;
	if (cb_psock_open(&u->sock, o->ifname, o->rcvbuf_bytes, o->fanout, e) < 0)
		return -1;
	u->msg.msg_controllen = CTRL_BYTES;
	if (setup_ring(u, e) < 0 || register_buffers(u, e) < 0) {
		cb_uring_close(u);
		return -1;
	}
	return 0;
}

void cb_uring_close(struct cb_uring *u)
{
	struct cb_ring r = ring_of(u);

	/* Closing the ring cancels the multishot before its buffers go. */
	cb_ring_close(&r);
	u->ring_fd = -1;
	if (u->bufring)
		munmap(u->bufring, u->bufring_len);
	if (u->buffers)
		munmap(u->buffers, u->buffers_len);
	u->sqes = NULL;
	u->rings = NULL;
	u->bufring = NULL;
	u->buffers = NULL;
	u->armed = 0;
	u->nheld = 0;
	cb_psock_close(&u->sock);
}

/* ---- receiving --------------------------------------------------------------------------- */

/* Submits one multishot recvmsg on the socket, frames into the buffer group. */
static int arm(struct cb_uring *u, struct cb_error *e)
{
	uint32_t tail = *u->sq_tail;
	uint32_t idx = tail & u->sq_mask;
	struct io_uring_sqe *sqe = &u->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_RECVMSG;
	sqe->fd = u->sock.fd;
	sqe->addr = (uint64_t)(uintptr_t)&u->msg;
	sqe->len = 1;
	sqe->ioprio = IORING_RECV_MULTISHOT;
	sqe->flags = IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	int rc = cb_ring_submit(u->ring_fd, 1);
	u->calls.syscalls++;
	if (rc < 0)
		return cb_fail(e, errno, "submit a multishot recvmsg to io_uring for %s",
			       u->sock.ifname);
	u->armed = 1;
	return 0;
}

/*
 * A completion that brought no frame: the multishot ended. ENOBUFS (every buffer in use) is the
 * normal end, the next take submits another; anything else is an error.
 */
static int ended(struct cb_uring *u, int res, struct cb_error *e)
{
	u->armed = 0;
	if (res >= 0 || res == -ENOBUFS)
		return 0;
	if (res == -EINVAL)
		return cb_fail(e, EINVAL,
			       "multishot recvmsg on io_uring for %s (IORING_RECV_MULTISHOT with "
			       "provided buffers needs Linux 6.0)",
			       u->sock.ifname);
	return cb_fail(e, -res, "multishot recvmsg on io_uring for %s", u->sock.ifname);
}

/*
 * The frame of a completion, placed as on the wire in its buffer (VLAN tag put back), as an
 * (offset in u->buffers, length) pair; its buffer's id in *bid. 1, 0 when the completion carries
 * no frame, -1 on an error.
 */
static int frame_of(struct cb_uring *u, const struct io_uring_cqe *cqe, uint32_t *pair,
		    uint16_t *bid, struct cb_error *e)
{
	if (!(cqe->flags & IORING_CQE_F_MORE) && ended(u, cqe->res, e) < 0)
		return -1;
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return 0;
	*bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	uint8_t *buf = u->buffers + (size_t)*bid * u->slot;
	const struct io_uring_recvmsg_out *out = (const struct io_uring_recvmsg_out *)buf;
	uint32_t got = cqe->res > (int)PAYLOAD_AT ? (uint32_t)cqe->res - PAYLOAD_AT : 0;
	uint32_t len = out->payloadlen < got ? out->payloadlen : got;
	struct msghdr mh = { .msg_control = buf + sizeof(*out), .msg_controllen = out->controllen };
	uint8_t *slot = buf + PAYLOAD_AT - CB_PSOCK_PREFIX;

	cb_psock_place_frame(slot, len, &mh, pair);
	pair[0] += (uint32_t)(slot - u->buffers);
	return 1;
}

/*
 * Up to max frames from the completion queue: pairs into table when it is non-NULL (the js tier
 * keeps the buffers), else counted into out and their buffers given back at once. Frames taken,
 * or -1.
 */
static int harvest(struct cb_uring *u, uint32_t max, uint32_t *table, struct cb_count *out,
		   struct cb_error *e)
{
	uint32_t head = *u->cq_head;
	uint32_t tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
	uint32_t n = 0;

	while (head != tail && n < max) {
		uint32_t pair[2];
		uint16_t bid;
		int rc = frame_of(u, &u->cqes[head & u->cq_mask], pair, &bid, e);

		head++;
		if (rc < 0) {
			__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
			return -1;
		}
		if (rc == 0)
			continue;
		if (table) {
			table[2 * n] = pair[0];
			table[2 * n + 1] = pair[1];
			u->held[u->nheld++] = bid;
		} else {
			out->ipv4 += (uint64_t)cb_do_something(u->buffers + pair[0], pair[1]);
			give_back(u, bid);
		}
		n++;
	}
	__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
	if (!table && n > 0)
		publish_buffers(u);
	return (int)n;
}

/*
 * Has the kernel finish what arrived (the deferred task work) and post its completions, up to
 * min_complete of them, waiting up to timeout_ms for them to arrive. 1 when completions are
 * there, 0 when none came, -1 on an error.
 */
static int enter_for_completions(struct cb_uring *u, unsigned min_complete, int timeout_ms,
				 struct cb_error *e)
{
	int rc = cb_ring_enter(u->ring_fd, 0, min_complete, timeout_ms);

	u->calls.syscalls++;
	if (rc < 0 && (errno == ETIME || errno == EINTR || errno == EAGAIN || errno == EBUSY))
		rc = 0;
	else if (rc < 0)
		return cb_fail(e, errno, "wait for completions on io_uring for %s", u->sock.ifname);
	return *u->cq_head != __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
}

/*
 * A take of either tier: what is ready, after the kernel has finished what arrived, then a new
 * multishot if the last one ended.
 */
static int take_frames(struct cb_uring *u, uint32_t max, uint32_t *table, struct cb_count *out,
		       struct cb_error *e)
{
	int n = harvest(u, max, table, out, e);

	if (n == 0 && u->armed) {
		/* As many as are wanted, if they are there: the kernel finishes them in one call. */
		int r = enter_for_completions(u, max, 0, e);
		n = r < 0 ? -1 : r == 0 ? 0 : harvest(u, max, table, out, e);
	}
	if (n >= 0 && !u->armed && arm(u, e) < 0)
		return -1;
	return n;
}

/* The wait: in io_uring_enter, since completions are posted only there (DEFER_TASKRUN). */
static int wait_completions(void *self, int timeout_ms, struct cb_error *e)
{
	struct cb_uring *u = self;
	int r = enter_for_completions(u, 1, timeout_ms, e);

	if (r > 0)
		u->calls.wakeups++;
	return r < 0 ? -1 : r > 0 ? CB_WAIT_READABLE : CB_WAIT_NOTHING;
}

static void give_back_held(struct cb_uring *u)
{
	for (uint32_t i = 0; i < u->nheld; i++)
		give_back(u, u->held[i]);
	if (u->nheld > 0)
		publish_buffers(u);
	u->nheld = 0;
}

int cb_uring_next(struct cb_uring *u, uint32_t max, uint32_t *table, int timeout_ms,
		  struct cb_error *e)
{
	if (max < 1 || max > CB_URING_MAX_TAKE)
		return cb_fail(e, EINVAL, "next on io_uring for %s: max %u outside 1..%u",
			       u->sock.ifname, max, CB_URING_MAX_TAKE);
	give_back_held(u);
	int n = take_frames(u, max, table, NULL, e);
	if (n != 0)
		return n;
	int w = wait_completions(u, timeout_ms, e);
	if (w <= 0)
		return w;
	return take_frames(u, max, table, NULL, e);
}

static int take(void *self, uint32_t want, struct cb_count *out, struct cb_error *e)
{
	struct cb_uring *u = self;
	int n = take_frames(u, want, NULL, out, e);

	if (n > 0)
		out->received += (uint64_t)n;
	return n;
}

/* Frames come from shared memory, as from a ring: the clock is read once per many. */
static const struct cb_step STEP = {
	.take = take,
	.kind = KIND,
	.wait = wait_completions,
	.frames_per_clock = CB_FRAMES_PER_CLOCK_RING,
};

int cb_uring_consume(struct cb_uring *u, const struct cb_slice *slice, struct cb_count *out,
		     struct cb_error *e)
{
	give_back_held(u);
	return cb_slice_loop(&STEP, u,
			     (struct cb_waitable){ u->ring_fd, u->sock.ifname, &u->calls },
			     CB_URING_MAX_TAKE, slice, out, e);
}

int cb_uring_stats(struct cb_uring *u, uint64_t *packets, uint64_t *drops, struct cb_error *e)
{
	return cb_psock_stats(&u->sock, packets, drops, e);
}

#else /* no multishot receive in this system's linux/io_uring.h */

#define NO_HEADERS "capbench was built without io_uring's multishot receive (linux-libc-dev >= 6.0)"

int cb_uring_probe(struct cb_error *e)
{
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_uring_open(struct cb_uring *u, const struct cb_uring_options *o, struct cb_error *e)
{
	memset(u, 0, sizeof(*u));
	u->ring_fd = -1;
	u->sock.fd = -1;
	return cb_fail(e, ENOSYS, "io_uring on %s: %s", o->ifname, NO_HEADERS);
}

int cb_uring_next(struct cb_uring *u, uint32_t max, uint32_t *table, int timeout_ms,
		  struct cb_error *e)
{
	(void)max, (void)table, (void)timeout_ms;
	return cb_fail(e, ENOSYS, "io_uring on %s: %s", u->sock.ifname, NO_HEADERS);
}

int cb_uring_consume(struct cb_uring *u, const struct cb_slice *slice, struct cb_count *out,
		     struct cb_error *e)
{
	(void)slice, (void)out;
	return cb_fail(e, ENOSYS, "io_uring on %s: %s", u->sock.ifname, NO_HEADERS);
}

int cb_uring_stats(struct cb_uring *u, uint64_t *packets, uint64_t *drops, struct cb_error *e)
{
	(void)packets, (void)drops;
	return cb_fail(e, ENOSYS, "io_uring on %s: %s", u->sock.ifname, NO_HEADERS);
}

void cb_uring_close(struct cb_uring *u)
{
	u->ring_fd = -1;
}

#endif
