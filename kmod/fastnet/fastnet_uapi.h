/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fastnet: the ABI of /dev/fastnet, shared by the kernel module and the programs that use it.
 *
 * One open file binds one network interface (FASTNET_IOC_SET_MODE). In the receive modes (DROP,
 * READ, RING, ZC) it steals every frame the interface receives with an rx_handler; in the
 * INJECT modes it sends frames the process writes:
 *
 *   DROP  frees each frame at once.
 *   READ  queues frames (at most `depth`); each read() returns one frame. A buffer shorter than
 *         the frame gets its first bytes and the rest of the frame is discarded: read() returns
 *         the bytes copied, FASTNET_IOC_LAST_READ tells the frame's full length, and
 *         stats.truncated counts it. read() of 0 bytes returns 0 and takes nothing. With nothing
 *         queued read() blocks, or fails with EAGAIN under O_NONBLOCK; poll() says EPOLLIN.
 *   RING  copies frames into a ring of `depth` fixed-size slots in pages the process maps with
 *         mmap() (offset 0, length fastnet_ring_info.mmap_bytes). See struct fastnet_slot.
 *   ZC    ("mode 3", zero-copy) the NIC itself writes each frame into a slot of such a ring: the
 *         slots are the NIC's receive buffers, no skb is built and the stack never sees the
 *         frame. Read exactly as RING: same slots, same status protocol, same mmap(); only the
 *         geometry differs (one page per slot: take it from FASTNET_IOC_GET_RING, never from
 *         the constants below). Needs a driver with fastnet's hook (capbench's patched e1000,
 *         kmod/e1000): any other is refused with EOPNOTSUPP, an MTU above what the driver can
 *         do in mode 3 (1500 for e1000) with EMSGSIZE; the MTU cannot change while bound (EBUSY).
 *         A slot the process has not handed back cannot be given to the NIC: when the next one
 *         is not FREE the NIC runs short of descriptors, and what it then cannot take it drops
 *         and counts itself (FASTNET_IOC_GET_NIC_STATS), or an emulated NIC holds back. poll()
 *         on a ZC file hands slots that came back to the NIC.
 *   INJECT     the other way: the process hands the module Ethernet frames, which it builds into
 *         skbs and transmits on the interface with dev_queue_xmit() (through its qdisc, as an
 *         AF_PACKET socket without PACKET_QDISC_BYPASS does). No rx_handler: the interface's
 *         received frames stay with the stack, and any number of INJECT files may share an
 *         interface, also with a file that captures on it. write() hands over one frame;
 *         FASTNET_IOC_SEND several in one call (struct fastnet_send).
 *   INJECT_RX  the same, but each frame is handed to netif_rx() on the interface, as if the
 *         interface had received it: the stack, its taps and an rx_handler (a fastnet file
 *         capturing there) see it.
 *
 * A frame to inject is ETH_HLEN (14) to MTU + 14 bytes in wire layout, its own 802.1Q/802.1ad
 * tag included (a tagged frame may be 4 bytes longer); EINVAL when shorter, EMSGSIZE when
 * longer. The frame's bytes are copied, nothing else is taken from it. write() returns the
 * frame's length once the interface (its qdisc, its driver, or a veth's peer) took it; one it
 * refuses for room (NET_XMIT_DROP, a full backlog) is gone and the call fails with ENOBUFS: send
 * it again later; every count stays exact. No call blocks: poll() says EPOLLOUT while bound.
 *
 * Frames are in wire layout: an 802.1Q/802.1ad tag the kernel moved into metadata is written
 * back after the MAC addresses. Closing the file (and unmapping its ring) or SET_MODE with
 * FASTNET_MODE_OFF returns the interface to the stack. When the interface goes away while
 * bound, the file turns OFF, waiters wake, and read() (INJECT: write(), SEND) fails with
 * ENODEV; poll() says EPOLLERR and FASTNET_IOC_GET_MODE reports error ENODEV until the next
 * successful SET_MODE.
 */
