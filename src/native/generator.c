/*
 * Traffic generator core (see generator.h for the life cycle).
 *
 * Accounting rule for both engines: `sent` only ever counts frames the kernel has taken and will
 * not give back. A frame the kernel refuses (ENOBUFS when the device or the veth peer's backlog is
 * full, EAGAIN when the socket's send buffer is full) is retried, never skipped, so count > 0
 * sends exactly count frames.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "cpu_placement.h"
#include "generator.h"
#include "slice_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <endian.h>
#include <math.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Sleep until this long before a burst is due, then spin: a wake-up from clock_nanosleep can be
 * late (the thread's timer slack is 1 ns, but a VM adds its own), a spin is not. Short, because
 * every spun nanosecond is CPU time the system-wide cost figures must not see. */
#define SPIN_NS 10000ull
/* Never sleep longer than this in one go, so stop() is answered within ~10 ms even at 1 pps. */
#define MAX_SLEEP_NS 10000000ull
/* Back-off after the kernel refused frames: long enough to let the softirq (often ksoftirqd on the
 * same CPU) drain the peer's backlog, short enough not to leave the device idle for long. */
#define BACKOFF_MIN_NS 5000ull
#define BACKOFF_MAX_NS 1000000ull
/* A refusal that lasts this long is not congestion but a dead path (peer down, device stuck). */
#define STALL_NS 2000000000ull
/* How long to wait at the end for frames the kernel took but has not yet released (tx-ring). */
#define DRAIN_NS 1000000000ull
/* Requested SO_SNDBUF (the kernel doubles it). Large, so that the send buffer never is what
 * limits the rate: frames in flight on a veth are charged to it until the peer frees them. */
#define SNDBUF_BYTES (32 * 1024 * 1024)
/* tx-ring: at least this many slots, and at least 4 batches, so filling never waits on the
 * kernel releasing the slots of the previous batch. */
#define RING_MIN_SLOTS 4096u
#define RING_BLOCK_BYTES (64u * 1024u)
/* Where a TPACKET_V2 TX slot's data starts when PACKET_TX_HAS_OFF is off (the kernel's
 * tp_hdrlen - sizeof(struct sockaddr_ll)). With PACKET_VNET_HDR the data is a virtio_net_hdr
 * followed by the frame. */
#define TX_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define TX_VNET_BYTES (sizeof(struct virtio_net_hdr))
#define MAX_FRAME_BYTES 65535u

struct cb_gen {
	/* Set at create, read-only afterwards (the thread reads them without locking). */
	char *netns_path;
	char ifname[IFNAMSIZ];
	uint8_t *frames; /* our own copy: JS buffers can move or be freed */
	uint32_t *lens;
	uint64_t *offs;
	uint32_t nframes;
	uint32_t max_len;
	uint64_t count;
	uint64_t duration_ns;
	double rate_pps;
	uint32_t batch;
	int cpu;
	enum cb_gen_engine engine;
	bool stamp;

	/* Controller-side state, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started;
	bool joined;
	bool setup_done;
	bool setup_failed;
	struct cb_error setup_err;
	bool has_run_err;
	struct cb_error run_err;

	/* Shared with the running thread without locking. */
	atomic_bool stop_req;
	atomic_bool running;
	atomic_uint_fast64_t sent;
	atomic_uint_fast64_t first_ns; /* 0 until the first send */
	atomic_uint_fast64_t last_ns;  /* after the last send that the kernel took frames from */
	/*
	 * The thread's own CPU time from the end of setup to its last send, stored before running
	 * goes false. On veth the receive side's softirq runs in the sender's context, so this is
	 * where the kernel's delivery into every tap is paid (see DESIGN.md, `deliver`).
	 */
	atomic_uint_fast64_t cpu_ns;
	atomic_uint_fast64_t cpu_start_ns; /* its CPU clock when sending began; 0 before */
};

/* Everything the thread owns while it runs; released by the thread itself before it exits. */
struct ring {
	uint8_t *map;
	size_t map_bytes;
	uint32_t nslots;
	uint32_t frame_size;
	uint32_t frames_per_block;
	uint32_t block_size;
	uint32_t *slot_frame; /* which fixture frame each slot holds, UINT32_MAX = none yet */
	/* Global frame indices (they never wrap in practice: 2^64 frames). Invariant:
	 * tail <= kpos <= head; [tail, kpos) taken by the kernel and not yet released,
	 * [kpos, head) filled and marked SEND_REQUEST but not yet taken. */
	uint64_t head;
	uint64_t kpos;
	uint64_t tail;
};

struct gen_run {
	int fd;
	struct iovec *iov;
	struct mmsghdr *hdrs;
	uint64_t *stamps; /* stamping sendmmsg: one send time per header, the frame's last 8 bytes */
	struct ring ring;
};

