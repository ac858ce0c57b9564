// SPDX-License-Identifier: GPL-2.0
/*
 * fastnet: the rx_handler that steals a bound interface's frames, the READ queue with read()
 * and poll(), and frames put back in wire layout.
 */
#include <linux/if_ether.h>
#include <linux/if_vlan.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>
#include <net/dst.h>

#include "fastnet.h"

/* Bytes before the Ethernet type, where a tag the kernel took out goes back. */
#define FASTNET_MAC_ADDRS_LEN	(2 * ETH_ALEN)

/* Whether the frame goes out with a tag written back: one is in metadata, and there is room. */
static bool fastnet_puts_tag(const struct sk_buff *skb)
{
	return skb_vlan_tag_present(skb) && skb->len >= FASTNET_MAC_ADDRS_LEN;
}

static void fastnet_tag_bytes(const struct sk_buff *skb, u8 tag[VLAN_HLEN])
{
	__be16 proto = skb->vlan_proto;
	__be16 tci = htons(skb_vlan_tag_get(skb));

	memcpy(tag, &proto, 2);
	memcpy(tag + 2, &tci, 2);
}

/* The frame's length on the wire. skb->data is at the MAC header (see fastnet_rx_handler). */
u32 fastnet_wire_len(const struct sk_buff *skb)
{
	return skb->len + (fastnet_puts_tag(skb) ? VLAN_HLEN : 0);
}

/*
 * Copies the first min(wire length, cap) bytes of the frame in wire layout to dst. 0, or
 * -EFAULT if the skb is shorter than it says (not expected).
 */
int fastnet_copy_wire(const struct sk_buff *skb, u8 *dst, u32 cap)
{
	u32 len = min(fastnet_wire_len(skb), cap);
	u8 tag[VLAN_HLEN];
	u32 head, n;

	if (!fastnet_puts_tag(skb))
		return skb_copy_bits(skb, 0, dst, len);
	head = min_t(u32, len, FASTNET_MAC_ADDRS_LEN);
	if (skb_copy_bits(skb, 0, dst, head))
		return -EFAULT;
	if (len == head)
		return 0;
	fastnet_tag_bytes(skb, tag);
	n = min_t(u32, len - head, VLAN_HLEN);
	memcpy(dst + head, tag, n);
	if (len == head + n)
		return 0;
	return skb_copy_bits(skb, FASTNET_MAC_ADDRS_LEN, dst + head + n, len - head - n);
}

/* As fastnet_copy_wire(), to a read() buffer. Bytes copied, or -EFAULT. */
static ssize_t fastnet_copy_wire_iter(const struct sk_buff *skb, struct iov_iter *to, u32 cap)
{
	u32 len = min(fastnet_wire_len(skb), cap);
	u8 tag[VLAN_HLEN];
	u32 head, n;

	if (!fastnet_puts_tag(skb)) {
		if (skb_copy_datagram_iter(skb, 0, to, len))
			return -EFAULT;
		return len;
	}
	head = min_t(u32, len, FASTNET_MAC_ADDRS_LEN);
	if (skb_copy_datagram_iter(skb, 0, to, head))
		return -EFAULT;
	if (len == head)
		return len;
	fastnet_tag_bytes(skb, tag);
	n = min_t(u32, len - head, VLAN_HLEN);
	if (copy_to_iter(tag, n, to) != n)
		return -EFAULT;
	if (len == head + n)
		return len;
	if (skb_copy_datagram_iter(skb, FASTNET_MAC_ADDRS_LEN, to, len - head - n))
		return -EFAULT;
	return len;
}

void fastnet_wake(struct fastnet_file *f)
{
	wake_up_interruptible_all(&f->wait);
}

/* Wakes readers and pollers if there are any; wq_has_sleeper() pairs with their barrier. */
void fastnet_wake_readers(struct fastnet_file *f)
{
	if (wq_has_sleeper(&f->wait))
		wake_up_interruptible_poll(&f->wait, EPOLLIN | EPOLLRDNORM);
}

void fastnet_drop(struct fastnet_file *f, struct sk_buff *skb, bool full)
{
	if (full)
		atomic64_inc(&f->stats.full);
	/* full first: once dropped accounts for the frame (see fastnet_rx_handler), so does full. */
	smp_mb__before_atomic();
	atomic64_inc(&f->stats.dropped);
	kfree_skb(skb);
}

static void fastnet_enqueue(struct fastnet_file *f, struct sk_buff *skb)
{
	unsigned long flags;

	/* Queued frames must not hold the sender's socket memory or a route. */
	skb_orphan(skb);
	skb_dst_drop(skb);
	spin_lock_irqsave(&f->queue.lock, flags);
	if (skb_queue_len(&f->queue) >= READ_ONCE(f->limit)) {
		spin_unlock_irqrestore(&f->queue.lock, flags);
		fastnet_drop(f, skb, true);
		return;
	}
	__skb_queue_tail(&f->queue, skb);
	spin_unlock_irqrestore(&f->queue.lock, flags);
	fastnet_wake_readers(f);
}

/*
 * Runs in softirq under rcu_read_lock(), after the core has moved an 802.1Q tag into
 * metadata and delivered to taps. Every frame is stolen: RX_HANDLER_CONSUMED whatever happens.
 */