#ifndef _UAPI_LINUX_FASTNET_H
#define _UAPI_LINUX_FASTNET_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Bumped on any incompatible change; FASTNET_IOC_GET_VERSION returns it. Additions a program
 * built against an older header never meets keep it (ZC mode, its slot flag and the two ioctls
 * after SET_LIMIT came that way, then the INJECT modes, FASTNET_IOC_SEND and the tx fields of
 * struct fastnet_stats): a module without them refuses the new modes with EINVAL, the new ioctls
 * (and GET_STATS of the larger size) with ENOTTY.
 */
#define FASTNET_ABI_VERSION		1

#define FASTNET_DEVICE_PATH		"/dev/fastnet"
#define FASTNET_IFNAMSIZ		16

enum fastnet_mode {
	FASTNET_MODE_OFF	= 0,
	FASTNET_MODE_DROP	= 1,
	FASTNET_MODE_READ	= 2,
	FASTNET_MODE_RING	= 3,
	FASTNET_MODE_ZC		= 4,
	FASTNET_MODE_INJECT	= 5,	/* frames from the process, dev_queue_xmit() */
	FASTNET_MODE_INJECT_RX	= 6,	/* frames from the process, netif_rx() */
};

/* READ: frames queued before new ones are dropped. RING, ZC: slots. 0 in a request = default. */
#define FASTNET_DEFAULT_DEPTH		4096
#define FASTNET_MAX_DEPTH		(1U << 18)

/*
 * The RING ring: slot i starts at i * FASTNET_SLOT_SIZE in the mapping, a struct fastnet_slot
 * followed by the frame at FASTNET_SLOT_FRAME_OFFSET. Frames longer than FASTNET_SLOT_MAX_FRAME
 * are cut to it (len < wire_len, FASTNET_FRAME_TRUNCATED). A ZC ring has one page per slot, the
 * frame at FASTNET_SLOT_FRAME_OFFSET rounded up to the DMA cache alignment (the same 16 on x86),
 * and is never cut: fastnet_ring_info says which.
 */
#define FASTNET_SLOT_SIZE		2048
#define FASTNET_SLOT_FRAME_OFFSET	16
#define FASTNET_SLOT_MAX_FRAME		(FASTNET_SLOT_SIZE - FASTNET_SLOT_FRAME_OFFSET)

/*
 * Slot ownership moves with `status`, the only field the kernel reads from the mapping:
 *   FREE  -> READY  kernel, after writing len, wire_len, flags and the frame, with a
 *                   store-release; the process reads status with a load-acquire before
 *                   touching the rest.
 *   READY -> FREE   process, when it is done with the slot, with a store-release; the kernel
 *                   reads status with a load-acquire before writing the slot again.
 * The kernel fills slots in order, 0, 1, ..., slot_count - 1, 0, ...; the process reads them in
 * the same order. RING: a frame arriving when the next slot is not FREE is dropped (stats.full).
 * ZC: a FREE slot may be the NIC's (it writes there): the process touches only READY slots.
 */
#define FASTNET_SLOT_FREE		0
#define FASTNET_SLOT_READY		1

/* fastnet_slot.flags and fastnet_last_read.flags */
#define FASTNET_FRAME_TRUNCATED		(1U << 0)	/* len < wire_len */
#define FASTNET_FRAME_VLAN		(1U << 1)	/* a tag was written back */
/*
 * ZC only: the slot holds no frame (len 0): what the NIC put there the driver would have thrown
 * away (a receive error, or part of a frame too long for one buffer; neither happens with the
 * MTU mode 3 allows unless the NIC is told to keep bad frames). Hand it back; it is counted in
 * stats.dropped, not delivered.
 */
#define FASTNET_FRAME_DISCARDED		(1U << 2)

struct fastnet_slot {
	__u32 status;
	__u32 len;		/* bytes of frame in the slot */
	__u32 wire_len;		/* the frame's length on the wire, tag included */
	__u32 flags;
};

