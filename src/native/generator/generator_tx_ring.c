/*
 * The generator's tx-ring engine: PACKET_TX_RING with TPACKET_V2 slots, filled in place and handed
 * to the kernel with one send() per batch (netsniff-ng keeps the same engine in ring_tx.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "generator_internal.h"
#include "generator_pacing.h"
#include "monotonic.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long to wait at the end for frames the kernel took but has not yet released. */
#define DRAIN_NS 1000000000ull
/* At least this many slots, and at least 4 batches, so filling never waits on the kernel
 * releasing the slots of the previous batch. */
#define RING_MIN_SLOTS 4096u
#define RING_BLOCK_BYTES (64u * 1024u)
/* Where a TPACKET_V2 TX slot's data starts when PACKET_TX_HAS_OFF is off (the kernel's
 * tp_hdrlen - sizeof(struct sockaddr_ll)). With PACKET_VNET_HDR the data is a virtio_net_hdr
 * followed by the frame. */
#define TX_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define TX_VNET_BYTES (sizeof(struct virtio_net_hdr))

static struct tpacket2_hdr *slot_hdr(const struct gen_ring *rg, uint64_t i)
{
	uint32_t s = (uint32_t)(i % rg->nslots);

	return (struct tpacket2_hdr *)(rg->map +
				       (size_t)(s / rg->frames_per_block) * rg->block_size +
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
	struct gen_ring *rg = &r->ring;
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
	 * allocation, a copy and a page free per frame), which made tx-ring slower than sendmmsg
	 * for small frames (bench/README.md, "Figures behind design choices in the code"). A
	 * virtio_net_hdr whose hdr_len covers the whole frame makes the kernel copy the frame into
	 * the skb's linear part instead: one small memcpy, no fragment. The header asks for nothing
	 * else (no checksum offload, no GSO).
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
		return cb_fail(
			e, errno,
			"set PACKET_TX_RING (%u blocks of %u bytes, %u slots of %u bytes) on %s",
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
static void ring_reclaim(struct cb_gen *g, struct gen_ring *rg)
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

static void ring_fill(struct cb_gen *g, struct gen_ring *rg, uint64_t n)
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
	struct gen_ring *rg = &r->ring;
	uint64_t before = rg->kpos;
	ssize_t rc;
	int err;

	rc = send(r->fd, NULL, 0, MSG_DONTWAIT);
	err = rc < 0 ? errno : 0;
	while (rg->kpos < rg->head) {
		uint32_t st = slot_status(slot_hdr(rg, rg->kpos));

		if (st & TP_STATUS_WRONG_FORMAT)
			return cb_fail(
				e, err ? err : EINVAL,
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
	struct gen_ring *rg = &r->ring;
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

			uint64_t burst = min_u64(want, pacing_burst(g->rate_pps, g->batch));

			/* Bursts, as in run_sendmmsg (generator_sendmmsg.c). */
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
				cb_gen_pace_wait(pacing_until, deadline);
			} else if (cb_gen_backoff_wait(
					   &bo, rg->tail != before_tail, EBUSY, deadline,
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
		if (cb_gen_backoff_wait(&bo, took > 0, err ? err : EAGAIN, deadline,
					"send on tx-ring", g->ifname, e) < 0)
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
			return cb_fail(
				e, ETIMEDOUT,
				"tx-ring on %s: %llu frames taken by the kernel but not released",
				g->ifname, (unsigned long long)(rg->kpos - rg->tail));
		cb_gen_sleep_until(cb_now_ns() + 10000);
	}
}

static void release_tx_ring(struct gen_run *r)
{
	if (r->ring.map)
		munmap(r->ring.map, r->ring.map_bytes);
	free(r->ring.slot_frame);
}

const struct gen_engine cb_gen_tx_ring_engine = {
	.prepare = prepare_tx_ring,
	.run = run_tx_ring,
	.release = release_tx_ring,
};
