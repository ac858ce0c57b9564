// SPDX-License-Identifier: GPL-2.0
/*
 * fastnet: the INJECT modes. A frame the process hands over (write(), or FASTNET_IOC_SEND for
 * several) is copied into a new skb and transmitted on the bound interface with dev_queue_xmit()
 * (INJECT), or handed to netif_rx() on it as if received (INJECT_RX). Process context only:
 * nothing here runs under a spinlock or RCU while it copies from the process or allocates.
 * See fastnet_uapi.h for the ABI and fastnet.h for the locking.
 */
#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/if_vlan.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "fastnet.h"

/* Descriptors copied from the process at a time by FASTNET_IOC_SEND: 256 bytes of stack. */
#define FASTNET_SEND_CHUNK	16

/*
 * The interface an INJECT file sends on, with a reference of the caller's own (see fastnet.h),
 * and the mode; or why the file cannot send (EINVAL, or the errno that ended its binding).
 */
static struct net_device *fastnet_tx_get(struct fastnet_file *f, netdevice_tracker *tracker,
					 u32 *mode)
{
	struct net_device *dev = NULL;
	int error;

	mutex_lock(&f->lock);
	*mode = f->mode;
	error = f->error;
	if (fastnet_mode_injects(*mode) && f->dev) {
		dev = f->dev;
		netdev_hold(dev, tracker, GFP_KERNEL);
	}
	mutex_unlock(&f->lock);
	if (dev)
		return dev;
	return ERR_PTR(error ? -error : -EINVAL);
}

/*
 * An skb with room for a frame of len bytes and the interface's headroom, or an error: EINVAL or
 * EMSGSIZE for the length (a tagged frame's 4 more bytes are checked by fastnet_tx_len_ok() once
 * its bytes are in), ENETDOWN, ENOMEM. *mtu is the MTU the length was checked against.
 */
static struct sk_buff *fastnet_tx_alloc(struct fastnet_file *f, struct net_device *dev,
					size_t len, unsigned int *mtu)
{
	struct sk_buff *skb;

	*mtu = READ_ONCE(dev->mtu);
	if (len < ETH_HLEN)
		return ERR_PTR(-EINVAL);
	if (len > (size_t)*mtu + ETH_HLEN + VLAN_HLEN)
		return ERR_PTR(-EMSGSIZE);
	/* Down: dev_queue_xmit() would drop it, netif_rx() too. Not handed over, so not taken. */
	if (!(READ_ONCE(dev->flags) & IFF_UP)) {
		atomic64_inc(&f->stats.tx_failed);
		return ERR_PTR(-ENETDOWN);
	}
	skb = alloc_skb(LL_RESERVED_SPACE(dev) + len + dev->needed_tailroom,
			GFP_KERNEL | __GFP_NOWARN);
	if (!skb) {
		atomic64_inc(&f->stats.tx_failed);
		return ERR_PTR(-ENOMEM);
	}
	skb_reserve(skb, LL_RESERVED_SPACE(dev));
	return skb;
}

/* Beyond MTU + ETH_HLEN only by a tag of the frame's own, as AF_PACKET allows. */
static bool fastnet_tx_len_ok(const struct sk_buff *skb, unsigned int mtu)
{
	if (skb->len <= mtu + ETH_HLEN)
		return true;
	return eth_type_vlan(((const struct ethhdr *)skb->data)->h_proto);
}

/*
 * Sends the frame in skb (its bytes at skb->data) and counts it: 0 when the interface took it,
 * ENOBUFS when it refused it for room, another error otherwise. The skb is consumed either way.
 */
static int fastnet_tx_xmit(struct fastnet_file *f, struct net_device *dev, u32 mode,
			   struct sk_buff *skb)
{
	unsigned int len = skb->len;
	int rc;

