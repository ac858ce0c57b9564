/*
 * /dev/fastnet, the project's kernel module (kmod/fastnet), from user space: READ mode (one
 * read() per frame), RING mode (slots in mapped pages, handed back one by one) and ZC mode (the
 * same slots, written by the NIC itself: read exactly as RING), each with a native loop that runs
 * the C counter. The ABI is kmod/fastnet/fastnet_uapi.h, shared with the module; frames arrive in
 * wire layout (the module writes a stripped VLAN tag back).
 */
#ifndef CAPBENCH_FASTNET_H
#define CAPBENCH_FASTNET_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "../../../kmod/fastnet/fastnet_uapi.h"
#include "counter.h"
#include "native_error.h"
#include "slice_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* read() buffer of the native READ loop: any frame veth or a NIC hands over, GSO included. */
#define CB_FASTNET_READ_BUF (65536u + 4u)
/* Smallest buffer readOne() takes: a minimum Ethernet frame plus a VLAN tag. */
#define CB_FASTNET_MIN_READ 68u

struct cb_fastnet {
	int fd;
	int mode; /* FASTNET_MODE_READ, FASTNET_MODE_RING or FASTNET_MODE_ZC */
	char ifname[IF_NAMESIZE];
	uint32_t depth; /* as the module reports it */
	/* RING and ZC (the ring's geometry comes from the module: ZC slots are a page each) */
	uint8_t *ring; /* the mapping, or NULL */
	size_t ring_bytes;
	int ring_borrowed; /* the binding owns the mapping now: close() does not unmap it */
	uint32_t slot_size;
	uint32_t slot_count;
	uint32_t frame_offset;
	uint32_t tail; /* next slot to read */
	uint32_t held; /* slots from tail on handed out by next_slots, not yet released */
	/* READ */
	uint8_t *read_buf;     /* the native loop's buffer */
	struct cb_calls calls; /* read() and poll() calls */
};

/*
 * Whether /dev/fastnet exists and speaks FASTNET_ABI_VERSION. 0, or -1 with the reason (and how
 * to build and load the module) in e.
 */
int cb_fastnet_probe(struct cb_error *e);

/*
 * Opens /dev/fastnet, binds ifname in mode (FASTNET_MODE_READ, _RING or _ZC) with depth (0 = the
 * module's default) and, in RING and ZC modes, maps the ring. On failure s->fd is -1. ZC on an
 * interface whose driver has no fastnet hook fails with EOPNOTSUPP, saying so and naming the
 * driver.
 */
int cb_fastnet_open(struct cb_fastnet *s, const char *ifname, int mode, uint32_t depth,
		    struct cb_error *e);

/*
 * READ: one read() into buf; table[0] = 0, table[1] = bytes copied. Waits up to timeout_ms in
 * poll() when nothing is queued. 1, 0 when nothing came, or -1 (ENODEV once the interface is
 * gone).
 */
int cb_fastnet_read_one(struct cb_fastnet *s, uint8_t *buf, size_t buflen, uint32_t *table,
			int timeout_ms, struct cb_error *e);

/*
 * Whether binding ifname in mode would succeed, binding nothing: 0, or -1 with the error the
 * bind would give (ZC: EOPNOTSUPP when the driver has no hook, EMSGSIZE when the MTU is too
 * large for mode 3) in e.
 */
int cb_fastnet_check(const char *ifname, int mode, struct cb_error *e);

/*
 * RING, ZC: up to max_frames READY slots after those already held, as (offset into the ring,
 * length) pairs in table. They stay the caller's until cb_fastnet_release_slots(). A ZC slot the
 * module marked FASTNET_FRAME_DISCARDED (no frame in it) is held and handed back with the others
 * but not listed. Waits up to timeout_ms when none is ready. The number of pairs written, or -1.
 */
int cb_fastnet_next_slots(struct cb_fastnet *s, uint32_t *table, uint32_t max_frames,
			  int timeout_ms, struct cb_error *e);

/* RING, ZC: hands every held slot back to the module, in order. */
void cb_fastnet_release_slots(struct cb_fastnet *s);

/*
 * The native tier: reads (READ) or walks slots (RING, ZC) and counts for one slice. Adds to
 * *out. In RING and ZC modes, no slot may be held.
 */
int cb_fastnet_consume(struct cb_fastnet *s, const struct cb_slice *slice, struct cb_count *out,
		       struct cb_error *e);

/* FASTNET_IOC_GET_STATS (a module from before the tx fields: those stay 0). */
int cb_fastnet_stats(struct cb_fastnet *s, struct fastnet_stats *out, struct cb_error *e);

/*
 * ZC: FASTNET_IOC_GET_NIC_STATS, the NIC driver's own drop counters since the binding (frames
 * the NIC dropped for want of a free slot never reach the module's stats).
 */
int cb_fastnet_nic_stats(struct cb_fastnet *s, struct fastnet_nic_stats *out, struct cb_error *e);

/*
 * Turns the interface OFF (so it is back with the stack even while a borrowed mapping lives
 * on), unmaps the ring unless borrowed, closes the file. Safe to call again.
 */
void cb_fastnet_close(struct cb_fastnet *s);

#ifdef __cplusplus
}
#endif

#endif
