// SPDX-License-Identifier: GPL-2.0
/*
 * fastnet: ZC mode ("mode 3"). The ring's slots are the NIC's receive buffers: a driver with
 * fastnet's hook (fastnet_zc.h) asks rx_alloc() for a buffer per RX descriptor and tells
 * rx_frame() what landed in it, and the slot is published READY with the same store-release as
 * in RING mode, so the process reads it the same way. Nothing here knows a driver's descriptor
 * format; nothing in the driver knows a slot.
 *
 * Buffers. One page per slot, so that the NIC's buffer (the driver's buf_len, 2 KiB for e1000)
 * lies inside one physically contiguous page after the slot header. Each page is DMA-mapped
 * once, for the whole binding (DMA_FROM_DEVICE, for the device the driver names); arming a slot
 * syncs its buffer for the device, a completed frame is synced for the CPU.
 *
 * Ownership of slot i, besides its status word (fastnet_uapi.h):
 *   FREE, i == arm    next to give the NIC; rx_alloc() takes it only if the process handed it
 *                     back (load-acquire of FREE), else the NIC gets no more descriptors for now
 *                     (starved) until poll() kicks the driver or its own refill runs again.
 *   FREE, armed       the NIC's: desc_slot[d] == i + 1 for the descriptor d that holds it.
 *                     Slots are armed in ring order from head: [head, arm) are the NIC's.
 *   READY             the process's, published by rx_frame() in ring order (the NIC completes
 *                     descriptors in the order they were armed).
 * rx_reclaim() (the driver freeing its RX buffers: interface down, ring resized, reset, mode 3
 * left) makes every armed slot fastnet's again: arm goes back to head.
 */
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/if_ether.h>
#include <linux/if_vlan.h>
#include <linux/mm.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "fastnet.h"
#include "fastnet_zc.h"

/* The most descriptors a driver may say its ring has: bounds desc_slot[]. */
#define FASTNET_ZC_MAX_DESC	65536

struct fastnet_zc {
	struct fastnet_file *f;
	struct fastnet_ring *ring;
	struct net_device *dev;		/* held by the file while bound */
	struct device *dma_dev;		/* held here while the pages are mapped */
	u32 buf_len;			/* what the NIC may write into a buffer */
	u32 ndesc;			/* entries in desc_slot */
	u32 *desc_slot;			/* per RX descriptor: its slot + 1, or 0 */
	dma_addr_t *dma;		/* per slot: its page's mapping */
	u32 mapped;			/* slots whose page is mapped, from 0 */
	u32 arm;			/* next slot to give the NIC; WRITE_ONCE (poll() reads) */
	u32 armed;			/* slots the NIC holds, from ring->head on */
	bool starved;			/* rx_alloc() found the next slot not FREE; READ/WRITE_ONCE */
	bool enabled;			/* the driver is in mode 3 with our ops; WRITE_ONCE */
	u64 missed_base;		/* the driver's counters when the binding began */
	u64 no_buffer_base;
};

/* Bytes before the Ethernet type, where a tag the NIC took out goes back. */
#define FASTNET_ZC_MAC_ADDRS_LEN	(2 * ETH_ALEN)

/*
 * Where the frame starts in a ZC slot: after the header, and on a line of its own on machines
 * whose DMA is not cache-coherent (the CPU writes the header while the NIC owns the buffer).
 */
u32 fastnet_zc_frame_offset(void)
{
	return ALIGN(FASTNET_SLOT_FRAME_OFFSET, max(dma_get_cache_alignment(), 1));
}

/* Calls the driver's hook: -EOPNOTSUPP when it has none. */
static int fastnet_zc_call(struct net_device *dev, struct fastnet_zc_req *req)
{
	const struct net_device_ops *ops = dev->netdev_ops;

	if (!ops || !ops->ndo_setup_tc)
		return -EOPNOTSUPP;
	req->version = FASTNET_ZC_VERSION;
	return ops->ndo_setup_tc(dev, TC_SETUP_FASTNET_ZC, req);
}