struct backoff {
	uint64_t ns;
	uint64_t stalled_since; /* 0 = the last attempt made progress */
};

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	/* EINTR is harmless: every caller re-reads the clock and decides again. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Frames due by `now`: frame i is due at t0 + i / rate, so frame 0 is due at once. long double
 * keeps (elapsed ns x rate) exact for any realistic run instead of rounding at 2^53. */
static uint64_t frames_due(double rate, uint64_t t0, uint64_t now)
{
	long double d = (long double)(now - t0) * (long double)rate / 1e9L;

	return (uint64_t)d + 1;
}

/* Frames per paced burst: a millisecond's worth, at least one, at most a batch. */
static uint64_t pacing_burst(const struct cb_gen *g)
{
	uint64_t per_ms = (uint64_t)(g->rate_pps / 1000.0);

	return per_ms < 1 ? 1 : per_ms > g->batch ? g->batch : per_ms;
}

static uint64_t due_time(double rate, uint64_t t0, uint64_t i)
{
	long double t = (long double)i * 1e9L / (long double)rate;
	uint64_t whole = (uint64_t)t;

	if ((long double)whole < t)
		whole++;
	return t0 + whole;
}

/* Waits towards `target` (capped by the deadline and MAX_SLEEP_NS); the caller loops. */
static void pace_wait(uint64_t target, uint64_t deadline)
{
	uint64_t now = cb_now_ns();

	if (now >= target)
		return;
	if (target - now > SPIN_NS) {
		uint64_t wake = target - SPIN_NS;

		wake = min_u64(wake, now + MAX_SLEEP_NS);
		wake = min_u64(wake, deadline);
		sleep_until(wake);
		return;
	}
	while (cb_now_ns() < target)
		cpu_relax();
}

static void backoff_reset(struct backoff *bo)
{
	bo->ns = BACKOFF_MIN_NS;
	bo->stalled_since = 0;
}

/*
 * The kernel took fewer frames than offered. Sleeps briefly (yielding the CPU, which on a veth is
 * what lets the softirq drain the peer's backlog) and returns 0, or -1 with e filled when nothing
 * has been accepted for STALL_NS. `what` and `err` describe the refusal for that error.
 */
static int backoff_wait(struct backoff *bo, bool progress, int err, uint64_t deadline,
			const char *what, const char *ifname, struct cb_error *e)
{
	uint64_t now = cb_now_ns();

	if (progress) {
		bo->stalled_since = 0;
		bo->ns = BACKOFF_MIN_NS;
	} else if (bo->stalled_since == 0) {
		bo->stalled_since = now;
	} else if (now - bo->stalled_since > STALL_NS) {
		return cb_fail(e, err, "%s on %s: no frame accepted for %llu s", what, ifname,
			       STALL_NS / 1000000000ull);
	}
	sleep_until(min_u64(now + bo->ns, deadline));
	bo->ns = min_u64(bo->ns * 2, BACKOFF_MAX_NS);
	return 0;
}

static bool transient(int err)
{
	return err == ENOBUFS || err == EAGAIN || err == EINTR;
}

static void note_first_send(struct cb_gen *g, uint64_t now)
{
	if (atomic_load_explicit(&g->first_ns, memory_order_relaxed) == 0)
		atomic_store_explicit(&g->first_ns, now, memory_order_relaxed);
}

/* ---- sendmmsg engine ---------------------------------------------------------------------- */

static int prepare_sendmmsg(struct cb_gen *g, struct gen_run *r, struct cb_error *e)
{
	uint32_t n = g->nframes;
	uint64_t nhdrs = (uint64_t)n + g->batch;

	/* Stamping sends each frame as two pieces, the fixture's bytes less the last 8 and the
	 * header's own stamp, so no frame is copied to give it a time of its own. */
	r->iov = calloc(g->stamp ? 2 * nhdrs : n, sizeof(*r->iov));
	r->hdrs = calloc(nhdrs, sizeof(*r->hdrs));
	r->stamps = g->stamp ? calloc(nhdrs, sizeof(*r->stamps)) : NULL;
	if (!r->iov || !r->hdrs || (g->stamp && !r->stamps))
		return cb_fail(e, ENOMEM, "allocate %llu sendmmsg headers",
			       (unsigned long long)nhdrs);
	/* nframes + batch headers, header j sending frame j % nframes: a batch starting at any
	 * frame is one contiguous run of headers, so nothing is rewritten between calls. */
	for (uint64_t j = 0; j < nhdrs; j++) {
		uint32_t f = (uint32_t)(j % n);

		if (g->stamp) {
			r->iov[2 * j].iov_base = g->frames + g->offs[f];
			r->iov[2 * j].iov_len = g->lens[f] - CB_GEN_STAMP_BYTES;
			r->iov[2 * j + 1].iov_base = &r->stamps[j];
			r->iov[2 * j + 1].iov_len = CB_GEN_STAMP_BYTES;
			r->hdrs[j].msg_hdr.msg_iov = &r->iov[2 * j];
			r->hdrs[j].msg_hdr.msg_iovlen = 2;
		} else {
			if (j < n) {
				r->iov[j].iov_base = g->frames + g->offs[f];
				r->iov[j].iov_len = g->lens[f];
			}
			r->hdrs[j].msg_hdr.msg_iov = &r->iov[f];
			r->hdrs[j].msg_hdr.msg_iovlen = 1;
		}
	}
	return 0;
}