/*
 * SET_MODE and CHECK_MODE look ifname up in the network namespace of the process that makes the
 * call, and need CAP_NET_ADMIN there; the binding then holds whichever process uses the file.
 */
struct fastnet_mode_req {
	char ifname[FASTNET_IFNAMSIZ];	/* NUL-terminated; ignored for FASTNET_MODE_OFF */
	__u32 mode;			/* enum fastnet_mode */
	__u32 depth;			/* READ: queue bound; RING: slots; 0 = default. INJECT*: 0 */
};

struct fastnet_status {
	char ifname[FASTNET_IFNAMSIZ];	/* "" when OFF */
	__u32 mode;
	__u32 depth;
	__s32 error;			/* 0, or a positive errno: why the file turned OFF */
	__u32 reserved;
};

/*
 * Counts since the file was opened. received = delivered + dropped + discarded + queued whenever
 * no frame is inside the rx_handler, which counts a frame received as it takes it and in one of
 * the others before it returns: wait for the sum to match before comparing counts. RING: a slot
 * is counted delivered just before it turns READY, so a process never reads more than delivered.
 * ZC: the same, for frames the NIC completed into a slot (and the few the driver passed up the
 * stack before it entered mode 3, dropped). Frames the NIC never took, having no free slot, are
 * not here: they are the NIC's own drops, FASTNET_IOC_GET_NIC_STATS.
 *
 * INJECT, INJECT_RX: every frame handed over with a valid length and a readable address is
 * counted once, before the call returns, in tx_frames (taken), tx_refused (no room: the call
 * said ENOBUFS or stopped a batch there) or tx_failed (another error). The receive fields stay
 * 0 (the tx fields count from the file's opening too, across modes).
 *
 * The tx fields came after the first seven: a program built before them passes the first size,
 * FASTNET_STATS_V1_SIZE (its FASTNET_IOC_GET_STATS, FASTNET_IOC_GET_STATS_V1 here), and gets
 * those bytes; any size from that one to the whole structure is answered with as many bytes.
 */
struct fastnet_stats {
	__u64 received;		/* frames the rx_handler took */
	__u64 delivered;	/* READ: returned by read(); RING: written to a slot */
	__u64 dropped;		/* lost: queue or ring full, no memory, queued when unbound */
	__u64 full;		/* of dropped: because the queue or ring was full */
	__u64 discarded;	/* freed on purpose in DROP mode */
	__u64 truncated;	/* delivered cut short (short read() buffer, frame > slot) */
	__u64 queued;		/* READ: frames waiting now */
	/* INJECT, INJECT_RX */
	__u64 tx_frames;	/* taken: dev_queue_xmit() (NET_XMIT_CN too, as AF_PACKET counts
				 * it) or netif_rx() accepted it */
	__u64 tx_bytes;		/* their bytes, tags included */
	__u64 tx_refused;	/* refused for room (NET_XMIT_DROP, a full backlog): ENOBUFS */
	__u64 tx_failed;	/* no skb memory, the interface down, an error from its driver */
};

#define FASTNET_STATS_V1_SIZE		56	/* received .. queued */

/*
 * INJECT, INJECT_RX: FASTNET_IOC_SEND hands over up to `count` frames in one call, each named by
 * a descriptor (a frame stays where it is in the caller's memory; the module copies it into its
 * skb, as sendmmsg() does from its iovecs). Frames are sent in order, each as write() sends one;
 * the call returns how many were taken. It stops at the first that is not: when that is the
 * first, the call fails with its error (ENOBUFS: no room, send it again; EINVAL, EMSGSIZE: its
 * length; EFAULT), else it returns the count so far and the next call, starting there, says
 * why. At most FASTNET_SEND_MAX_BATCH descriptors are looked at per call; count 0 returns 0.
 */
#define FASTNET_SEND_MAX_BATCH		1024

struct fastnet_frame_desc {
	__u64 addr;		/* the frame, in the caller's memory */
	__u32 len;		/* its bytes */
	__u32 flags;		/* 0 */
};