/* QUERY, and whether the NIC's buffers fit a slot. rtnl held. */
static int fastnet_zc_query(struct net_device *dev, struct fastnet_zc_req *req)
{
	int err;

	ASSERT_RTNL();
	memset(req, 0, sizeof(*req));
	req->cmd = FASTNET_ZC_QUERY;
	err = fastnet_zc_call(dev, req);
	if (err == -EMSGSIZE)
		return err;
	if (err || !req->query.dma_dev)
		return -EOPNOTSUPP;
	if (!req->query.buf_len || !req->query.max_desc ||
	    req->query.max_desc > FASTNET_ZC_MAX_DESC)
		return -EOPNOTSUPP;
	if (dev->mtu > req->query.max_mtu)
		return -EMSGSIZE;
	/* The NIC's buffer, and room to put a tag it took out back, inside the slot's page. */
	if (fastnet_zc_frame_offset() + req->query.buf_len + VLAN_HLEN > PAGE_SIZE)
		return -EMSGSIZE;
	return 0;
}

/* Whether dev's driver can take a ZC binding now: 0, -EOPNOTSUPP or -EMSGSIZE. rtnl held. */
int fastnet_zc_check(struct net_device *dev)
{
	struct fastnet_zc_req req;

	return fastnet_zc_query(dev, &req);
}

/* ---- the driver's callbacks: its RX path, serialized by the driver -------------------------- */

static bool fastnet_zc_rx_alloc(void *ctx, unsigned int desc, dma_addr_t *dma)
{
	struct fastnet_zc *zc = ctx;
	struct fastnet_ring *ring = zc->ring;
	u32 slot = zc->arm;

	if (desc >= zc->ndesc || zc->desc_slot[desc])
		return false;	/* not expected: a descriptor out of range, or one already armed */
	if (zc->armed == ring->slot_count)
		return false;	/* the NIC has every slot */
	/* Acquire: the process's reads of the slot are done before the NIC may write it. */
	if (smp_load_acquire(&fastnet_slot(ring, slot)->status) != FASTNET_SLOT_FREE) {
		WRITE_ONCE(zc->starved, true);
		return false;
	}
	dma_sync_single_range_for_device(zc->dma_dev, zc->dma[slot], ring->frame_offset,
					 zc->buf_len, DMA_FROM_DEVICE);
	*dma = zc->dma[slot] + ring->frame_offset;
	zc->desc_slot[desc] = slot + 1;
	zc->armed++;
	WRITE_ONCE(zc->arm, slot + 1 == ring->slot_count ? 0 : slot + 1);
	return true;
}

/* A tag the NIC took out goes back after the MAC addresses: the frame moves 4 bytes on. */
static u32 fastnet_zc_put_tag(u8 *frame, u32 len, u16 tci)
{
	__be16 proto = htons(ETH_P_8021Q);
	__be16 tci_be = htons(tci);

	memmove(frame + FASTNET_ZC_MAC_ADDRS_LEN + VLAN_HLEN, frame + FASTNET_ZC_MAC_ADDRS_LEN,
		len - FASTNET_ZC_MAC_ADDRS_LEN);
	memcpy(frame + FASTNET_ZC_MAC_ADDRS_LEN, &proto, 2);
	memcpy(frame + FASTNET_ZC_MAC_ADDRS_LEN + 2, &tci_be, 2);
	return len + VLAN_HLEN;
}

/*
 * Counted received on entry and delivered or dropped before the slot is published, as the
 * rx_handler counts (see fastnet_rx_handler).
 */