/* x86 and every other target we build for is little-endian; the stamp's byte order is fixed. */
static void put_stamp(void *dst, uint64_t ns)
{
	uint64_t le = htole64(ns);

	memcpy(dst, &le, sizeof(le));
}

static int run_sendmmsg(struct cb_gen *g, struct gen_run *r, struct cb_error *e)
{
	const uint64_t t0 = cb_now_ns();
	const uint64_t deadline = g->duration_ns ? t0 + g->duration_ns : UINT64_MAX;
	uint64_t sent = 0;
	uint32_t pos = 0; /* fixture frame the next batch starts at */
	struct backoff bo;

	backoff_reset(&bo);
	for (;;) {
		uint64_t now, want, after;
		int n, err;

		if (atomic_load_explicit(&g->stop_req, memory_order_relaxed))
			return 0;
		now = cb_now_ns();
		if (now >= deadline)
			return 0;
		want = g->batch;
		if (g->count) {
			if (sent >= g->count)
				return 0;
			want = min_u64(want, g->count - sent);
		}
		if (g->rate_pps > 0) {
			uint64_t due = frames_due(g->rate_pps, t0, now);

			uint64_t burst = min_u64(want, pacing_burst(g));

			/* Paced in bursts: sending each frame the moment it is due would keep this
			 * CPU spinning between frames, and the kernel's delivery work on it (veth
			 * runs the receive path on the sender's CPU) would hide in that time. */
			if (due < sent + burst) {
				pace_wait(due_time(g->rate_pps, t0, sent + burst - 1), deadline);
				continue;
			}
			want = min_u64(want, due - sent);
		}

		note_first_send(g, now);
		if (g->stamp) {
			uint64_t t = cb_now_ns();

			for (uint64_t k = 0; k < want; k++)
				put_stamp(&r->stamps[pos + k], t);
		}
		/* MSG_DONTWAIT: a full send buffer must come back as EAGAIN, not block, or stop()
		 * could wait on a stuck device forever. */
		n = sendmmsg(r->fd, &r->hdrs[pos], (unsigned int)want, MSG_DONTWAIT);
		err = errno;
		after = cb_now_ns();
		if (n > 0) {
			sent += (uint64_t)n;
			pos = (uint32_t)(((uint64_t)pos + (uint64_t)n) % g->nframes);
			atomic_store_explicit(&g->sent, sent, memory_order_relaxed);
			atomic_store_explicit(&g->last_ns, after, memory_order_relaxed);
		}
		if (n == (int)want) {
			backoff_reset(&bo);
			continue;
		}
		/* sendmmsg reports an error only when the first message failed; a short count means
		 * message n failed, and retrying from it either succeeds or shows the error. */
		if (n < 0 && !transient(err))
			return cb_fail(e, err, "sendmmsg on %s", g->ifname);
		if (backoff_wait(&bo, n > 0, n < 0 ? err : ENOBUFS, deadline, "sendmmsg", g->ifname,
				 e) < 0)
			return -1;
	}
}

/* ---- tx-ring engine ----------------------------------------------------------------------- */

static struct tpacket2_hdr *slot_hdr(const struct ring *rg, uint64_t i)
{
	uint32_t s = (uint32_t)(i % rg->nslots);

	return (struct tpacket2_hdr *)(rg->map + (size_t)(s / rg->frames_per_block) * rg->block_size +
				       (size_t)(s % rg->frames_per_block) * rg->frame_size);
}

/* The kernel writes tp_status from softirq or another CPU: load with acquire so that a slot seen
 * as released is really released before we reuse it. */
