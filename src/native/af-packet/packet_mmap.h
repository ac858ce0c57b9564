/*
 * PACKET_RX_RING with TPACKET_V3: an AF_PACKET socket whose receive ring is mapped into the
 * process. The kernel fills fixed-size blocks with variable-size frames and hands a block over
 * (block_status TP_STATUS_USER) when it is full or its retire timeout expires; the reader walks
 * the block's frames where the kernel wrote them and hands it back (TP_STATUS_KERNEL).
 *
 * Each frame is preceded by the kernel's struct tpacket3_hdr: where the frame starts, its length,
 * where the next one is. That is the table of the block; the js tier walks it itself.
 */
#ifndef CAPBENCH_PACKET_MMAP_H
#define CAPBENCH_PACKET_MMAP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "native_error.h"
#include "slice_loop.h"
#include "packet_socket.h" /* struct cb_fanout: both are AF_PACKET sockets */

#ifdef __cplusplus
extern "C" {
#endif

/* tp_frame_size: V3 only checks it (it must divide the block); frames are packed by size. */
#define CB_PMMAP_FRAME_BYTES 2048u
/* The kernel numbers blocks with an unsigned short. */
#define CB_PMMAP_MAX_BLOCKS 65535u
/* JS views of the ring must stay addressable with 32-bit offsets. */
#define CB_PMMAP_MAX_RING_BYTES (1ull << 31)

struct cb_pmmap {
	int fd;
	int ifindex;
	char ifname[IF_NAMESIZE];
	uint8_t *map; /* the whole ring, NULL when not mapped */
	size_t map_len;
	uint32_t block_bytes;
	uint32_t block_count;
	uint32_t index;	       /* the next block to read */
	int holding;	       /* next_block() returned block `index`, not yet given back */
	uint32_t fanout_group; /* PACKET_FANOUT id, 0 when in no group */
	uint64_t packets;      /* PACKET_STATISTICS accumulated: the kernel resets on each read */
	uint64_t drops;
	uint64_t freezes;
	struct cb_calls calls; /* poll() calls: blocks are read without one */
};

struct cb_pmmap_options {
	const char *ifname;
	uint32_t block_bytes; /* power of two, multiple of the page size */
	uint32_t block_count;
	uint32_t retire_ms;	 /* tp_retire_blk_tov; 0 lets the kernel pick from the link speed */
	struct cb_fanout fanout; /* joined after the bind when enabled */
};

/*
 * Creates the socket, sets TPACKET_V3, PACKET_IGNORE_OUTGOING and the ring,
 * maps it and binds to the interface (so nothing arrives before the ring exists), then joins
 * o->fanout's group if enabled: the kernel joins only a bound socket and refuses to bind one
 * that is in a group. On failure nothing is left open (r->fd -1, r->map NULL).
 */
int cb_pmmap_open(struct cb_pmmap *r, const struct cb_pmmap_options *o, struct cb_error *e);

/*
 * The js tier's one call per block: gives the block of the previous call back to the kernel,
 * then takes the block at the read index if the kernel has handed it over (otherwise waits up
 * to timeout_ms in poll() and looks once more). Returns 1 with *block_off = the block's byte
 * offset in the ring (it is then the caller's, to read in place, until the next call, consume or
 * close), 0 when none is ready, or -1.
 */
int cb_pmmap_next_block(struct cb_pmmap *r, int timeout_ms, size_t *block_off, struct cb_error *e);

/*
 * The native tier: gives back a block cb_pmmap_next_block still holds, then walks ready blocks,
 * runs the C counter on every frame, releases each block, for one slice (only whole blocks are
 * read, so it may overshoot max_frames by the rest of the last block; those frames are counted
 * too). Adds to *out.
 */
int cb_pmmap_consume(struct cb_pmmap *r, const struct cb_slice *slice, struct cb_count *out,
		     struct cb_error *e);

/* Reads PACKET_STATISTICS (tpacket_stats_v3) into the running totals and returns them. */
int cb_pmmap_stats(struct cb_pmmap *r, uint64_t *packets, uint64_t *drops, uint64_t *freezes,
		   struct cb_error *e);

/*
 * Unmaps the ring and closes the socket; safe to call again. Callers that exposed the mapping
 * (an external ArrayBuffer) must detach it first.
 */
void cb_pmmap_close(struct cb_pmmap *r);

#ifdef __cplusplus
}
#endif

#endif