static void fastnet_zc_rx_frame(void *ctx, unsigned int desc, unsigned int len,
				unsigned int flags, u16 vlan_tci)
{
	struct fastnet_zc *zc = ctx;
	struct fastnet_ring *ring = zc->ring;
	struct fastnet_file *f = zc->f;
	struct fastnet_slot *slot;
	u32 i, out_flags = 0;
	u8 *frame;

	atomic64_inc(&f->stats.received);
	i = desc < zc->ndesc ? zc->desc_slot[desc] : 0;
	if (!i || i - 1 != ring->head) {
		/* Not expected: a descriptor we did not arm, or completed out of order. */
		if (i)
			zc->desc_slot[desc] = 0;
		atomic64_inc(&f->stats.dropped);
		return;
	}
	i--;
	zc->desc_slot[desc] = 0;
	slot = fastnet_slot(ring, i);
	frame = (u8 *)slot + ring->frame_offset;
	if (flags & FASTNET_ZC_RX_DISCARD) {
		len = 0;
		out_flags = FASTNET_FRAME_DISCARDED;
	} else {
		len = min(len, zc->buf_len);
		dma_sync_single_range_for_cpu(zc->dma_dev, zc->dma[i], ring->frame_offset, len,
					      DMA_FROM_DEVICE);
		if ((flags & FASTNET_ZC_RX_VLAN) && len >= FASTNET_ZC_MAC_ADDRS_LEN) {
			len = fastnet_zc_put_tag(frame, len, vlan_tci);
			out_flags |= FASTNET_FRAME_VLAN;
		}
	}
	slot->len = len;
	slot->wire_len = len;
	slot->flags = out_flags;
	flush_dcache_page(ring->pages[((size_t)i * ring->slot_size) >> PAGE_SHIFT]);
	/* As in fastnet_ring_produce(): counted before READY is published. */
	if (out_flags & FASTNET_FRAME_DISCARDED)
		atomic64_inc(&f->stats.dropped);
	else
		atomic64_inc(&f->stats.delivered);
	/* Release: the frame, its lengths and its counts are visible before READY is. */
	smp_store_release(&slot->status, FASTNET_SLOT_READY);
	zc->armed--;
	WRITE_ONCE(ring->head, i + 1 == ring->slot_count ? 0 : i + 1);
	fastnet_wake_readers(f);
}

static void fastnet_zc_rx_reclaim(void *ctx)
{
	struct fastnet_zc *zc = ctx;

	memset(zc->desc_slot, 0, zc->ndesc * sizeof(*zc->desc_slot));
	zc->armed = 0;
	WRITE_ONCE(zc->arm, zc->ring->head);
	WRITE_ONCE(zc->starved, false);
}

static const struct fastnet_zc_ops fastnet_zc_ops = {
	.rx_alloc = fastnet_zc_rx_alloc,
	.rx_frame = fastnet_zc_rx_frame,
	.rx_reclaim = fastnet_zc_rx_reclaim,
};

/* ---- binding: rtnl and f->lock held ----------------------------------------------------------- */

/*
 * Before the binding: asks the driver, maps every slot's page for its device and makes the
 * per-descriptor table. On success the ring owns it all (fastnet_ring_free() undoes it);
 * on failure nothing is left.
 */
int fastnet_zc_setup(struct fastnet_file *f, struct net_device *dev, struct fastnet_ring *ring)
{
	struct fastnet_zc_req req;
	struct fastnet_zc *zc;
	u32 i;
	int err;

	err = fastnet_zc_query(dev, &req);
	if (err)
		return err;
	if (ring->slot_size != PAGE_SIZE || ring->npages != ring->slot_count ||
	    ring->frame_offset != fastnet_zc_frame_offset())
		return -EINVAL;	/* not expected: the ring was not made for ZC */
	zc = kzalloc(sizeof(*zc), GFP_KERNEL);
	if (!zc)
		return -ENOMEM;
	zc->f = f;
	zc->ring = ring;
	zc->dev = dev;
	zc->buf_len = req.query.buf_len;
	zc->ndesc = req.query.max_desc;
	zc->desc_slot = kvcalloc(zc->ndesc, sizeof(*zc->desc_slot), GFP_KERNEL);
	zc->dma = kvcalloc(ring->slot_count, sizeof(*zc->dma), GFP_KERNEL);
	if (!zc->desc_slot || !zc->dma) {
		kvfree(zc->desc_slot);
		kvfree(zc->dma);
		kfree(zc);
		return -ENOMEM;
	}
	zc->dma_dev = get_device(req.query.dma_dev);
	ring->zc = zc;
	for (i = 0; i < ring->slot_count; i++) {
		dma_addr_t dma = dma_map_page(zc->dma_dev, ring->pages[i], 0, PAGE_SIZE,
					      DMA_FROM_DEVICE);

		if (dma_mapping_error(zc->dma_dev, dma)) {
			fastnet_zc_free(ring);
			return -ENOMEM;
		}
		zc->dma[i] = dma;
		zc->mapped++;
	}
	ring->max_frame = zc->buf_len + VLAN_HLEN;
	return 0;
}

