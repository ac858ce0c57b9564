/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastnet_zc.h: the hook between fastnet and a NIC driver for FASTNET_MODE_ZC ("mode 3"), where
 * the NIC DMAs frames straight into the slots of the ring the process maps and no skb is built.
 * Both sides include this header; neither links against the other.
 *
 * How fastnet reaches the driver. Linux 6.1 has no operation for this, and fastnet does not
 * change the core kernel, so the hook rides on the driver's ndo_setup_tc with a type of its own,
 * TC_SETUP_FASTNET_ZC, and a struct fastnet_zc_req as type_data:
 *   - only kernel code calls ndo_setup_tc, always with a kernel pointer (never a user one, unlike
 *     ndo_siocdevprivate, which user space reaches with SIOCDEVPRIVATE);
 *   - a driver without the hook refuses a type it does not know with -EOPNOTSUPP: every
 *     ndo_setup_tc in 6.1's drivers/net does, and a driver with no ndo_setup_tc at all is
 *     refused by fastnet itself, so "no hook" is EOPNOTSUPP either way;
 *   - giving a driver an ndo_setup_tc that refuses every real tc type changes nothing else
 *     (unlike ndo_bpf, whose mere presence makes XDP attach in driver mode by default).
 * The type value lies outside enum tc_setup_type, so no tc offload ever shares it.
 *
 * What the driver does, and no more: its own descriptor ring stays its own; fastnet gives it a
 * struct fastnet_zc_ops of callbacks, and while enabled the driver's RX refill calls rx_alloc()
 * for each descriptor instead of allocating a buffer, and its RX clean calls rx_frame() for each
 * completed descriptor instead of building an skb. Slot bookkeeping, DMA mapping and syncing,
 * the slot header, the VLAN tag and the hand-over to the process are all fastnet's.
 *
 * Contract (the driver's side):
 *   - QUERY, ENABLE, DISABLE and STATS come under rtnl, in process context. KICK comes from
 *     poll(), under rcu_read_lock(): it must not sleep.
 *   - ENABLE installs the ops and replaces every RX buffer the NIC holds with fastnet's (e1000:
 *     down, then up, which refills every descriptor through rx_alloc()). DISABLE gives the ring
 *     back to the driver's own buffers the same way. Neither may fail once QUERY succeeded: a
 *     driver must always be able to leave mode 3. When either returns, no DMA into a buffer of
 *     the other mode is in flight.
 *   - rx_alloc(), rx_frame() and rx_reclaim() for one ring are never called concurrently: from
 *     the driver's NAPI poll, or with NAPI disabled (refilling a ring being brought up, freeing
 *     one being brought down). The driver arms descriptors in ring order and stops at the first
 *     rx_alloc() that returns false, and completes them in the same order.
 *   - rx_reclaim() is called once the NIC can no longer write into any armed buffer (receive
 *     disabled or the MAC reset), when the driver frees its RX buffers: every buffer fastnet
 *     gave it is then fastnet's again. Frames the NIC completed and the driver did not clean
 *     before that are lost, as they would be with the driver's own buffers.
 *   - While enabled, the NIC never writes more than buf_len bytes into a buffer. fastnet binds
 *     only an interface whose MTU is at most max_mtu, and refuses every MTU change while bound
 *     (NETDEV_PRECHANGEMTU), so the driver's buffer size stays what QUERY said.
 */
#ifndef FASTNET_ZC_H
#define FASTNET_ZC_H

#include <linux/device.h>
#include <linux/netdevice.h>
#include <linux/types.h>

/* Bumped on any change to what follows: a driver built against another version says no. */
#define FASTNET_ZC_VERSION		1

/* The ndo_setup_tc type of the hook: no value of enum tc_setup_type. */
#define TC_SETUP_FASTNET_ZC		((enum tc_setup_type)0xfa57)

enum fastnet_zc_cmd {
	FASTNET_ZC_QUERY	= 1,	/* is there a hook, and what the NIC's buffers are */
	FASTNET_ZC_ENABLE	= 2,	/* enter mode 3 with enable.ops and enable.ctx */
	FASTNET_ZC_DISABLE	= 3,	/* back to the driver's own buffers */
	FASTNET_ZC_KICK		= 4,	/* run the RX clean and refill soon (slots came back) */
	FASTNET_ZC_STATS	= 5,	/* the NIC's own drop counters, refreshed */
};

/* rx_frame() flags */
#define FASTNET_ZC_RX_VLAN	(1U << 0)	/* the NIC took an 802.1Q tag out: vlan_tci */
#define FASTNET_ZC_RX_DISCARD	(1U << 1)	/* not a whole good frame: the driver would drop it */

struct fastnet_zc_ops {
	/*
	 * A buffer for RX descriptor desc: true with its DMA address (mapped for the device the
	 * driver named in QUERY, DMA_FROM_DEVICE, synced for the device) in *dma; false when none
	 * is free, and the driver leaves the descriptor, and those after it, empty for now.
	 */
	bool (*rx_alloc)(void *ctx, unsigned int desc, dma_addr_t *dma);
	/*
	 * Descriptor desc completed: len bytes of frame, FCS removed, at the start of its buffer.
	 * The buffer is fastnet's again.
	 */
	void (*rx_frame)(void *ctx, unsigned int desc, unsigned int len, unsigned int flags,
			 u16 vlan_tci);
	/* The driver is freeing its RX buffers: every armed buffer is fastnet's again. */
	void (*rx_reclaim)(void *ctx);
};

/* What a driver in mode 3 keeps: ops is NULL when it is not. */
struct fastnet_zc_binding {
	const struct fastnet_zc_ops *ops;
	void *ctx;
};

struct fastnet_zc_req {
	u32 version;			/* FASTNET_ZC_VERSION */
	u32 cmd;			/* enum fastnet_zc_cmd */
	union {
		struct {		/* QUERY, filled by the driver */
			struct device *dma_dev;	/* what buffers are mapped for */
			u32 buf_len;		/* the most the NIC writes into one buffer */
			u32 max_desc;		/* the most RX descriptors a ring can have */
			u32 max_mtu;		/* the largest MTU mode 3 works with */
		} query;
		struct fastnet_zc_binding enable;	/* ENABLE */
		struct {		/* STATS, filled by the driver: totals since it loaded */
			u64 missed;	/* frames the NIC dropped: no descriptor, or no FIFO room */
			u64 no_buffer;	/* times the NIC found no descriptor to fill */
		} stats;
	};
};

#endif /* FASTNET_ZC_H */
