/*
 * fastnet-inject, the send side of /dev/fastnet: a file bound in FASTNET_MODE_INJECT to the
 * sender's interface, to which the sender hands the fixture's frames, one write() each or up to
 * `batch` in one FASTNET_IOC_SEND; the module builds an skb for each and dev_queue_xmit()s it
 * (kmod/fastnet/tx.c). The same operations as a socket sender (send/sender.h), so the one send
 * session drives it alike: the js tier calls cb_injector_send_one / cb_injector_send_batch /
 * cb_injector_wait once per JS call, the native tier runs the same calls in cb_injector_loop.
 * Pure C: no printing, no exiting, errors through cb_error.
 *
 * Accounting as for every sender: a frame the interface refuses for room (ENOBUFS) is sent again
 * after a back-off, never skipped, so `taken` counts what the interface took; finish() checks it
 * against the module's own count (GET_STATS tx_frames).
 */
#ifndef CAPBENCH_FASTNET_INJECT_H
#define CAPBENCH_FASTNET_INJECT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../../kmod/fastnet/fastnet_uapi.h"
#include "../send/send_loop.h"
#include "../send/sender.h"
#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cb_injector_options {
	const char *netns_path; /* where ifname is looked up (SET_MODE's namespace); NULL: ours */
	const char *ifname;
	bool batched;	     /* FASTNET_IOC_SEND batches (call 'sendmmsg'); else a write() each */
	uint32_t batch;	     /* 1 .. FASTNET_SEND_MAX_BATCH frames per SEND */
	const uint8_t *data; /* the frames' bytes, copied into the injector's area */
	size_t data_len;     /* 1 .. UINT32_MAX */
};

struct cb_injector {
	int fd; /* /dev/fastnet, bound in INJECT mode; -1 once closed */
	bool batched;
	char ifname[IF_NAMESIZE];
	uint32_t batch;
	/* The frames' bytes: private anonymous memory written once at open. */
	uint8_t *area;
	size_t area_len; /* what the caller gave: the bound every unit is checked against */
	size_t area_map_len;
	struct fastnet_frame_desc *descs; /* SEND's descriptors, refilled from the table per call */
	struct cb_send_cursor at;	  /* the native tier's place in its table */
	bool refused;			  /* the last call took nothing (ENOBUFS) */
	uint64_t backoff_ns;
	struct cb_send_stats st; /* zero-copy and segs_out stay 0 */
};

/*
 * Whether /dev/fastnet is there, speaks the ABI and knows INJECT (FASTNET_IOC_SEND). 0, or -1
 * with the reason in e, worded as for the capture methods (cb_fastnet_probe) when the module is
 * missing.
 */
int cb_injector_probe(struct cb_error *e);

/*
 * Opens /dev/fastnet and binds it in INJECT mode to ifname, looked up in netns_path: the module
 * resolves the name in the namespace of the thread that calls SET_MODE, so a short-lived thread
 * joins it first and makes that one call. 0, or -1 with e filled and nothing left open.
 */
int cb_injector_open(struct cb_injector *s, const struct cb_injector_options *o,
		     struct cb_error *e);

/* Closes the file (the module unbinds) and unmaps the area. Idempotent. */
void cb_injector_close(struct cb_injector *s);

/* One write() of area[off, off + len): len when taken, 0 when refused for room, -1 with e. */
ssize_t cb_injector_send_one(struct cb_injector *s, uint32_t off, uint32_t len, struct cb_error *e);

/*
 * One FASTNET_IOC_SEND of the n pairs of table from pair `first`, wrapping to pair 0 after pair
 * units - 1 (n <= batch): frames taken, 0 when the first was refused for room, -1 with e. The
 * bytes of those taken go to *bytes.
 */
int cb_injector_send_from(struct cb_injector *s, const uint32_t *table, uint32_t units,
			  uint32_t first, uint32_t n, uint64_t *bytes, struct cb_error *e);

/* The same on the first n pairs of table, for the js tier's sendBatch. */
int cb_injector_send_batch(struct cb_injector *s, const uint32_t *table, uint32_t n,
			   struct cb_error *e);

/*
 * After a call that took nothing: sleeps the back-off, at most timeout_ms (there is nothing to
 * poll for: the module never blocks, and the room that lacked is a qdisc's or a veth peer's).
 */
int cb_injector_wait(struct cb_injector *s, int timeout_ms, struct cb_error *e);

/*
 * The native tier, as cb_send_loop (send/send_loop.h) for a socket: round-robin over the table
 * from s->pos, a write() per unit or SEND batches of up to s->batch, waiting after a call that
 * took nothing, until slice->max_units are taken or slice_ms has passed. Units taken and their
 * bytes go to the outputs. 0, or -1 with e filled.
 */
int cb_injector_loop(struct cb_injector *s, const uint32_t *table, uint32_t units,
		     const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		     struct cb_error *e);

/*
 * The end of a window: every frame was handed over synchronously, so nothing is outstanding;
 * checks that the module counted as many frames and bytes taken as this side did. 0, or -1
 * (EPROTO) with both counts in e.
 */
int cb_injector_finish(struct cb_injector *s, struct cb_error *e);

#ifdef __cplusplus
}
#endif

#endif
