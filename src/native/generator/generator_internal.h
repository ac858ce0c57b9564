/*
 * What the generator's pieces share (private to src/native/generator*.c): the generator's state,
 * the per-run resources, and the engine interface.
 *
 * generator.c owns the thread and the public API; it prepares, runs and releases one engine per
 * run through struct gen_engine, once each, so nothing in an engine's sending loop goes through a
 * pointer. generator_sendmmsg.c and generator_tx_ring.c are the two engines; generator_pacing.h
 * and generator_pacing.c are the pacing and back-off both engines use.
 *
 * Accounting rule for both engines: `sent` only ever counts frames the kernel has taken and will
 * not give back. A frame the kernel refuses (ENOBUFS when the device or the veth peer's backlog is
 * full, EAGAIN when the socket's send buffer is full) is retried, never skipped, so count > 0
 * sends exactly count frames.
 */
#ifndef CAPBENCH_GENERATOR_INTERNAL_H
#define CAPBENCH_GENERATOR_INTERNAL_H

#include <endian.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "generator.h"

struct gen_engine;

struct cb_gen {
	/* Set at create, read-only afterwards (the thread reads them without locking). */
	char *netns_path;
	char ifname[IFNAMSIZ];
	uint8_t *frames; /* our own copy: JS buffers can move or be freed */
	uint32_t *lens;
	uint64_t *offs;
	uint32_t nframes;
	uint32_t max_len;
	uint64_t count;
	uint64_t duration_ns;
	double rate_pps;
	uint32_t batch;
	int cpu;
	const struct gen_engine *ops; /* the engine the options named */
	bool stamp;

	/* Controller-side state, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started;
	bool joined;
	bool setup_done;
	bool setup_failed;
	struct cb_error setup_err;
	bool has_run_err;
	struct cb_error run_err;

	/* Shared with the running thread without locking. */
	atomic_bool stop_req;
	atomic_bool running;
	atomic_uint_fast64_t sent;
	atomic_uint_fast64_t first_ns; /* 0 until the first send */
	atomic_uint_fast64_t last_ns;  /* after the last send that the kernel took frames from */
	/*
	 * The thread's own CPU time from the end of setup to its last send, stored before running
	 * goes false. On veth the receive side's softirq runs in the sender's context, so this is
	 * where the kernel's delivery into every tap is paid (see the README, "How deliver is
	 * measured").
	 */
	atomic_uint_fast64_t cpu_ns;
};

/* The sendmmsg engine's resources (generator_sendmmsg.c). */
struct gen_mmsg {
	struct iovec *iov;
	struct mmsghdr *hdrs;
	uint64_t *stamps; /* stamping: one send time per header, the frame's last 8 bytes */
};

/* The tx-ring engine's resources (generator_tx_ring.c). */
struct gen_ring {
	uint8_t *map;
	size_t map_bytes;
	uint32_t nslots;
	uint32_t frame_size;
	uint32_t frames_per_block;
	uint32_t block_size;
	uint32_t *slot_frame; /* which fixture frame each slot holds, UINT32_MAX = none yet */
	/* Global frame indices (they never wrap in practice: 2^64 frames). Invariant:
	 * tail <= kpos <= head; [tail, kpos) taken by the kernel and not yet released,
	 * [kpos, head) filled and marked SEND_REQUEST but not yet taken. */
	uint64_t head;
	uint64_t kpos;
	uint64_t tail;
};

/* Everything the thread owns while it runs; released by the thread itself before it exits. */
struct gen_run {
	int fd; /* the bound AF_PACKET socket, -1 before it is opened */
	struct gen_mmsg mmsg;
	struct gen_ring ring;
};

/*
 * One way of handing frames to the kernel. The thread calls each function once per run, in this
 * order; release runs whatever prepare and run did or failed to do, before the socket is closed.
 */
struct gen_engine {
	/* On the open, not yet bound socket r->fd: socket options and buffers. -1 with e filled. */
	int (*prepare)(struct cb_gen *g, struct gen_run *r, struct cb_error *e);
	/* Sends until count, duration or stop; 0, or -1 with e filled on a runtime error. */
	int (*run)(struct cb_gen *g, struct gen_run *r, struct cb_error *e);
	/* Frees what prepare allocated; fields it never set are zero. */
	void (*release)(struct gen_run *r);
};

/* Hidden: internal to the addon, reached without going through the PLT or the GOT. */
#pragma GCC visibility push(hidden)
extern const struct gen_engine cb_gen_sendmmsg_engine;
extern const struct gen_engine cb_gen_tx_ring_engine;
#pragma GCC visibility pop

static inline void note_first_send(struct cb_gen *g, uint64_t now)
{
	if (atomic_load_explicit(&g->first_ns, memory_order_relaxed) == 0)
		atomic_store_explicit(&g->first_ns, now, memory_order_relaxed);
}

/* x86 and every other target we build for is little-endian; the stamp's byte order is fixed. */
static inline void put_stamp(void *dst, uint64_t ns)
{
	uint64_t le = htole64(ns);

	memcpy(dst, &le, sizeof(le));
}

#endif