static uint32_t slot_status(const struct tpacket2_hdr *h)
{
	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

static int prepare_tx_ring(struct cb_gen *g, struct gen_run *r, struct cb_error *e)
{
	struct ring *rg = &r->ring;
	struct tpacket_req req;
	long page = sysconf(_SC_PAGESIZE);
	int version = TPACKET_V2, one = 1;
	uint32_t want_slots, nblocks;

	rg->frame_size = (uint32_t)TPACKET_ALIGN(TX_DATA_OFF + TX_VNET_BYTES + g->max_len);
	if (rg->frame_size <= RING_BLOCK_BYTES)
		rg->block_size = RING_BLOCK_BYTES;
	else
		rg->block_size = (rg->frame_size + (uint32_t)page - 1) & ~((uint32_t)page - 1);
	rg->frames_per_block = rg->block_size / rg->frame_size;
	want_slots = 4 * g->batch > RING_MIN_SLOTS ? 4 * g->batch : RING_MIN_SLOTS;
	nblocks = (want_slots + rg->frames_per_block - 1) / rg->frames_per_block;
	rg->nslots = nblocks * rg->frames_per_block;

	/*
	 * Without a vnet header the kernel copies only the Ethernet header out of a TX slot and
	 * attaches the rest of the frame as a page fragment of the ring, marked zero-copy. A veth
	 * cannot hand such a fragment to its peer, so it un-shares it (skb_copy_ubufs: a page
	 * allocation, a copy and a page free per frame), which made tx-ring ~15% slower than
	 * sendmmsg for 60-byte frames here. A virtio_net_hdr whose hdr_len covers the whole frame
	 * makes the kernel copy the frame into the skb's linear part instead: one small memcpy, no
	 * fragment. The header asks for nothing else (no checksum offload, no GSO).
	 * Must be set before the ring exists.
	 */
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return cb_fail(e, errno, "set PACKET_VNET_HDR on %s", g->ifname);
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) < 0)
		return cb_fail(e, errno, "set PACKET_VERSION TPACKET_V2 on %s", g->ifname);
	memset(&req, 0, sizeof(req));
	req.tp_block_size = rg->block_size;
	req.tp_block_nr = nblocks;
	req.tp_frame_size = rg->frame_size;
	req.tp_frame_nr = rg->nslots;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0)
		return cb_fail(e, errno, "set PACKET_TX_RING (%u blocks of %u bytes, %u slots of %u bytes) on %s",
			       nblocks, rg->block_size, rg->nslots, rg->frame_size, g->ifname);
	rg->map_bytes = (size_t)nblocks * rg->block_size;
	rg->map = mmap(NULL, rg->map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (rg->map == MAP_FAILED) {
		rg->map = NULL;
		return cb_fail(e, errno, "mmap %zu-byte tx ring on %s", rg->map_bytes, g->ifname);
	}
	rg->slot_frame = malloc((size_t)rg->nslots * sizeof(*rg->slot_frame));
	if (!rg->slot_frame)
		return cb_fail(e, ENOMEM, "allocate tx ring bookkeeping");
	for (uint32_t s = 0; s < rg->nslots; s++)
		rg->slot_frame[s] = UINT32_MAX;
	return 0;
}

/* Counts, in order, the taken slots the kernel has released. Stops at the first one still in
 * flight: slots are released in order on a veth, and counting a later one early would make the
 * invariant tail <= kpos harder to keep for no gain. */
static void ring_reclaim(struct cb_gen *g, struct ring *rg)
{
	uint64_t t = rg->tail;

	while (t < rg->kpos) {
		uint32_t st = slot_status(slot_hdr(rg, t));

		if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | TP_STATUS_WRONG_FORMAT))
			break;
		t++;
	}
	if (t != rg->tail) {
		rg->tail = t;
		atomic_store_explicit(&g->sent, t, memory_order_relaxed);
	}
}

static void ring_fill(struct cb_gen *g, struct ring *rg, uint64_t n)
{
	uint32_t s = (uint32_t)(rg->head % rg->nslots);
	uint32_t f = (uint32_t)(rg->head % g->nframes);
	uint64_t t = g->stamp ? cb_now_ns() : 0;

	for (uint64_t k = 0; k < n; k++) {
		struct tpacket2_hdr *h = slot_hdr(rg, rg->head + k);

		/* A slot keeps its bytes between laps: when it already holds this fixture frame
		 * (always, for a one-frame fixture) there is nothing to copy. */
		if (rg->slot_frame[s] != f) {
			struct virtio_net_hdr vh;

			memset(&vh, 0, sizeof(vh));
			vh.gso_type = VIRTIO_NET_HDR_GSO_NONE;
			vh.hdr_len = htole16((uint16_t)g->lens[f]);
			memcpy((uint8_t *)h + TX_DATA_OFF, &vh, sizeof(vh));
			memcpy((uint8_t *)h + TX_DATA_OFF + TX_VNET_BYTES, g->frames + g->offs[f],
			       g->lens[f]);
			h->tp_len = (uint32_t)(TX_VNET_BYTES + g->lens[f]);
			rg->slot_frame[s] = f;
		}
		if (g->stamp)
			put_stamp((uint8_t *)h + TX_DATA_OFF + TX_VNET_BYTES + g->lens[f] -
					  CB_GEN_STAMP_BYTES,
				  t);
		/* Release: the kernel must see the frame's bytes before it sees the request. */
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		if (++s == rg->nslots)
			s = 0;
		if (++f == g->nframes)
			f = 0;
	}
	rg->head += n;
}