	skb->dev = dev;
	if (mode == FASTNET_MODE_INJECT_RX) {
		/* As a driver hands up a frame: MAC header pulled, pkt_type set from it. */
		skb->protocol = eth_type_trans(skb, dev);
		rc = netif_rx(skb) == NET_RX_SUCCESS ? 0 : -ENOBUFS;
	} else {
		/* As AF_PACKET's SOCK_RAW sends one: the frame is the MAC header on. */
		skb_reset_mac_header(skb);
		skb_set_network_header(skb, ETH_HLEN);
		skb->protocol = eth_hdr(skb)->h_proto;
		rc = dev_queue_xmit(skb);
		/* NET_XMIT_DROP is ENOBUFS; NET_XMIT_CN taken, as AF_PACKET counts it. */
		if (rc > 0)
			rc = net_xmit_errno(rc);
	}
	if (!rc) {
		atomic64_inc(&f->stats.tx_frames);
		atomic64_add(len, &f->stats.tx_bytes);
	} else if (rc == -ENOBUFS) {
		atomic64_inc(&f->stats.tx_refused);
	} else {
		atomic64_inc(&f->stats.tx_failed);
	}
	return rc;
}

/* One frame of len bytes at addr in the process. 0 when taken, or a negative errno. */
static int fastnet_tx_user(struct fastnet_file *f, struct net_device *dev, u32 mode,
			   const void __user *addr, size_t len)
{
	struct sk_buff *skb;
	unsigned int mtu;

	skb = fastnet_tx_alloc(f, dev, len, &mtu);
	if (IS_ERR(skb))
		return PTR_ERR(skb);
	if (copy_from_user(skb_put(skb, len), addr, len)) {
		kfree_skb(skb);
		return -EFAULT;
	}
	if (!fastnet_tx_len_ok(skb, mtu)) {
		kfree_skb(skb);
		return -EMSGSIZE;
	}
	return fastnet_tx_xmit(f, dev, mode, skb);
}

/* write(): one frame, the whole of what is written (writev()'s pieces make one frame). */
ssize_t fastnet_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct fastnet_file *f = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from);
	netdevice_tracker tracker;
	struct net_device *dev;
	struct sk_buff *skb;
	unsigned int mtu;
	u32 mode;
	int err;

	dev = fastnet_tx_get(f, &tracker, &mode);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	skb = fastnet_tx_alloc(f, dev, len, &mtu);
	if (IS_ERR(skb)) {
		err = PTR_ERR(skb);
	} else if (!copy_from_iter_full(skb_put(skb, len), len, from)) {
		kfree_skb(skb);
		err = -EFAULT;
	} else if (!fastnet_tx_len_ok(skb, mtu)) {
		kfree_skb(skb);
		err = -EMSGSIZE;
	} else {
		err = fastnet_tx_xmit(f, dev, mode, skb);
	}
	netdev_put(dev, &tracker);
	return err ? err : (ssize_t)len;
}

/* FASTNET_IOC_SEND: frames taken, or the first frame's error when none was. */
long fastnet_send(struct file *file, const void __user *arg)
{
	struct fastnet_file *f = file->private_data;
	struct fastnet_frame_desc d[FASTNET_SEND_CHUNK];
	const struct fastnet_frame_desc __user *descs;
	struct fastnet_send req;
	netdevice_tracker tracker;
	struct net_device *dev;
	u32 mode, count, i, k, n;
	long taken = 0;
	int err = 0;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	dev = fastnet_tx_get(f, &tracker, &mode);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	if (req.flags) {
		err = -EINVAL;
		goto out;
	}
	descs = u64_to_user_ptr(req.frames);
	count = min_t(u32, req.count, FASTNET_SEND_MAX_BATCH);
	for (i = 0; i < count && !err; i += n) {
		n = min_t(u32, count - i, FASTNET_SEND_CHUNK);
		if (copy_from_user(d, descs + i, n * sizeof(d[0]))) {
			err = -EFAULT;
			break;
		}
		for (k = 0; k < n; k++) {
			if (d[k].flags)
				err = -EINVAL;
			else
				err = fastnet_tx_user(f, dev, mode, u64_to_user_ptr(d[k].addr),
						      d[k].len);
			if (err)
				break;
			taken++;
		}
		/* Up to 1024 frames in one call: let others run between chunks. */
		cond_resched();
	}
out:
	netdev_put(dev, &tracker);
	return taken ? taken : err;
}
