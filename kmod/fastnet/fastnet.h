/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastnet internals: the per-file state shared by the device, the rx_handler and the ring.
 *
 * Locking:
 *   rtnl_lock  > fastnet_file.lock: binding and unbinding (rx_handler registration, the
 *                device reference, mode, ring and queue bound) happen under both; the
 *                NETDEV_UNREGISTER notifier already holds rtnl. mmap() (under mmap_lock)
 *                and the query ioctls take only fastnet_file.lock, and nothing is taken
 *                inside it.
 *   rx_handler   runs in softirq under rcu_read_lock(): it finds the file through
 *                dev->rx_handler_data, and is only registered while mode, ring and the queue
 *                bound are set. Unbinding unregisters it first, and
 *                netdev_rx_handler_unregister() waits for handlers in flight
 *                (synchronize_net()), so nothing it uses is freed under it.
 *   queue        sk_buff_head's own spinlock (irq-safe); read() dequeues without other locks.
 *   ring         ring->lock serializes producers (softirq, any CPU); the process side never
 *                takes it. poll() reads ring->head locklessly and finds the ring under RCU.
 *   ZC           the ring's producer is the driver's RX path (zc.c's callbacks), which the
 *                driver serializes itself (fastnet_zc.h): ring->lock is not taken. Entering
 *                and leaving mode 3 happen under rtnl and f->lock; leaving comes first in an
 *                unbind, so once the rx_handler is unregistered no callback and no poll() kick
 *                can run, and the DMA mappings go with the ring.
 *   INJECT*      no rx_handler: a bound file is on fastnet_tx_files (main.c), changed and
 *                walked under rtnl, where the NETDEV_UNREGISTER notifier finds it. write() and
 *                SEND (tx.c, process context) take f->lock only to read the mode and take
 *                their own reference on f->dev, and drop it before copying from the process
 *                (a fault there may take mmap_lock, which mmap() holds when it takes f->lock);
 *                they build and send with that reference, so an unbind meanwhile lets them
 *                finish, and unregistering the interface waits for them.
 */
#ifndef FASTNET_H
#define FASTNET_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "fastnet_uapi.h"

struct fastnet_zc;

struct fastnet_ring {
	spinlock_t lock;	/* producers (RING) */
	u32 head;		/* next slot the kernel fills; WRITE_ONCE under lock (ZC: by the driver) */
	u32 slot_count;
	u32 slot_size;		/* RING: FASTNET_SLOT_SIZE; ZC: PAGE_SIZE */
	u32 frame_offset;
	u32 max_frame;
	unsigned int npages;
	struct page **pages;	/* order-0 pages: mapped to the process with vm_map_pages() */
	u8 *base;		/* the same pages, vmap()ed for the kernel */
	struct fastnet_zc *zc;	/* ZC: the NIC's side of the ring (zc.c); NULL otherwise */
};

static inline struct fastnet_slot *fastnet_slot(const struct fastnet_ring *ring, u32 i)
{
	return (struct fastnet_slot *)(ring->base + (size_t)i * ring->slot_size);
}

struct fastnet_counters {
	atomic64_t received;
	atomic64_t delivered;
	atomic64_t dropped;
	atomic64_t full;
	atomic64_t discarded;
	atomic64_t truncated;
	atomic64_t tx_frames;
	atomic64_t tx_bytes;
	atomic64_t tx_refused;
	atomic64_t tx_failed;
};

struct fastnet_file {
	struct mutex lock;		/* see above */
	struct net_device *dev;		/* bound interface, held; NULL when OFF */
	netdevice_tracker dev_tracker;
	u32 mode;			/* enum fastnet_mode; READ_ONCE outside the locks */
	u32 depth;
	int error;			/* positive errno: why the binding ended; READ_ONCE */
	u32 limit;			/* READ: queue bound; READ_ONCE in the rx_handler */
	struct sk_buff_head queue;	/* READ */
	struct fastnet_ring __rcu *ring; /* RING */
	wait_queue_head_t wait;		/* readers and pollers */
	struct fastnet_counters stats;
	spinlock_t last_lock;		/* protects last */
	struct fastnet_last_read last;	/* under last_lock */
	struct list_head tx_node;	/* INJECT*: on fastnet_tx_files, under rtnl */
};

/* The modes that send frames the process hands over, with no rx_handler. */
static inline bool fastnet_mode_injects(u32 mode)
{
	return mode == FASTNET_MODE_INJECT || mode == FASTNET_MODE_INJECT_RX;
}

/* rx.c */
rx_handler_result_t fastnet_rx_handler(struct sk_buff **pskb);
void fastnet_drop(struct fastnet_file *f, struct sk_buff *skb, bool full);
u32 fastnet_wire_len(const struct sk_buff *skb);
int fastnet_copy_wire(const struct sk_buff *skb, u8 *dst, u32 cap);
ssize_t fastnet_read_iter(struct kiocb *iocb, struct iov_iter *to);
__poll_t fastnet_poll(struct file *file, struct poll_table_struct *wait);
void fastnet_wake(struct fastnet_file *f);
void fastnet_wake_readers(struct fastnet_file *f);

/* tx.c */
ssize_t fastnet_write_iter(struct kiocb *iocb, struct iov_iter *from);
long fastnet_send(struct file *file, const void __user *arg);

/* ring.c */
struct fastnet_ring *fastnet_ring_alloc(u32 slot_count, u32 slot_size, u32 frame_offset);
void fastnet_ring_free(struct fastnet_ring *ring);
size_t fastnet_ring_bytes(const struct fastnet_ring *ring);
bool fastnet_ring_produce(struct fastnet_file *f, struct fastnet_ring *ring,
			  struct sk_buff *skb);
bool fastnet_ring_readable(const struct fastnet_ring *ring);
int fastnet_mmap(struct file *file, struct vm_area_struct *vma);

/* zc.c */
u32 fastnet_zc_frame_offset(void);
int fastnet_zc_check(struct net_device *dev);
int fastnet_zc_setup(struct fastnet_file *f, struct net_device *dev, struct fastnet_ring *ring);
int fastnet_zc_enable(struct fastnet_ring *ring);
void fastnet_zc_disable(struct fastnet_ring *ring);
void fastnet_zc_free(struct fastnet_ring *ring);
void fastnet_zc_kick(struct fastnet_ring *ring);
int fastnet_zc_nic_stats(struct fastnet_ring *ring, struct fastnet_nic_stats *out);

#endif /* FASTNET_H */