/*
 * One send() to make the kernel walk the ring from its head. Afterwards every slot it took is
 * SENDING or AVAILABLE; a slot it refused (ENOBUFS from the device, EAGAIN from the send buffer)
 * has been put back to SEND_REQUEST and is retried by the next kick. The return value of send()
 * cannot be used for counting: on a refusal it is the error, even when earlier slots went out.
 * Returns the number of slots newly taken, or -1 with e filled on a real error.
 */
static int64_t ring_kick(struct cb_gen *g, struct gen_run *r, int *err_out, struct cb_error *e)
{
	struct ring *rg = &r->ring;
	uint64_t before = rg->kpos;
	ssize_t rc;
	int err;

	rc = send(r->fd, NULL, 0, MSG_DONTWAIT);
	err = rc < 0 ? errno : 0;
	while (rg->kpos < rg->head) {
		uint32_t st = slot_status(slot_hdr(rg, rg->kpos));

		if (st & TP_STATUS_WRONG_FORMAT)
			return cb_fail(e, err ? err : EINVAL,
				       "tx-ring on %s: kernel rejected frame %u (%u bytes) with TP_STATUS_WRONG_FORMAT",
				       g->ifname, (unsigned)(rg->kpos % g->nframes),
				       g->lens[rg->kpos % g->nframes]);
		if (st & TP_STATUS_SEND_REQUEST)
			break;
		rg->kpos++;
	}
	if (rc < 0 && !transient(err))
		return cb_fail(e, err, "send on tx-ring of %s", g->ifname);
	*err_out = err;
	return (int64_t)(rg->kpos - before);
}

static int run_tx_ring(struct cb_gen *g, struct gen_run *r, struct cb_error *e)
{
	struct ring *rg = &r->ring;
	const uint64_t t0 = cb_now_ns();
	const uint64_t deadline = g->duration_ns ? t0 + g->duration_ns : UINT64_MAX;
	uint64_t drain_until;
	struct backoff bo;

	backoff_reset(&bo);
	for (;;) {
		uint64_t now, want, room, before_tail, pacing_until = 0;
		bool pacing_wait = false;
		int64_t took;
		int err = 0;

		if (atomic_load_explicit(&g->stop_req, memory_order_relaxed))
			break;
		now = cb_now_ns();
		if (now >= deadline)
			break;
		before_tail = rg->tail;
		ring_reclaim(g, rg);
		if (g->count && rg->tail >= g->count)
			break;

		want = g->batch;
		if (g->count)
			want = min_u64(want, g->count - rg->head);
		if (want > 0 && g->rate_pps > 0) {
			uint64_t due = frames_due(g->rate_pps, t0, now);

			uint64_t burst = min_u64(want, pacing_burst(g));

			/* Bursts, as in run_sendmmsg. */
			if (due < rg->head + burst) {
				pacing_wait = true;
				pacing_until = due_time(g->rate_pps, t0, rg->head + burst - 1);
				want = 0;
			} else {
				want = min_u64(want, due - rg->head);
			}
		}
		room = rg->nslots - (rg->head - rg->tail);
		want = min_u64(want, room);

		if (want == 0 && rg->kpos == rg->head) {
			if (pacing_wait && room > 0) {
				pace_wait(pacing_until, deadline);
			} else if (backoff_wait(&bo, rg->tail != before_tail, EBUSY, deadline,
						"tx-ring (waiting for the kernel to release slots)",
						g->ifname, e) < 0) {
				return -1;
			}
			continue;
		}

		ring_fill(g, rg, want);
		note_first_send(g, now);
		took = ring_kick(g, r, &err, e);
		if (took < 0)
			return -1;
		if (took > 0)
			atomic_store_explicit(&g->last_ns, cb_now_ns(), memory_order_relaxed);
		if (rg->kpos == rg->head) {
			backoff_reset(&bo);
			continue;
		}
		if (backoff_wait(&bo, took > 0, err ? err : EAGAIN, deadline, "send on tx-ring",
				 g->ifname, e) < 0)
			return -1;
	}

	/* Slots the kernel took are on their way and will be released; count them. Slots it never
	 * took ([kpos, head)) are abandoned: nothing sends them once we stop calling send(). */
	drain_until = cb_now_ns() + DRAIN_NS;
	for (;;) {
		ring_reclaim(g, rg);
		if (rg->tail == rg->kpos)
			return 0;
		if (cb_now_ns() > drain_until)
			return cb_fail(e, ETIMEDOUT,
				       "tx-ring on %s: %llu frames taken by the kernel but not released",
				       g->ifname, (unsigned long long)(rg->kpos - rg->tail));
		sleep_until(cb_now_ns() + 10000);
	}
}

/* ---- thread ------------------------------------------------------------------------------- */

static int frame_limit(const uint8_t *frame, int mtu)
{
	/* The kernel lets an 802.1Q-tagged frame be 4 bytes longer than MTU + Ethernet header. */
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);

	return mtu + ETH_HLEN + (type == ETH_P_8021Q || type == ETH_P_8021AD ? 4 : 0);
}

