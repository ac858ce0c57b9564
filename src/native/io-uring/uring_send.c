/*
 * The io_uring sender (see uring_send.h): udp-send's socket, a ring, linked batches of SEND or
 * SEND_ZC entries, and the zero-copy notifications.
 */
#include "uring_send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(CB_RING_SUPPORTED) && defined(IORING_NOTIF_USAGE_ZC_COPIED)

#include <sys/socket.h>

/*
 * An entry's user_data: the batch (gen) in the high 32 bits, so that a completion of a batch
 * an error abandoned is never taken for one of the current batch; its zero-copy slot and its
 * place in the batch in the low 32.
 */
#define UD(gen, slot, k) (((uint64_t)(gen) << 32) | ((uint64_t)(slot) << 16) | (uint64_t)(k))
#define UD_GEN(ud) ((uint32_t)((ud) >> 32))
#define UD_SLOT(ud) ((uint32_t)((ud) >> 16) & 0xffffu)
#define UD_K(ud) ((uint32_t)(ud)&0xffffu)

/* A zero-copy slot's life: submitted, then its completion and its notification, in either
 * order (the kernel posts the completion first, but nothing here depends on it). */
enum {
	SLOT_FREE = 0,
	SLOT_SENT,	   /* submitted, nothing back yet */
	SLOT_OWED,	   /* completed, taken: its notification counts */
	SLOT_OWED_REFUSED, /* completed, refused: its notification is only waited for */
	SLOT_EARLY,	   /* notified before its completion */
	SLOT_EARLY_COPIED, /* the same, and the kernel copied */
};

/* A completion whose res was not yet seen. */
#define RES_NONE INT32_MIN

static const char *op_name(const struct cb_uring_sender *u)
{
	return u->zc ? "IORING_OP_SEND_ZC" : "IORING_OP_SEND";
}

int cb_uring_send_probe(bool zc, struct cb_error *e)
{
	if (cb_ring_probe(e) < 0)
		return -1;
	if (!zc)
		return 0;
	if (cb_ring_probe_op(IORING_OP_SEND_ZC, "IORING_OP_SEND_ZC (Linux 6.0)", e) < 0)
		return -1;
	/*
	 * SEND_ZC needs a socket whose protocol can send from user pages, the machinery
	 * MSG_ZEROCOPY uses: a UDP socket that accepts SO_ZEROCOPY says it is there.
	 */
	return cb_sender_probe_zerocopy(CB_SEND_UDP, e);
}

/* ---- open / close ------------------------------------------------------------------------- */

int cb_uring_send_open(struct cb_uring_sender *u, const struct cb_sender_options *o,
		       struct cb_error *e)
{
	struct cb_sender_options so = *o;
	unsigned cq;

	memset(u, 0, sizeof(*u));
	u->s.fd = -1;
	u->ring.fd = -1;
	if (o->kind != CB_SEND_UDP)
		return cb_fail(e, EINVAL, "io_uring sender: kind %d; it sends udp only",
			       (int)o->kind);
	if (o->call != CB_CALL_SEND && o->call != CB_CALL_SENDMMSG)
		return cb_fail(e, EINVAL,
			       "io_uring sender: call %d; it sends one entry per enter or batches",
			       (int)o->call);
	u->call = o->call;
	u->zc = o->zerocopy;
	/*
	 * The socket exactly as udp-send's: its own send() path is never used. No SO_ZEROCOPY:
	 * SEND_ZC brings its own notification, and the socket's error queue stays out of it.
	 */
	so.call = CB_CALL_SEND;
	so.zerocopy = false;
	if (cb_sender_open(&u->s, &so, e) < 0)
		return -1;
	u->res = calloc(u->s.batch, sizeof(*u->res));
	if (!u->res) {
		cb_fail(e, ENOMEM, "io_uring sender: allocate %u results", u->s.batch);
		goto fail;
	}
	if (u->zc) {
		u->slot_state = calloc(CB_URING_SEND_SLOTS, sizeof(*u->slot_state));
		u->free_slots = calloc(CB_URING_SEND_SLOTS, sizeof(*u->free_slots));
		if (!u->slot_state || !u->free_slots) {
			cb_fail(e, ENOMEM, "io_uring sender: allocate %u zero-copy slots",
				CB_URING_SEND_SLOTS);
			goto fail;
		}
		for (uint32_t i = 0; i < CB_URING_SEND_SLOTS; i++)
			u->free_slots[i] = (uint16_t)(CB_URING_SEND_SLOTS - 1 - i);
		u->nfree = CB_URING_SEND_SLOTS;
	}
	/* Room for a batch's completions and, zero-copy, every slot's notification besides. */
	cq = 2 * u->s.batch + (u->zc ? CB_URING_SEND_SLOTS : 0);
	if (cb_ring_open(&u->ring, u->s.batch, cq, u->s.ifname, e) < 0)
		goto fail;
	return 0;
fail:
	cb_uring_send_close(u);
	return -1;
}

