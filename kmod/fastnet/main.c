// SPDX-License-Identifier: GPL-2.0
/*
 * fastnet: the /dev/fastnet misc device, binding a file to an interface, and the notifier that
 * unbinds when the interface goes away. See fastnet_uapi.h for the ABI and fastnet.h for the
 * locking.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/if_arp.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "fastnet.h"

/* INJECT files bound to an interface, for the notifier: they have no rx_handler. Under rtnl. */
static LIST_HEAD(fastnet_tx_files);

static int fastnet_open(struct inode *inode, struct file *file)
{
	struct fastnet_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	skb_queue_head_init(&f->queue);
	init_waitqueue_head(&f->wait);
	spin_lock_init(&f->last_lock);
	INIT_LIST_HEAD(&f->tx_node);
	file->private_data = f;
	return stream_open(inode, file);
}

/*
 * Ends the binding: no rx_handler runs once this returns, queued frames are freed and counted
 * as dropped, the ring's pages stay only as long as a process maps them. ZC: the driver leaves
 * mode 3 first, so the NIC no longer writes into the pages when they are unmapped and freed.
 * INJECT: the file leaves fastnet_tx_files; a write() in flight finishes with its own reference.
 * rtnl and f->lock held.
 */
static void fastnet_unbind(struct fastnet_file *f, int error)
{
	struct fastnet_ring *ring;
	struct sk_buff *skb;

	ASSERT_RTNL();
	lockdep_assert_held(&f->lock);
	if (!f->dev)
		return;
	ring = rcu_dereference_protected(f->ring, lockdep_is_held(&f->lock));
	if (fastnet_mode_injects(f->mode)) {
		/* Registered no rx_handler: the interface's may be another's. */
		list_del_init(&f->tx_node);
	} else {
		if (ring && ring->zc)
			fastnet_zc_disable(ring);
		RCU_INIT_POINTER(f->ring, NULL);
		/* Waits for handlers in flight and for poll()s that may still look at the ring. */
		netdev_rx_handler_unregister(f->dev);
	}
	WRITE_ONCE(f->mode, FASTNET_MODE_OFF);
	WRITE_ONCE(f->error, error);
	f->depth = 0;
	while ((skb = skb_dequeue(&f->queue))) {
		atomic64_inc(&f->stats.dropped);
		kfree_skb(skb);
	}
	netdev_put(f->dev, &f->dev_tracker);
	f->dev = NULL;
	if (ring)
		fastnet_ring_free(ring);
	fastnet_wake(f);
}