struct fastnet_send {
	__u64 frames;		/* address of `count` struct fastnet_frame_desc */
	__u32 count;
	__u32 flags;		/* 0 */
};

struct fastnet_ring_info {
	__u32 slot_size;	/* RING: FASTNET_SLOT_SIZE; ZC: the page size */
	__u32 slot_count;
	__u32 frame_offset;	/* RING: FASTNET_SLOT_FRAME_OFFSET; ZC: see above */
	__u32 max_frame;	/* RING: FASTNET_SLOT_MAX_FRAME; ZC: the longest frame a slot gets */
	__u64 mmap_bytes;	/* slot_size * slot_count rounded up to pages */
};

/* What the last read() on this file returned, for telling a truncated frame. */
struct fastnet_last_read {
	__u32 wire_len;
	__u32 copied;
	__u32 flags;		/* FASTNET_FRAME_* */
	__u32 reserved;
};

/*
 * ZC: the NIC's own counters for the bound interface, read from its driver when asked, counted
 * from the moment the binding was made. Drops the driver does not see (a NIC reset loses its
 * hardware counters since the driver last read them, e1000 every 2 s) are missing.
 */
struct fastnet_nic_stats {
	__u64 missed;		/* frames the NIC dropped: no descriptor or FIFO room (e1000: MPC) */
	__u64 no_buffer;	/* times it found no descriptor to fill (e1000: RNBC); a frame
				 * counted here may still have been taken once one came, so this
				 * is not a drop count */
};

#define FASTNET_IOC_MAGIC		0xFA

#define FASTNET_IOC_GET_VERSION		_IOR(FASTNET_IOC_MAGIC, 0, __u32)
#define FASTNET_IOC_SET_MODE		_IOW(FASTNET_IOC_MAGIC, 1, struct fastnet_mode_req)
#define FASTNET_IOC_GET_MODE		_IOR(FASTNET_IOC_MAGIC, 2, struct fastnet_status)
#define FASTNET_IOC_GET_STATS		_IOR(FASTNET_IOC_MAGIC, 3, struct fastnet_stats)
#define FASTNET_IOC_GET_RING		_IOR(FASTNET_IOC_MAGIC, 4, struct fastnet_ring_info)
#define FASTNET_IOC_LAST_READ		_IOR(FASTNET_IOC_MAGIC, 5, struct fastnet_last_read)
/* READ: a new queue bound, 1 .. FASTNET_MAX_DEPTH; frames already queued stay. */
#define FASTNET_IOC_SET_LIMIT		_IOW(FASTNET_IOC_MAGIC, 6, __u32)
/*
 * Whether SET_MODE with this request would be accepted, without binding anything: 0, or the
 * error it would fail with (ENODEV, EINVAL, EBUSY, EPERM; for ZC also EOPNOTSUPP when the
 * interface's driver has no fastnet hook, EMSGSIZE when its MTU is too large). A file bound to
 * the interface is not busy for itself. Memory is not checked.
 */
#define FASTNET_IOC_CHECK_MODE		_IOW(FASTNET_IOC_MAGIC, 7, struct fastnet_mode_req)
/* ZC: struct fastnet_nic_stats; EINVAL in any other mode. */
#define FASTNET_IOC_GET_NIC_STATS	_IOR(FASTNET_IOC_MAGIC, 8, struct fastnet_nic_stats)
/*
 * INJECT, INJECT_RX: frames taken (see struct fastnet_send). EINVAL in any other mode (ENODEV
 * once the interface went away), EBADF on a file not open for writing.
 */
#define FASTNET_IOC_SEND		_IOW(FASTNET_IOC_MAGIC, 9, struct fastnet_send)
/* GET_STATS as a program built before the tx fields asks for it. */
#define FASTNET_IOC_GET_STATS_V1	_IOC(_IOC_READ, FASTNET_IOC_MAGIC, 3, FASTNET_STATS_V1_SIZE)

#endif /* _UAPI_LINUX_FASTNET_H */