rx_handler_result_t fastnet_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct fastnet_file *f = rcu_dereference(skb->dev->rx_handler_data);
	struct fastnet_ring *ring;

	/*
	 * Counted on entry; the frame is counted delivered, dropped, discarded or queued before this
	 * handler returns, so their sum trails received only while a handler is inside a frame: one
	 * softirq run, which does not sleep and copies one frame at most (a virtual CPU can still
	 * stall in it: tests under TCG caught the gap). Readers that compare counts therefore wait
	 * until received equals the sum, true whenever no frame is in flight. Comparing received
	 * with one part alone can catch the gap; counting on exit would only move it elsewhere.
	 */
	atomic64_inc(&f->stats.received);
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb) {
		atomic64_inc(&f->stats.dropped);
		return RX_HANDLER_CONSUMED;
	}
	switch (READ_ONCE(f->mode)) {
	case FASTNET_MODE_DROP:
		atomic64_inc(&f->stats.discarded);
		consume_skb(skb);
		break;
	case FASTNET_MODE_READ:
	case FASTNET_MODE_RING:
		if (!skb_mac_header_was_set(skb)) {
			fastnet_drop(f, skb, false);
			break;
		}
		/* From here on skb->data is the start of the frame. */
		__skb_push(skb, skb->data - skb_mac_header(skb));
		if (READ_ONCE(f->mode) == FASTNET_MODE_READ) {
			fastnet_enqueue(f, skb);
			break;
		}
		ring = rcu_dereference(f->ring);
		if (!ring) {
			fastnet_drop(f, skb, false);
			break;
		}
		if (fastnet_ring_produce(f, ring, skb))
			fastnet_wake_readers(f);
		break;
	case FASTNET_MODE_ZC:
		/*
		 * In ZC the NIC writes frames into the ring itself; one that came up the stack
		 * was received before the driver entered mode 3, and is not delivered: slots
		 * are filled in the order the NIC was given them.
		 */
		fastnet_drop(f, skb, false);
		break;
	default:
		/* Not reached: the handler is registered only with a mode set. */
		fastnet_drop(f, skb, false);
		break;
	}
	return RX_HANDLER_CONSUMED;
}

/* 0 when read() may wait for frames, else why not (negative errno). */
static int fastnet_read_state(const struct fastnet_file *f)
{
	int error = READ_ONCE(f->error);

	if (READ_ONCE(f->mode) == FASTNET_MODE_READ)
		return 0;
	return error ? -error : -EINVAL;
}

static bool fastnet_read_ready(const struct fastnet_file *f)
{
	return !skb_queue_empty_lockless(&f->queue) ||
	       READ_ONCE(f->mode) != FASTNET_MODE_READ;
}

/*
 * One frame per read(). A short buffer gets the frame's first bytes and the rest is discarded
 * (FASTNET_IOC_LAST_READ tells the full length). A frame that cannot be copied (EFAULT) is
 * dropped: putting it back could reorder it behind frames another reader has taken.
 */
ssize_t fastnet_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct fastnet_file *f = file->private_data;
	bool nonblock = (file->f_flags & O_NONBLOCK) || (iocb->ki_flags & IOCB_NOWAIT);
	size_t want = iov_iter_count(to);
	struct sk_buff *skb;
	u32 wire_len, flags = 0;
	ssize_t copied;
	int err;

	if (!want)
		return 0;
	for (;;) {
		skb = skb_dequeue(&f->queue);
		if (skb)
			break;
		err = fastnet_read_state(f);
		if (err)
			return err;
		if (nonblock)
			return -EAGAIN;
		err = wait_event_interruptible(f->wait, fastnet_read_ready(f));
		if (err)
			return err;
	}
	wire_len = fastnet_wire_len(skb);
	copied = fastnet_copy_wire_iter(skb, to, min_t(size_t, want, wire_len));
	if (copied < 0) {
		fastnet_drop(f, skb, false);
		return copied;
	}
	if (fastnet_puts_tag(skb))
		flags |= FASTNET_FRAME_VLAN;
	if (copied < wire_len) {
		flags |= FASTNET_FRAME_TRUNCATED;
		atomic64_inc(&f->stats.truncated);
	}
	atomic64_inc(&f->stats.delivered);
	consume_skb(skb);
	spin_lock(&f->last_lock);
	f->last.wire_len = wire_len;
	f->last.copied = copied;
	f->last.flags = flags;
	spin_unlock(&f->last_lock);
	return copied;
}

__poll_t fastnet_poll(struct file *file, struct poll_table_struct *wait)
{
	struct fastnet_file *f = file->private_data;
	struct fastnet_ring *ring;
	__poll_t mask = 0;

	poll_wait(file, &f->wait, wait);
	/* Pairs with wq_has_sleeper() in the rx_handler: see the queue after joining the wait. */
	smp_mb();
	if (READ_ONCE(f->error))
		mask |= EPOLLERR;
	switch (READ_ONCE(f->mode)) {
	case FASTNET_MODE_READ:
		if (!skb_queue_empty_lockless(&f->queue))
			mask |= EPOLLIN | EPOLLRDNORM;
		break;
	case FASTNET_MODE_RING:
	case FASTNET_MODE_ZC:
		rcu_read_lock();
		ring = rcu_dereference(f->ring);
		if (ring && fastnet_ring_readable(ring))
			mask |= EPOLLIN | EPOLLRDNORM;
		else if (ring && ring->zc)
			fastnet_zc_kick(ring);	/* slots came back: the NIC may take them now */
		rcu_read_unlock();
		break;
	case FASTNET_MODE_INJECT:
	case FASTNET_MODE_INJECT_RX:
		/* write() never blocks: it takes a frame, or says ENOBUFS. */
		mask |= EPOLLOUT | EPOLLWRNORM;
		break;
	default:
		break;
	}
	return mask;
}