void cb_uring_send_close(struct cb_uring_sender *u)
{
	cb_ring_close(&u->ring);
	cb_sender_close(&u->s);
	free(u->res);
	free(u->slot_state);
	free(u->free_slots);
	u->res = NULL;
	u->slot_state = NULL;
	u->free_slots = NULL;
	u->nfree = 0;
}

/* ---- completions -------------------------------------------------------------------------- */

static void free_slot(struct cb_uring_sender *u, uint32_t slot)
{
	u->slot_state[slot] = SLOT_FREE;
	u->free_slots[u->nfree++] = (uint16_t)slot;
}

/* A SEND_ZC's completion: F_MORE promises a notification (taken or refused alike). */
static void zc_completed(struct cb_uring_sender *u, uint32_t slot, int32_t res, bool more)
{
	uint8_t st = u->slot_state[slot];

	if (st == SLOT_EARLY || st == SLOT_EARLY_COPIED) {
		if (res >= 0) {
			u->s.st.zc_sends++;
			u->s.st.zc_completions++;
			u->s.st.zc_copied += st == SLOT_EARLY_COPIED;
		}
		free_slot(u, slot);
	} else if (st == SLOT_SENT && more) {
		u->s.st.zc_sends += res >= 0;
		u->slot_state[slot] = res >= 0 ? SLOT_OWED : SLOT_OWED_REFUSED;
		u->owed++;
	} else if (st == SLOT_SENT) {
		free_slot(u, slot); /* failed before a notification was attached */
	}
}

/* A notification: the kernel let go of a send's pages. Notifications of taken sends, 0 or 1. */
static int zc_notified(struct cb_uring_sender *u, uint32_t slot, int32_t res)
{
	uint8_t st = u->slot_state[slot];
	bool copied = (uint32_t)res & IORING_NOTIF_USAGE_ZC_COPIED;

	if (st == SLOT_SENT) {
		u->slot_state[slot] = copied ? SLOT_EARLY_COPIED : SLOT_EARLY;
		return 0;
	}
	if (st != SLOT_OWED && st != SLOT_OWED_REFUSED)
		return 0;
	u->owed--;
	free_slot(u, slot);
	if (st == SLOT_OWED_REFUSED)
		return 0;
	u->s.st.zc_completions++;
	u->s.st.zc_copied += copied;
	return 1;
}

/* Reads the completion queue to its end. Notifications of taken sends read. */
static uint32_t harvest(struct cb_uring_sender *u)
{
	struct cb_ring *r = &u->ring;
	uint32_t head = *r->cq_head;
	uint32_t tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
	uint32_t notified = 0;

	for (; head != tail; head++) {
		const struct io_uring_cqe *c = &r->cqes[head & r->cq_mask];
		uint64_t ud = c->user_data;

		if (c->flags & IORING_CQE_F_NOTIF) {
			notified += (uint32_t)zc_notified(u, UD_SLOT(ud), c->res);
			continue;
		}
		if (u->zc)
			zc_completed(u, UD_SLOT(ud), c->res, c->flags & IORING_CQE_F_MORE);
		if (UD_GEN(ud) == u->gen && UD_K(ud) < u->s.batch && u->res[UD_K(ud)] == RES_NONE) {
			u->res[UD_K(ud)] = c->res;
			u->results++;
		}
	}
	/* Release: the kernel may reuse the entries once it sees the head move. */
	__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
	return notified;
}

/* An io_uring_enter that may be interrupted or told to come back: harmless, the caller looks
 * at the queue and its clock again. Entries submitted, or -1 with e filled. */
static int enter(struct cb_uring_sender *u, unsigned to_submit, unsigned min_complete,
		 int timeout_ms, struct cb_error *e)
{
	int rc = cb_ring_enter(u->ring.fd, to_submit, min_complete, timeout_ms);

	if (rc >= 0)
		return rc;
	if (errno == ETIME || errno == EINTR || errno == EAGAIN || errno == EBUSY)
		return 0;
	return cb_fail(e, errno, "io_uring_enter for the udp socket on %s", u->s.ifname);
}