/*
 * On --gen-cpu, or else anywhere the process may run except the capture CPU: a thread inherits
 * its creator's affinity, and the creator is the capturing thread, pinned there.
 */
static int place_thread(const struct cb_gen *g, struct cb_error *e)
{
	cpu_set_t set;
	int err;

	if (g->cpu < 0) {
		if (cb_unreserved_cpus(&set, e) < 0)
			return -1;
	} else {
		CPU_ZERO(&set);
		CPU_SET(g->cpu, &set);
	}
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err == 0)
		return 0;
	if (g->cpu < 0)
		return cb_fail(e, err, "place generator thread off the capture CPU");
	return cb_fail(e, err, "pin generator thread to CPU %d", g->cpu);
}

static int setup(struct cb_gen *g, struct gen_run *r, struct cb_error *e)
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int one = 1, sndbuf = SNDBUF_BYTES, ifindex;
	const char *in = g->netns_path ? " in netns " : "";
	const char *ns = g->netns_path ? g->netns_path : "";

	/* Default timer slack is 50 us: a paced sleep would wake that late on top of the wake-up
	 * latency. 1 ns makes clock_nanosleep as punctual as the machine allows. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	pthread_setname_np(pthread_self(), "cb-generator");

	if (g->netns_path) {
		/* O_NONBLOCK: a FIFO given by mistake must fail in setns(), not hang start(). */
		int nsfd = open(g->netns_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

		if (nsfd < 0)
			return cb_fail(e, errno, "open netns %s", g->netns_path);
		/* CLONE_NEWNET on one thread moves only that thread: the JS thread and every socket
		 * it opens stay where they were. */
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			int err = errno;

			close(nsfd);
			return cb_fail(e, err, "join netns %s (setns; is it a network namespace?)",
				       g->netns_path);
		}
		close(nsfd);
	}
	if (place_thread(g, e) < 0)
		return -1;

	/* Protocol 0: the socket is never hooked into the receive path, so it costs nothing per
	 * received frame and never sees its own traffic. */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return cb_fail(e, errno, "open AF_PACKET socket");

	/* Resolved through our own socket, which lives in the namespace this thread joined. */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, g->ifname, strlen(g->ifname));
	if (ioctl(r->fd, SIOCGIFINDEX, &ifr) < 0)
		return cb_fail(e, errno, "find interface %s%s%s", g->ifname, in, ns);
	ifindex = ifr.ifr_ifindex;
	if (ioctl(r->fd, SIOCGIFFLAGS, &ifr) < 0)
		return cb_fail(e, errno, "get flags of %s", g->ifname);
	if (!(ifr.ifr_flags & IFF_UP))
		return cb_fail(e, ENETDOWN, "interface %s%s%s is down", g->ifname, in, ns);
	if (ioctl(r->fd, SIOCGIFMTU, &ifr) < 0)
		return cb_fail(e, errno, "get MTU of %s", g->ifname);
	/* Checked here so that a frame the kernel would refuse is a setup error, not an endless
	 * retry or a WRONG_FORMAT slot half-way through a run. */
	for (uint32_t f = 0; f < g->nframes; f++) {
		int limit = frame_limit(g->frames + g->offs[f], ifr.ifr_mtu);

		if ((int64_t)g->lens[f] > limit)
			return cb_fail(e, EMSGSIZE, "frame %u is %u bytes; %s (MTU %d) takes at most %d",
				       f, g->lens[f], g->ifname, ifr.ifr_mtu, limit);
	}

	if (setsockopt(r->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0) {
		/* FORCE needs CAP_NET_ADMIN; without it take what wmem_max allows. */
		if (errno != EPERM ||
		    setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)
			return cb_fail(e, errno, "set SO_SNDBUFFORCE on the %s socket", g->ifname);
	}
	/* Straight to the driver: no qdisc enqueue/dequeue per frame, which is what a generator
	 * measuring the receive side wants (the same choice trafgen makes by default). */
	if (setsockopt(r->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		return cb_fail(e, errno, "set PACKET_QDISC_BYPASS on the %s socket", g->ifname);

	if (g->engine == CB_GEN_TX_RING) {
		if (prepare_tx_ring(g, r, e) < 0)
			return -1;
	} else if (prepare_sendmmsg(g, r, e) < 0) {
		return -1;
	}

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = 0;
	sll.sll_ifindex = ifindex;
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return cb_fail(e, errno, "bind AF_PACKET to %s", g->ifname);
	return 0;
}

static void teardown(struct gen_run *r)
{
	if (r->ring.map)
		munmap(r->ring.map, r->ring.map_bytes);
	free(r->ring.slot_frame);
	free(r->iov);
	free(r->hdrs);
	free(r->stamps);
	if (r->fd >= 0)
		close(r->fd);
}

/* CLOCK_THREAD_CPUTIME_ID cannot fail for the calling thread; 0 if it somehow does. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *gen_thread(void *arg)
{
	struct cb_gen *g = arg;
	struct gen_run r;
	struct cb_error err;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	r.fd = -1;
	rc = setup(g, &r, &err);

	pthread_mutex_lock(&g->lock);
	if (rc < 0) {
		g->setup_err = err;
		g->setup_failed = true;
	} else {
		atomic_store_explicit(&g->running, true, memory_order_release);
	}
	g->setup_done = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);

	if (rc == 0) {
		uint64_t cpu0 = thread_cpu_ns();

		atomic_store_explicit(&g->cpu_start_ns, cpu0, memory_order_release);
		rc = g->engine == CB_GEN_TX_RING ? run_tx_ring(g, &r, &err) : run_sendmmsg(g, &r, &err);
		atomic_store_explicit(&g->cpu_ns, thread_cpu_ns() - cpu0, memory_order_relaxed);
		if (rc < 0) {
			pthread_mutex_lock(&g->lock);
			g->run_err = err;
			g->has_run_err = true;
			pthread_mutex_unlock(&g->lock);
		}
	}
	/* Not running any more as soon as the counts are final: closing a packet socket waits for
	 * RCU grace periods (tens of ms, more with a ring), and a caller polling for the end of a
	 * counted run should not wait for that. stop() still joins, so nothing outlives it. */
	atomic_store_explicit(&g->running, false, memory_order_release);
	teardown(&r);
	return NULL;
}

/* ---- public API --------------------------------------------------------------------------- */

struct cb_gen *cb_gen_create(const struct cb_gen_options *o, struct cb_error *e)
{
	struct cb_gen *g;
	uint64_t total = 0;
	size_t namelen;

	if (!o->ifname || (namelen = strlen(o->ifname)) == 0 || namelen >= IFNAMSIZ) {
		cb_fail(e, EINVAL, "generator: interface name '%s' must be 1 to %d characters",
			o->ifname ? o->ifname : "", IFNAMSIZ - 1);
		return NULL;
	}
	if (o->nframes == 0) {
		cb_fail(e, EINVAL, "generator: the fixture has no frames");
		return NULL;
	}
	for (uint32_t f = 0; f < o->nframes; f++) {
		if (o->frame_lengths[f] < ETH_HLEN || o->frame_lengths[f] > MAX_FRAME_BYTES) {
			cb_fail(e, EINVAL, "generator: frame %u is %u bytes; frames must be %d to %u bytes",
				f, o->frame_lengths[f], ETH_HLEN, MAX_FRAME_BYTES);
			return NULL;
		}
		total += o->frame_lengths[f];
	}
	if (total > o->frames_bytes) {
		cb_fail(e, EINVAL, "generator: frame lengths add up to %llu bytes but frames holds %zu",
			(unsigned long long)total, o->frames_bytes);
		return NULL;
	}
	if (o->batch == 0 || o->batch > CB_GEN_MAX_BATCH) {
		cb_fail(e, EINVAL, "generator: batch %u is not in 1..%u", o->batch, CB_GEN_MAX_BATCH);
		return NULL;
	}
	if (o->cpu < -1 || o->cpu >= CPU_SETSIZE) {
		cb_fail(e, EINVAL, "generator: cpu %d is not -1 or a CPU number", o->cpu);
		return NULL;
	}
	if (!(o->rate_pps >= 0) || isinf(o->rate_pps)) {
		cb_fail(e, EINVAL, "generator: rate must be a finite number >= 0");
		return NULL;
	}
	if (o->duration_ms > UINT64_MAX / 1000000ull) {
		cb_fail(e, EINVAL, "generator: duration too long");
		return NULL;
	}
	if (o->engine != CB_GEN_SENDMMSG && o->engine != CB_GEN_TX_RING) {
		cb_fail(e, EINVAL, "generator: unknown engine %d", (int)o->engine);
		return NULL;
	}
	for (uint32_t f = 0; o->stamp && f < o->nframes; f++) {
		if (o->frame_lengths[f] < CB_GEN_MIN_STAMPED_FRAME) {
			cb_fail(e, EINVAL, "generator: frame %u is %u bytes; stamping needs at least %u",
				f, o->frame_lengths[f], CB_GEN_MIN_STAMPED_FRAME);
			return NULL;
		}
	}

	g = calloc(1, sizeof(*g));
	if (!g) {
		cb_fail(e, ENOMEM, "generator: allocate state");
		return NULL;
	}
	g->frames = malloc(total);
	g->lens = malloc((size_t)o->nframes * sizeof(*g->lens));
	g->offs = malloc((size_t)o->nframes * sizeof(*g->offs));
	g->netns_path = o->netns_path ? strdup(o->netns_path) : NULL;
	if (!g->frames || !g->lens || !g->offs || (o->netns_path && !g->netns_path)) {
		cb_fail(e, ENOMEM, "generator: copy %llu bytes of frames", (unsigned long long)total);
		free(g->frames);
		free(g->lens);
		free(g->offs);
		free(g->netns_path);
		free(g);
		return NULL;
	}
	memcpy(g->frames, o->frames, total);
	memcpy(g->lens, o->frame_lengths, (size_t)o->nframes * sizeof(*g->lens));
	total = 0;
	for (uint32_t f = 0; f < o->nframes; f++) {
		g->offs[f] = total;
		total += g->lens[f];
		if (g->lens[f] > g->max_len)
			g->max_len = g->lens[f];
	}
	memcpy(g->ifname, o->ifname, namelen + 1);
	g->nframes = o->nframes;
	g->count = o->count;
	g->duration_ns = o->duration_ms * 1000000ull;
	g->rate_pps = o->rate_pps;
	g->batch = o->batch;
	g->cpu = o->cpu;
	g->engine = o->engine;
	g->stamp = o->stamp;

	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	atomic_init(&g->stop_req, false);
	atomic_init(&g->running, false);
	atomic_init(&g->sent, 0);
	atomic_init(&g->first_ns, 0);
	atomic_init(&g->last_ns, 0);
	atomic_init(&g->cpu_ns, 0);
	atomic_init(&g->cpu_start_ns, 0);
	return g;
}

int cb_gen_start(struct cb_gen *g, struct cb_error *e)
{
	sigset_t all, old;
	int err;

	pthread_mutex_lock(&g->lock);
	if (g->started) {
		pthread_mutex_unlock(&g->lock);
		return cb_fail(e, EALREADY, "generator: start() may only be called once");
	}
	if (atomic_load(&g->stop_req)) {
		pthread_mutex_unlock(&g->lock);
		return cb_fail(e, EINVAL, "generator: already stopped; create a new one");
	}
	g->started = true;
	pthread_mutex_unlock(&g->lock);

	/* The thread inherits our signal mask: block everything while creating it so that signals
	 * (SIGINT, SIGCHLD, ...) keep going to Node's threads and never interrupt the generator. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&g->thread, NULL, gen_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		g->joined = true; /* nothing to join */
		return cb_fail(e, err, "generator: create thread");
	}

	pthread_mutex_lock(&g->lock);
	while (!g->setup_done)
		pthread_cond_wait(&g->cond, &g->lock);
	if (g->setup_failed) {
		*e = g->setup_err;
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->thread, NULL);
		g->joined = true;
		return -1;
	}
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/*
 * The running thread's CPU time so far, less what its setup took: read through its CPU clock
 * from the controlling thread, so the sending loop pays nothing for it. 0 if the thread has just
 * exited (its clock is gone; the final figure follows once running is seen false).
 */