/* Undoes fastnet_zc_setup(), once no DMA into the pages can be in flight. */
void fastnet_zc_free(struct fastnet_ring *ring)
{
	struct fastnet_zc *zc = ring->zc;
	u32 i;

	for (i = 0; i < zc->mapped; i++)
		dma_unmap_page(zc->dma_dev, zc->dma[i], PAGE_SIZE, DMA_FROM_DEVICE);
	put_device(zc->dma_dev);
	kvfree(zc->desc_slot);
	kvfree(zc->dma);
	kfree(zc);
	ring->zc = NULL;
}

/* The driver's counters now; zeros if it cannot say. rtnl held. */
static void fastnet_zc_read_nic(struct fastnet_zc *zc, u64 *missed, u64 *no_buffer)
{
	struct fastnet_zc_req req;

	memset(&req, 0, sizeof(req));
	req.cmd = FASTNET_ZC_STATS;
	if (fastnet_zc_call(zc->dev, &req)) {
		req.stats.missed = 0;
		req.stats.no_buffer = 0;
	}
	*missed = req.stats.missed;
	*no_buffer = req.stats.no_buffer;
}

/*
 * The driver enters mode 3: every RX buffer it holds is replaced by a slot (as many as are
 * free), and frames land in slots from now on.
 */
int fastnet_zc_enable(struct fastnet_ring *ring)
{
	struct fastnet_zc *zc = ring->zc;
	struct fastnet_zc_req req;
	int err;

	ASSERT_RTNL();
	memset(&req, 0, sizeof(req));
	req.cmd = FASTNET_ZC_ENABLE;
	req.enable.ops = &fastnet_zc_ops;
	req.enable.ctx = zc;
	err = fastnet_zc_call(zc->dev, &req);
	if (err)
		return err;
	WRITE_ONCE(zc->enabled, true);
	fastnet_zc_read_nic(zc, &zc->missed_base, &zc->no_buffer_base);
	return 0;
}

/*
 * The driver leaves mode 3 and takes its own buffers back: no callback runs and no DMA into a
 * slot is in flight once this returns.
 */
void fastnet_zc_disable(struct fastnet_ring *ring)
{
	struct fastnet_zc *zc = ring->zc;
	struct fastnet_zc_req req;

	ASSERT_RTNL();
	if (!zc->enabled)
		return;
	memset(&req, 0, sizeof(req));
	req.cmd = FASTNET_ZC_DISABLE;
	/* A driver cannot refuse (fastnet_zc.h), so there is nothing to do with an error. */
	fastnet_zc_call(zc->dev, &req);
	WRITE_ONCE(zc->enabled, false);
}

/*
 * From poll() under rcu_read_lock(), when the process has nothing to read: if the NIC ran out
 * of slots and the next one has come back, have the driver refill now rather than at its next
 * interrupt (e1000's watchdog makes one every 2 s). The ring and zc outlive the RCU section:
 * fastnet_unbind() frees them only after the rx_handler is unregistered.
 */
void fastnet_zc_kick(struct fastnet_ring *ring)
{
	struct fastnet_zc *zc = ring->zc;
	struct fastnet_zc_req req;
	u32 slot;

	if (!zc || !READ_ONCE(zc->enabled) || !READ_ONCE(zc->starved))
		return;
	slot = READ_ONCE(zc->arm);
	if (smp_load_acquire(&fastnet_slot(ring, slot)->status) != FASTNET_SLOT_FREE)
		return;
	WRITE_ONCE(zc->starved, false);
	memset(&req, 0, sizeof(req));
	req.cmd = FASTNET_ZC_KICK;
	fastnet_zc_call(zc->dev, &req);
}

/* The NIC's drops since the binding began. rtnl held. */
int fastnet_zc_nic_stats(struct fastnet_ring *ring, struct fastnet_nic_stats *out)
{
	struct fastnet_zc *zc = ring->zc;
	u64 missed, no_buffer;

	ASSERT_RTNL();
	fastnet_zc_read_nic(zc, &missed, &no_buffer);
	out->missed = missed > zc->missed_base ? missed - zc->missed_base : 0;
	out->no_buffer = no_buffer > zc->no_buffer_base ? no_buffer - zc->no_buffer_base : 0;
	return 0;
}
