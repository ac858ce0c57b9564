/*
 * Traffic generator core: one pthread that joins a network namespace, binds an AF_PACKET socket
 * to one interface and replays a fixture's frames round-robin, paced or flat out, counting
 * exactly what the kernel accepted. Pure C: no printing, no exiting, errors through cb_error.
 *
 * Life cycle: cb_gen_create() (copies everything it is given) -> cb_gen_start() (returns once the
 * thread has joined the namespace and bound, or with that setup error) -> cb_gen_status() any
 * number of times -> cb_gen_stop() (idempotent) -> cb_gen_destroy() (stops and joins if needed).
 * All calls come from one controlling thread (the JS thread); only the generator thread runs
 * concurrently with them.
 */
#ifndef CAPBENCH_GENERATOR_H
#define CAPBENCH_GENERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cb_gen_engine {
	CB_GEN_SENDMMSG = 0, /* sendmmsg() batches, iovecs pointing into the frames buffer */
	CB_GEN_TX_RING = 1,  /* PACKET_TX_RING, TPACKET_V2 slots, send() to kick the kernel */
};

/* The largest batch: sendmmsg() refuses more than UIO_MAXIOV (1024) messages per call. */
#define CB_GEN_MAX_BATCH 1024u

struct cb_gen_options {
	const char *netns_path; /* NULL: stay in the caller's namespace */
	const char *ifname;
	const uint8_t *frames; /* frames back to back */
	size_t frames_bytes;
	const uint32_t *frame_lengths; /* one per frame; their sum must fit in frames_bytes */
	uint32_t nframes;
	uint64_t count;	      /* frames to send; 0 = until duration or stop */
	uint64_t duration_ms; /* 0 = until count or stop */
	double rate_pps;      /* 0 = flat out */
	uint32_t batch;	      /* 1..CB_GEN_MAX_BATCH */
	int cpu;	      /* -1: any CPU but a reserved capture CPU */
	enum cb_gen_engine engine;
	/*
	 * Write the CLOCK_MONOTONIC time (ns, little-endian u64) each frame is handed to the kernel
	 * into its last 8 bytes, for send-to-receive latency. Never touches bytes 0-13, so what the
	 * counter reads is unchanged; frames must be at least CB_GEN_MIN_STAMPED_FRAME bytes. The
	 * time is taken once per batch, just before the batch is handed over.
	 */
	bool stamp;
};

#define CB_GEN_STAMP_BYTES 8u
#define CB_GEN_MIN_STAMPED_FRAME (14u + CB_GEN_STAMP_BYTES)

struct cb_gen_status {
	bool running;
	uint64_t sent;	     /* frames the kernel accepted; exact */
	uint64_t elapsed_ns; /* first send -> last accepted send, or -> now while running */
	uint64_t cpu_ns; /* the thread's CPU time from its first send to its last; 0 while running */
	bool has_error;	 /* the thread stopped on a runtime error, described in error */
	struct cb_error error;
};

struct cb_gen;

/* Validates and copies the options (frames included). NULL with e filled on failure. */
struct cb_gen *cb_gen_create(const struct cb_gen_options *opts, struct cb_error *e);

/* Starts the thread and waits for its setup. -1 with e filled (the thread is gone) on failure. */
int cb_gen_start(struct cb_gen *g, struct cb_error *e);

/* Consistent snapshot; cheap enough to poll. */
void cb_gen_status(struct cb_gen *g, struct cb_gen_status *st);

/* Asks the thread to stop, joins it, fills st with the final status (st may be NULL). */
void cb_gen_stop(struct cb_gen *g, struct cb_gen_status *st);

/* Stops, joins and frees. NULL is fine. */
void cb_gen_destroy(struct cb_gen *g);

#ifdef __cplusplus
}
#endif

#endif