static uint64_t running_cpu_ns(struct cb_gen *g)
{
	uint64_t start = atomic_load_explicit(&g->cpu_start_ns, memory_order_acquire);
	struct timespec ts;
	clockid_t clock;

	if (start == 0 || pthread_getcpuclockid(g->thread, &clock) != 0 ||
	    clock_gettime(clock, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - start;
}

void cb_gen_status(struct cb_gen *g, struct cb_gen_status *st)
{
	/* running first, with acquire: if the thread has finished, the counters read after it are
	 * its final values. */
	bool running = atomic_load_explicit(&g->running, memory_order_acquire);
	uint64_t first = atomic_load_explicit(&g->first_ns, memory_order_relaxed);
	uint64_t last = atomic_load_explicit(&g->last_ns, memory_order_relaxed);

	memset(st, 0, sizeof(*st));
	st->running = running;
	st->sent = atomic_load_explicit(&g->sent, memory_order_relaxed);
	st->cpu_ns = running ? running_cpu_ns(g) : atomic_load_explicit(&g->cpu_ns, memory_order_relaxed);
	if (first == 0)
		st->elapsed_ns = 0;
	else if (running)
		st->elapsed_ns = cb_now_ns() - first;
	else
		st->elapsed_ns = last > first ? last - first : 0;
	pthread_mutex_lock(&g->lock);
	if (g->has_run_err) {
		st->has_error = true;
		st->error = g->run_err;
	}
	pthread_mutex_unlock(&g->lock);
}

void cb_gen_stop(struct cb_gen *g, struct cb_gen_status *st)
{
	atomic_store(&g->stop_req, true);
	if (g->started && !g->joined) {
		pthread_join(g->thread, NULL);
		g->joined = true;
	}
	if (st)
		cb_gen_status(g, st);
}

void cb_gen_destroy(struct cb_gen *g)
{
	if (!g)
		return;
	cb_gen_stop(g, NULL);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g->frames);
	free(g->lens);
	free(g->offs);
	free(g->netns_path);
	free(g);
}
