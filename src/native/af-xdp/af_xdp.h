/*
 * AF_XDP capture: one socket on one receive queue, its UMEM, and the XDP program that redirects
 * the queue's frames into it.
 *
 * The program is capbench's own six-instruction redirect (rx_queue_index -> XSKMAP, XDP_PASS when
 * no socket is bound to the queue), loaded with libbpf and attached in driver (native) mode through
 * a BPF link where the kernel has XDP links (5.9+): the link belongs to this process's file
 * descriptor, so the kernel detaches the program when the process exits, even on SIGKILL. Only
 * where links are missing does it fall back to a netlink attach, which outlives a crash; that is
 * what the state files and sweep in src/net/xdp-leftovers.ts are for. The socket is created with
 * libxdp's XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD, so libxdp never loads its own program, never
 * touches bpffs, and never replaces a program someone else attached.
 *
 * Sockets of one process on the same interface (one per queue) share one program and map; the last
 * one closed detaches it. Ring handling stays here: libxdp's inline ring helpers carry the memory
 * barriers the kernel's producer/consumer protocol needs.
 *
 * binding.gyp compiles every file; without libxdp's headers af_xdp.c, af_xdp_xskmap.c and
 * af_xdp_program.c compile to nothing and af_xdp_stubs.c to calls that say how to get it
 * (CB_HAVE_LIBXDP below), and binding.gyp links libxdp and libbpf where the header is.
 */
#ifndef CAPBENCH_AF_XDP_H
#define CAPBENCH_AF_XDP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "counter.h"
#include "native_error.h"
#include "slice_loop.h"

#ifdef __has_include
#if __has_include(<xdp/xsk.h>)
#define CB_HAVE_LIBXDP 1
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The BPF program's name, as `ip -d link show` and bpftool list it; the leftover sweep checks it. */
#define CB_XSK_PROG_NAME "capbench_xsk"
/* Largest UMEM: table offsets are 32-bit, and a GiB is more than any drain here needs. */
#define CB_XSK_MAX_UMEM (1ull << 30)
/* Ring sizes accepted (powers of two). */
#define CB_XSK_MIN_RING 64u
#define CB_XSK_MAX_RING (1u << 22)
/* Largest batch: the most frames one receive hands over, and one peek of the native loop. */
#define CB_XSK_MAX_BATCH 4096u

struct cb_xsk_options {
	const char *ifname;
	uint32_t queue;
	uint32_t frame_count;
	uint32_t frame_bytes; /* 2048 or 4096 */
	uint32_t ring_size;   /* rx and fill ring entries, a power of two */
	uint32_t batch;	      /* rx descriptors per peek, both tiers: 1..CB_XSK_MAX_BATCH */
	int zero_copy;
};

struct cb_xsk_stats {
	uint64_t rx_dropped;
	uint64_t rx_invalid;
	uint64_t rx_ring_full;
	uint64_t fill_ring_empty;
};

struct cb_xsk_impl; /* libxdp objects; opaque so the binding needs no libxdp headers */

struct cb_xsk {
	int fd; /* the AF_XDP socket, -1 when closed */
	int ifindex;
	uint32_t queue;
	char ifname[IF_NAMESIZE];
	uint8_t *umem; /* frame_count * frame_bytes, page-aligned; freed by cb_xsk_free_umem() */
	size_t umem_len;
	uint32_t frame_bytes;
	uint32_t batch;
	uint32_t prog_id;  /* id of the XDP program the socket's frames come through */
	int attach_link;   /* 1: attached through a BPF link (auto-detached on exit), 0: netlink */
	int zero_copy;	   /* bound with XDP_ZEROCOPY */
	uint64_t produced; /* descriptors the kernel has put on the rx ring since open */
	uint32_t last_prod;
	uint32_t held; /* rx entries handed out by the last receive, not yet released */
	uint32_t held_idx;
	struct cb_calls calls; /* wake-up kicks (recvfrom) and poll() calls */
	struct cb_xsk_impl *impl;
};

/*
 * Whether AF_XDP can be used: 1 yes, 0 no with the reason in `why`; `version` gets the library
 * versions. Never fails otherwise.
 */
int cb_xsk_probe(char *why, size_t why_len, char *version, size_t version_len);

/*
 * Allocates the UMEM, creates and binds the socket, fills the fill ring and makes sure the
 * redirect program is attached. On failure everything is undone, s->fd is -1 and s->umem NULL.
 */
int cb_xsk_open(struct cb_xsk *s, const struct cb_xsk_options *o, struct cb_error *e);

/*
 * The js tier's one call per batch: gives the frames of the previous receive back (fill ring,
 * rx entries released), then peeks up to min(max_frames, batch) rx descriptors, waiting up to
 * timeout_ms in poll() when there are none. table[2i], table[2i+1] = offset into the UMEM and
 * length of frame i; the frames stay the caller's until the next receive (or close). Returns the
 * count, 0 after the timeout or a signal, -1 on error.
 */
int cb_xsk_receive(struct cb_xsk *s, uint32_t *table, uint32_t max_frames, int timeout_ms,
		   struct cb_error *e);

/* The native tier: peeks (batch at a time), counts and releases for one slice. Adds to *out. */
int cb_xsk_consume(struct cb_xsk *s, const struct cb_slice *slice, struct cb_count *out,
		   struct cb_error *e);

/* XDP_STATISTICS (cumulative in the kernel since the socket was bound). */
int cb_xsk_read_stats(struct cb_xsk *s, struct cb_xsk_stats *st, struct cb_error *e);

/* Descriptors the kernel has put on the rx ring since open (read, consumed or not). */
uint64_t cb_xsk_produced(struct cb_xsk *s);

/*
 * Deletes the socket and UMEM registration and, if it was the last socket on the interface,
 * detaches the program (only if it is still the one attached). Leaves the UMEM memory mapped:
 * JS may still hold a view of it; cb_xsk_free_umem() frees it. Safe to call again.
 */
void cb_xsk_close(struct cb_xsk *s);

/* Unmaps a UMEM that cb_xsk_open() mapped; NULL is fine. The same with and without libxdp. */
static inline void cb_xsk_free_umem(void *umem, size_t len)
{
	if (umem)
		munmap(umem, len);
}

#ifdef __cplusplus
}
#endif

#endif