/* One pass for notifications alone: the kernel posts what its deferred work has, we read it. */
static int64_t reap_pass(struct cb_uring_sender *u, struct cb_error *e)
{
	uint64_t t0 = cb_now_ns();
	int64_t got = harvest(u);

	u->s.st.zc_reaps++;
	if (enter(u, 0, 0, 0, e) < 0)
		got = -1;
	else
		got += harvest(u);
	u->s.st.zc_reap_ns += cb_now_ns() - t0;
	return got;
}

int64_t cb_uring_send_reap(struct cb_uring_sender *u, struct cb_error *e)
{
	return u->zc ? reap_pass(u, e) : 0;
}

/* ---- sending ------------------------------------------------------------------------------ */

static inline bool unit_ok(const struct cb_uring_sender *u, uint32_t off, uint32_t len)
{
	return len >= 1 && (uint64_t)off + len <= u->s.area_len;
}

static int bad_unit(const struct cb_uring_sender *u, uint32_t i, uint32_t off, uint32_t len,
		    struct cb_error *e)
{
	if (len < 1)
		return cb_fail(e, EINVAL, "io_uring sender on %s: unit %u is empty", u->s.ifname,
			       i);
	return cb_fail(e, ERANGE,
		       "io_uring sender on %s: unit %u at offset %u, %u bytes, is outside the "
		       "%zu-byte data",
		       u->s.ifname, i, off, len, u->s.area_len);
}

/* What stopped a batch at entry k: 0 for want of room (the caller waits and sends it again),
 * -1 with e filled for anything else. */
static int refused(struct cb_uring_sender *u, int32_t res, uint32_t len, struct cb_error *e)
{
	if (res == -ENOBUFS) {
		u->s.refused = CB_REFUSED_NOBUFS;
	} else if (res == -EAGAIN || res == -EWOULDBLOCK || res == -EINTR) {
		u->s.refused = CB_REFUSED_AGAIN;
	} else if (res >= 0) {
		return cb_fail(e, EIO, "%s on the udp socket on %s: %d of %u bytes sent",
			       op_name(u), u->s.ifname, res, len);
	} else if (res == -EINVAL && u->zc) {
		return cb_fail(
			e, EINVAL,
			"%s on the udp socket on %s (IORING_SEND_ZC_REPORT_USAGE: Linux 6.2)",
			op_name(u), u->s.ifname);
	} else {
		return cb_fail(e, -res, "%s on the udp socket on %s", op_name(u), u->s.ifname);
	}
	u->s.st.retries++;
	return 0;
}

/*
 * n units from pair `first` of the table (wrapping after `units`) as n linked entries, one
 * io_uring_enter that submits them and waits for their completions: the first is issued in the
 * submission, each next one by the deferred task work that enter runs while it waits. (Another
 * enter only when notifications filled the count it waited for.) Units taken, their bytes in
 * *bytes.
 */