static int fastnet_release(struct inode *inode, struct file *file)
{
	struct fastnet_file *f = file->private_data;

	rtnl_lock();
	mutex_lock(&f->lock);
	fastnet_unbind(f, 0);
	mutex_unlock(&f->lock);
	rtnl_unlock();
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static u32 fastnet_depth(u32 requested)
{
	return requested ? requested : FASTNET_DEFAULT_DEPTH;
}

/*
 * Checks that the file may take dev in mode: one interface per file; in a receive mode, one file
 * (and no other rx_handler, e.g. a bridge port) per interface. INJECT takes no rx_handler, so
 * any number of files share an interface that way. rtnl and f->lock held.
 */
static int fastnet_may_bind(struct fastnet_file *f, struct net_device *dev, u32 mode)
{
	if (f->dev && f->dev != dev)
		return -EBUSY;
	/* Bound already: to inject, or to receive holding the rx_handler itself. */
	if (f->dev == dev && (fastnet_mode_injects(mode) || !fastnet_mode_injects(f->mode)))
		return 0;
	if (!fastnet_mode_injects(mode) && netdev_is_rx_handler_busy(dev))
		return -EBUSY;
	if (dev->type != ARPHRD_ETHER || (dev->flags & IFF_LOOPBACK))
		return -EINVAL;
	return 0;
}

/* The checks on a request that need no interface: 0 or a negative errno. */
static int fastnet_check_req(const struct fastnet_mode_req *req)
{
	if (req->mode > FASTNET_MODE_INJECT_RX || req->depth > FASTNET_MAX_DEPTH)
		return -EINVAL;
	/* No queue, no ring: a depth would mean nothing (yet). */
	if (fastnet_mode_injects(req->mode) && req->depth)
		return -EINVAL;
	if (req->mode == FASTNET_MODE_OFF)
		return 0;
	if (strnlen(req->ifname, sizeof(req->ifname)) == sizeof(req->ifname) || !req->ifname[0])
		return -EINVAL;
	if (!ns_capable(current->nsproxy->net_ns->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	return 0;
}

/*
 * The interface a request names, if this file may bind it in that mode (ZC: if its driver has
 * the hook and takes the MTU). Changes nothing. rtnl and f->lock held.
 */
static int fastnet_find_dev(struct fastnet_file *f, const struct fastnet_mode_req *req,
			    struct net_device **pdev)
{
	struct net *net = current->nsproxy->net_ns;
	struct net_device *dev;
	int err;

	ASSERT_RTNL();
	lockdep_assert_held(&f->lock);
	dev = __dev_get_by_name(net, req->ifname);
	if (!dev)
		return -ENODEV;
	err = fastnet_may_bind(f, dev, req->mode);
	if (!err && req->mode == FASTNET_MODE_ZC)
		err = fastnet_zc_check(dev);
	if (err)
		return err;
	*pdev = dev;
	return 0;
}

/*
 * SET_MODE to DROP, READ, RING, ZC or an INJECT mode, with the ring (RING and ZC modes)
 * allocated by the caller outside rtnl. On success the file owns the ring; on failure the caller
 * frees it. A request refused by the checks leaves the file as it was.
 */
static int fastnet_bind(struct fastnet_file *f, const struct fastnet_mode_req *req,
			struct fastnet_ring *ring)
{
	struct net_device *dev;
	u32 depth = fastnet_depth(req->depth);
	int err;

	err = fastnet_find_dev(f, req, &dev);
	if (err)
		return err;
	if (fastnet_mode_injects(req->mode)) {
		/* Nothing to register: on the list, for the notifier, with the reference. */
		fastnet_unbind(f, 0);
		WRITE_ONCE(f->mode, req->mode);
		f->depth = 0;
		WRITE_ONCE(f->error, 0);
		list_add(&f->tx_node, &fastnet_tx_files);
		netdev_hold(dev, &f->dev_tracker, GFP_KERNEL);
		f->dev = dev;
		fastnet_wake(f);
		return 0;
	}
	/* ZC: the pages mapped for the NIC, before anything changes. */
	if (req->mode == FASTNET_MODE_ZC) {
		err = fastnet_zc_setup(f, dev, ring);
		if (err)
			return err;
	}
	/*
	 * A change of mode on the bound interface goes through OFF: the handler is only ever
	 * registered with its mode, bound and ring already in place. rtnl keeps the interface
	 * from being taken in between.
	 */
	fastnet_unbind(f, 0);
	WRITE_ONCE(f->mode, req->mode);
	f->depth = depth;
	WRITE_ONCE(f->limit, depth);
	WRITE_ONCE(f->error, 0);
	rcu_assign_pointer(f->ring, ring);
	err = netdev_rx_handler_register(dev, fastnet_rx_handler, f);
	if (err) {
		/* Not expected: fastnet_may_bind() checked under the same rtnl. */
		RCU_INIT_POINTER(f->ring, NULL);
		WRITE_ONCE(f->mode, FASTNET_MODE_OFF);
		synchronize_net();	/* a poll() may have seen the ring */
		return err;
	}
	/* ZC: the driver swaps every RX buffer for a slot; frames land in the ring from now on. */
	if (req->mode == FASTNET_MODE_ZC) {
		err = fastnet_zc_enable(ring);
		if (err) {
			RCU_INIT_POINTER(f->ring, NULL);
			netdev_rx_handler_unregister(dev);	/* and waits for poll()s */
			WRITE_ONCE(f->mode, FASTNET_MODE_OFF);
			return err;
		}
	}
	netdev_hold(dev, &f->dev_tracker, GFP_KERNEL);
	f->dev = dev;
	fastnet_wake(f);
	return 0;
}

static int fastnet_set_mode(struct fastnet_file *f, void __user *arg)
{
	struct fastnet_ring *ring = NULL;
	struct fastnet_mode_req req;
	int err = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	err = fastnet_check_req(&req);
	if (err)
		return err;
	/* Up to FASTNET_MAX_DEPTH slots: allocated before taking rtnl, not under it. */
	if (req.mode == FASTNET_MODE_RING)
		ring = fastnet_ring_alloc(fastnet_depth(req.depth), FASTNET_SLOT_SIZE,
					  FASTNET_SLOT_FRAME_OFFSET);
	else if (req.mode == FASTNET_MODE_ZC)
		ring = fastnet_ring_alloc(fastnet_depth(req.depth), PAGE_SIZE,
					  fastnet_zc_frame_offset());
	if ((req.mode == FASTNET_MODE_RING || req.mode == FASTNET_MODE_ZC) && !ring)
		return -ENOMEM;
	rtnl_lock();
	mutex_lock(&f->lock);
	if (req.mode == FASTNET_MODE_OFF)
		fastnet_unbind(f, 0);
	else
		err = fastnet_bind(f, &req, ring);
	/* ZC: the pages' DMA mappings go while rtnl keeps the device with its driver. */
	if (err && ring && ring->zc)
		fastnet_zc_free(ring);
	mutex_unlock(&f->lock);
	rtnl_unlock();
	if (err && ring)
		fastnet_ring_free(ring);
	return err;
}

static int fastnet_get_mode(struct fastnet_file *f, void __user *arg)
{
	struct fastnet_status st;

	memset(&st, 0, sizeof(st));
	mutex_lock(&f->lock);
	if (f->dev) {
		/* The name may change under us without rtnl; netdev_get_name() would sleep. */
		strscpy(st.ifname, f->dev->name, sizeof(st.ifname));
		st.mode = f->mode;
		st.depth = f->depth;
	}
	st.error = READ_ONCE(f->error);
	mutex_unlock(&f->lock);
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

/*
 * GET_STATS, of any size from FASTNET_STATS_V1_SIZE to the whole structure: a program built
 * before the tx fields asks for the first ones only.
 */
static bool fastnet_is_get_stats(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == FASTNET_IOC_MAGIC &&
	       _IOC_NR(cmd) == _IOC_NR(FASTNET_IOC_GET_STATS) && _IOC_DIR(cmd) == _IOC_READ &&
	       _IOC_SIZE(cmd) >= FASTNET_STATS_V1_SIZE &&
	       _IOC_SIZE(cmd) <= sizeof(struct fastnet_stats);
}

static int fastnet_get_stats(struct fastnet_file *f, void __user *arg, size_t size)
{
	struct fastnet_stats st = {
		.received = atomic64_read(&f->stats.received),
		.delivered = atomic64_read(&f->stats.delivered),
		.dropped = atomic64_read(&f->stats.dropped),
		.full = atomic64_read(&f->stats.full),
		.discarded = atomic64_read(&f->stats.discarded),
		.truncated = atomic64_read(&f->stats.truncated),
		.queued = skb_queue_len_lockless(&f->queue),
		.tx_frames = atomic64_read(&f->stats.tx_frames),
		.tx_bytes = atomic64_read(&f->stats.tx_bytes),
		.tx_refused = atomic64_read(&f->stats.tx_refused),
		.tx_failed = atomic64_read(&f->stats.tx_failed),
	};

	BUILD_BUG_ON(offsetof(struct fastnet_stats, tx_frames) != FASTNET_STATS_V1_SIZE);
	return copy_to_user(arg, &st, size) ? -EFAULT : 0;
}

static int fastnet_get_ring(struct fastnet_file *f, void __user *arg)
{
	struct fastnet_ring_info info;
	struct fastnet_ring *ring;

	memset(&info, 0, sizeof(info));
	mutex_lock(&f->lock);
	ring = rcu_dereference_protected(f->ring, lockdep_is_held(&f->lock));
	if (ring) {
		info.slot_size = ring->slot_size;
		info.slot_count = ring->slot_count;
		info.frame_offset = ring->frame_offset;
		info.max_frame = ring->max_frame;
		info.mmap_bytes = fastnet_ring_bytes(ring);
	}
	mutex_unlock(&f->lock);
	if (!ring)
		return -EINVAL;
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

/* CHECK_MODE: what SET_MODE would say, binding nothing. */
static int fastnet_check_mode(struct fastnet_file *f, const void __user *arg)
{
	struct fastnet_mode_req req;
	struct net_device *dev;
	int err;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	err = fastnet_check_req(&req);
	if (err || req.mode == FASTNET_MODE_OFF)
		return err;
	rtnl_lock();
	mutex_lock(&f->lock);
	err = fastnet_find_dev(f, &req, &dev);
	mutex_unlock(&f->lock);
	rtnl_unlock();
	return err;
}

static int fastnet_get_nic_stats(struct fastnet_file *f, void __user *arg)
{
	struct fastnet_nic_stats st;
	struct fastnet_ring *ring;
	int err = -EINVAL;

	memset(&st, 0, sizeof(st));
	/* The driver reads its counters under rtnl, as for ethtool -S. */
	rtnl_lock();
	mutex_lock(&f->lock);
	ring = rcu_dereference_protected(f->ring, lockdep_is_held(&f->lock));
	if (f->mode == FASTNET_MODE_ZC && ring && ring->zc)
		err = fastnet_zc_nic_stats(ring, &st);
	mutex_unlock(&f->lock);
	rtnl_unlock();
	if (err)
		return err;
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

static int fastnet_last_read(struct fastnet_file *f, void __user *arg)
{
	struct fastnet_last_read last;

	spin_lock(&f->last_lock);
	last = f->last;
	spin_unlock(&f->last_lock);
	return copy_to_user(arg, &last, sizeof(last)) ? -EFAULT : 0;
}

static int fastnet_set_limit(struct fastnet_file *f, const void __user *arg)
{
	u32 limit;
	int err = 0;

	if (copy_from_user(&limit, arg, sizeof(limit)))
		return -EFAULT;
	if (limit < 1 || limit > FASTNET_MAX_DEPTH)
		return -EINVAL;
	mutex_lock(&f->lock);
	if (f->mode == FASTNET_MODE_READ) {
		WRITE_ONCE(f->limit, limit);
		f->depth = limit;
	} else {
		err = -EINVAL;
	}
	mutex_unlock(&f->lock);
	return err;
}

static long fastnet_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct fastnet_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	u32 version = FASTNET_ABI_VERSION;

	switch (cmd) {
	case FASTNET_IOC_GET_VERSION:
		return put_user(version, (u32 __user *)uarg);
	case FASTNET_IOC_SET_MODE:
		return fastnet_set_mode(f, uarg);
	case FASTNET_IOC_GET_MODE:
		return fastnet_get_mode(f, uarg);
	case FASTNET_IOC_GET_STATS:
		return fastnet_get_stats(f, uarg, sizeof(struct fastnet_stats));
	case FASTNET_IOC_GET_RING:
		return fastnet_get_ring(f, uarg);
	case FASTNET_IOC_LAST_READ:
		return fastnet_last_read(f, uarg);
	case FASTNET_IOC_SET_LIMIT:
		return fastnet_set_limit(f, uarg);
	case FASTNET_IOC_CHECK_MODE:
		return fastnet_check_mode(f, uarg);
	case FASTNET_IOC_GET_NIC_STATS:
		return fastnet_get_nic_stats(f, uarg);
	case FASTNET_IOC_SEND:
		return fastnet_send(file, uarg);
	default:
		if (fastnet_is_get_stats(cmd))
			return fastnet_get_stats(f, uarg, _IOC_SIZE(cmd));
		return -ENOTTY;
	}
}

static const struct file_operations fastnet_fops = {
	.owner = THIS_MODULE,
	.open = fastnet_open,
	.release = fastnet_release,
	.read_iter = fastnet_read_iter,
	.write_iter = fastnet_write_iter,
	.poll = fastnet_poll,
	.mmap = fastnet_mmap,
	.unlocked_ioctl = fastnet_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice fastnet_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "fastnet",
	.fops = &fastnet_fops,
	.mode = 0600,
};

/* Unbinds every INJECT file bound to dev, which is going away. True if there was one. rtnl held. */
static bool fastnet_unbind_injectors(struct net_device *dev)
{
	struct fastnet_file *f, *next;
	bool found = false;

	ASSERT_RTNL();
	list_for_each_entry_safe(f, next, &fastnet_tx_files, tx_node) {
		/* f->dev changes only under rtnl, which we hold. */
		if (f->dev != dev)
			continue;
		mutex_lock(&f->lock);
		fastnet_unbind(f, ENODEV);
		mutex_unlock(&f->lock);
		found = true;
	}
	return found;
}

/*
 * An interface bound to a file is going away (or moving to another namespace): unbind, the files
 * that inject into it and the one that holds its rx_handler. ZC: its MTU does not change while
 * bound (the NIC's buffers were sized for it; a larger one would need others, e1000's jumbo
 * ones). 6.1 does not tell NETDEV_PRECHANGEMTU the new MTU, so every change is refused. The
 * binding changes only under rtnl, which the notifier holds.
 */
static int fastnet_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct fastnet_file *f;
	bool injectors = false;

	if (event != NETDEV_UNREGISTER && event != NETDEV_PRECHANGEMTU)
		return NOTIFY_DONE;
	if (event == NETDEV_UNREGISTER)
		injectors = fastnet_unbind_injectors(dev);
	if (rcu_access_pointer(dev->rx_handler) != fastnet_rx_handler)
		return injectors ? NOTIFY_OK : NOTIFY_DONE;
	f = rtnl_dereference(dev->rx_handler_data);
	if (event == NETDEV_PRECHANGEMTU)
		return f->mode == FASTNET_MODE_ZC ? notifier_from_errno(-EBUSY) : NOTIFY_DONE;
	mutex_lock(&f->lock);
	fastnet_unbind(f, ENODEV);
	mutex_unlock(&f->lock);
	return NOTIFY_OK;
}

static struct notifier_block fastnet_notifier = {
	.notifier_call = fastnet_netdev_event,
};

static int __init fastnet_init(void)
{
	int err;

	err = register_netdevice_notifier(&fastnet_notifier);
	if (err)
		return err;
	err = misc_register(&fastnet_misc);
	if (err) {
		unregister_netdevice_notifier(&fastnet_notifier);
		return err;
	}
	pr_info("ABI %d, /dev/%s\n", FASTNET_ABI_VERSION, fastnet_misc.name);
	return 0;
}

static void __exit fastnet_exit(void)
{
	/* No file is open: each holds a module reference, and unbinds when released. */
	misc_deregister(&fastnet_misc);
	unregister_netdevice_notifier(&fastnet_notifier);
}

module_init(fastnet_init);
module_exit(fastnet_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("capbench");
MODULE_DESCRIPTION("fastnet: steal an interface's frames into a queue read() one at a time or an mmap ring, or have its NIC write them there; or send frames written to it");