static int submit(struct cb_uring_sender *u, const uint32_t *table, uint32_t units, uint32_t first,
		  uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	uint64_t deadline, b = 0;
	uint32_t unsent, taken = 0, i = first;

	*bytes = 0;
	if (u->zc && u->nfree < n && reap_pass(u, e) < 0)
		return -1;
	if (u->zc && u->nfree < n)
		n = u->nfree;
	if (n == 0) {
		/* Every slot's pages are still the kernel's: wait for notifications. */
		u->out_of_slots = true;
		u->s.st.retries++;
		return 0;
	}
	u->gen++;
	for (uint32_t k = 0; k < n; k++) {
		struct io_uring_sqe *sqe = cb_ring_sqe(&u->ring, k);
		uint32_t slot = 0;

		if (u->zc) {
			slot = u->free_slots[--u->nfree];
			u->slot_state[slot] = SLOT_SENT;
			sqe->opcode = IORING_OP_SEND_ZC;
			sqe->ioprio = IORING_SEND_ZC_REPORT_USAGE;
		} else {
			sqe->opcode = IORING_OP_SEND;
		}
		sqe->fd = u->s.fd;
		sqe->addr = (uint64_t)(uintptr_t)(u->s.area + table[2 * (size_t)i]);
		sqe->len = table[2 * (size_t)i + 1];
		/* Refused for room is a completion at once, not a poll the kernel arms. */
		sqe->msg_flags = MSG_DONTWAIT;
		/* In order, and none after one that failed: see uring_send.h. */
		sqe->flags = k + 1 < n ? IOSQE_IO_LINK : 0;
		sqe->user_data = UD(u->gen, slot, k);
		u->res[k] = RES_NONE;
		if (++i == units)
			i = 0;
	}
	cb_ring_publish(&u->ring, n);
	/*
	 * Never ask to submit more than is there: io_uring_enter returns at once, without
	 * waiting, when it submits fewer entries than asked.
	 */
	unsent = n;
	u->results = 0;
	deadline = cb_now_ns() + CB_URING_SEND_STUCK_MS * 1000000ull;
	while (u->results < n) {
		uint64_t now;
		int rc = enter(u, unsent, n - u->results, cb_ms_left(cb_now_ns(), deadline), e);

		u->s.st.calls++;
		if (rc < 0)
			return -1;
		/* What the kernel did not take is still queued: the next enter submits it. */
		unsent -= (uint32_t)rc < unsent ? (uint32_t)rc : unsent;
		harvest(u);
		now = cb_now_ns();
		if (u->results < n && now >= deadline)
			return cb_fail(
				e, ETIMEDOUT,
				"%s on the udp socket on %s: %u of %u completions after %d ms",
				op_name(u), u->s.ifname, u->results, n, CB_URING_SEND_STUCK_MS);
	}
	/* Taken: the batch's first units, each whole (a datagram goes all or nothing). */
	i = first;
	while (taken < n && u->res[taken] >= 0 &&
	       (uint32_t)u->res[taken] == table[2 * (size_t)i + 1]) {
		b += (uint64_t)u->res[taken];
		taken++;
		if (++i == units)
			i = 0;
	}
	if (taken < n) {
		/* The link cancels what follows a failure; a send taken after one would be
		 * counted nowhere and sent twice. */
		for (uint32_t k = taken + 1; k < n; k++)
			if (u->res[k] >= 0)
				return cb_fail(
					e, EPROTO,
					"%s on %s: entry %u of a linked batch completed after "
					"entry %u failed (%d)",
					op_name(u), u->s.ifname, k, taken, u->res[taken]);
		if (refused(u, u->res[taken], table[2 * (size_t)i + 1], e) < 0)
			return -1;
	}
	if (taken > 0) {
		/* The kernel took something: the next refusal backs off from the start again. */
		u->s.refused = CB_REFUSED_NONE;
		u->s.backoff_ns = CB_SEND_BACKOFF_MIN_NS;
	}
	u->out_of_slots = false;
	u->s.st.taken += taken;
	u->s.st.bytes += b;
	*bytes = b;
	return (int)taken;
}

ssize_t cb_uring_send_one(struct cb_uring_sender *u, uint32_t off, uint32_t len, struct cb_error *e)
{
	uint32_t pair[2] = { off, len };
	uint64_t bytes;
	int n;

	if (u->call != CB_CALL_SEND)
		return cb_fail(e, EINVAL,
			       "send() on the io_uring sender on %s, which sends batches",
			       u->s.ifname);
	if (!unit_ok(u, off, len))
		return bad_unit(u, 0, off, len, e);
	n = submit(u, pair, 1, 0, 1, &bytes, e);
	return n < 0 ? -1 : (ssize_t)bytes;
}

int cb_uring_send_from(struct cb_uring_sender *u, const uint32_t *table, uint32_t units,
		       uint32_t first, uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	uint32_t i = first;

	*bytes = 0;
	if (u->call != CB_CALL_SENDMMSG)
		return cb_fail(e, EINVAL,
			       "sendBatch on the io_uring sender on %s, which sends one per enter",
			       u->s.ifname);
	if (n == 0 || n > u->s.batch || first >= units)
		return cb_fail(e, EINVAL,
			       "a batch of %u units from unit %u of %u on %s: batch is 1 to %u", n,
			       first, units, u->s.ifname, u->s.batch);
	for (uint32_t k = 0; k < n; k++) {
		if (!unit_ok(u, table[2 * (size_t)i], table[2 * (size_t)i + 1]))
			return bad_unit(u, i, table[2 * (size_t)i], table[2 * (size_t)i + 1], e);
		if (++i == units)
			i = 0;
	}
	return submit(u, table, units, first, n, bytes, e);
}

int cb_uring_send_batch(struct cb_uring_sender *u, const uint32_t *table, uint32_t n,
			struct cb_error *e)
{
	uint64_t bytes;

	return cb_uring_send_from(u, table, n, 0, n, &bytes, e);
}

/* ---- waiting and the end of a window ------------------------------------------------------ */

int cb_uring_send_wait(struct cb_uring_sender *u, int timeout_ms, struct cb_error *e)
{
	if (!u->out_of_slots)
		return cb_sender_wait(&u->s, timeout_ms, e);
	/* Notifications are posted only when this thread enters the ring (DEFER_TASKRUN). */
	u->s.st.waits++;
	u->out_of_slots = false;
	if (enter(u, 0, 1, timeout_ms < 0 ? 0 : timeout_ms, e) < 0)
		return -1;
	harvest(u);
	return 0;
}

int cb_uring_send_finish(struct cb_uring_sender *u, int timeout_ms, struct cb_error *e)
{
	uint64_t deadline = cb_now_ns() + (uint64_t)timeout_ms * 1000000u;

	if (!u->zc)
		return 0;
	for (;;) {
		uint64_t now;

		if (reap_pass(u, e) < 0)
			return -1;
		if (u->owed == 0)
			return 0;
		now = cb_now_ns();
		if (now >= deadline)
			return cb_fail(e, ETIMEDOUT,
				       "%s on the udp socket on %s: zero-copy notifications: %llu "
				       "of %llu after %d ms (%llu still to come)",
				       op_name(u), u->s.ifname,
				       (unsigned long long)u->s.st.zc_completions,
				       (unsigned long long)u->s.st.zc_sends, timeout_ms,
				       (unsigned long long)u->owed);
		if (enter(u, 0, 1, cb_ms_left(now, deadline), e) < 0)
			return -1;
	}
}

/* ---- the native tier ---------------------------------------------------------------------- */

static ssize_t step_one(void *self, uint32_t off, uint32_t len, struct cb_error *e)
{
	return cb_uring_send_one(self, off, len, e);
}

static int step_from(void *self, const uint32_t *table, uint32_t units, uint32_t first, uint32_t n,
		     uint64_t *bytes, struct cb_error *e)
{
	return cb_uring_send_from(self, table, units, first, n, bytes, e);
}

static int step_wait(void *self, int timeout_ms, struct cb_error *e)
{
	return cb_uring_send_wait(self, timeout_ms, e);
}

/* An entry per io_uring_enter (a datagram, taken whole or refused), or batches of linked
 * entries, one enter each. */
static const struct cb_send_step STEP = {
	.send_one = step_one,
	.send_from = step_from,
	.wait = step_wait,
};

int cb_uring_send_loop(struct cb_uring_sender *u, const uint32_t *table, uint32_t units,
		       const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		       struct cb_error *e)
{
	struct cb_send_handle h = { &u->s.at, u->call == CB_CALL_SEND, u->s.batch, u->s.ifname };

	return cb_send_loop(&STEP, u, h, table, units, slice, units_out, bytes_out, e);
}

#else /* no DEFER_TASKRUN or SEND_ZC usage reports in this system's linux/io_uring.h */

#define NO_HEADERS \
	"capbench was built without io_uring's SEND_ZC usage reports (linux-libc-dev >= 6.2)"

int cb_uring_send_probe(bool zc, struct cb_error *e)
{
	(void)zc;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_uring_send_open(struct cb_uring_sender *u, const struct cb_sender_options *o,
		       struct cb_error *e)
{
	memset(u, 0, sizeof(*u));
	u->s.fd = -1;
	u->ring.fd = -1;
	return cb_fail(e, ENOSYS, "io_uring sender on %s: %s", o->ifname, NO_HEADERS);
}

void cb_uring_send_close(struct cb_uring_sender *u)
{
	u->s.fd = -1;
}

ssize_t cb_uring_send_one(struct cb_uring_sender *u, uint32_t off, uint32_t len, struct cb_error *e)
{
	(void)u, (void)off, (void)len;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_uring_send_from(struct cb_uring_sender *u, const uint32_t *table, uint32_t units,
		       uint32_t first, uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	(void)u, (void)table, (void)units, (void)first, (void)n;
	*bytes = 0;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_uring_send_batch(struct cb_uring_sender *u, const uint32_t *table, uint32_t n,
			struct cb_error *e)
{
	(void)u, (void)table, (void)n;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_uring_send_wait(struct cb_uring_sender *u, int timeout_ms, struct cb_error *e)
{
	(void)u, (void)timeout_ms;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_uring_send_loop(struct cb_uring_sender *u, const uint32_t *table, uint32_t units,
		       const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		       struct cb_error *e)
{
	(void)u, (void)table, (void)units, (void)slice;
	*units_out = 0;
	*bytes_out = 0;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int64_t cb_uring_send_reap(struct cb_uring_sender *u, struct cb_error *e)
{
	(void)u;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_uring_send_finish(struct cb_uring_sender *u, int timeout_ms, struct cb_error *e)
{
	(void)u, (void)timeout_ms;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

#endif
