/*
 * The fixed sink of `capbench send`: one receiving object (a TPACKET_V3 ring on an interface, a
 * bound UDP socket, or a TCP listener and the one connection it accepts) and one pthread that
 * reads it while the sender sends, counting exactly every frame, datagram or byte. Pure C: no
 * printing, no exiting, errors through cb_error.
 *
 * Life cycle: cb_sink_open() (creates and binds everything in the caller's network namespace, so
 * its errors come at once) -> cb_sink_start() (returns once the thread has named and pinned
 * itself, or with that error) -> cb_sink_status() any number of times -> cb_sink_stop() (one
 * last non-blocking pass, join; idempotent) -> cb_sink_close() (idempotent; status still works)
 * -> cb_sink_destroy(). All calls come from one controlling thread (the JS thread); only the
 * sink thread runs concurrently with them.
 */
#ifndef CAPBENCH_SINK_H
#define CAPBENCH_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cb_sink_kind {
	CB_SINK_FRAMES = 0, /* TPACKET_V3 ring on ifname: every frame the interface receives */
	CB_SINK_UDP = 1,    /* UDP socket bound to addr:port: datagrams and their payload bytes */
	CB_SINK_TCP = 2,    /* TCP listener on addr:port: one connection's stream, read to EOF */
};

/* The ring's block: 1 MiB, retired after 1 ms so that a slow trickle is still seen promptly. */
#define CB_SINK_BLOCK_BYTES (1u << 20)
/* frames: bufferBytes rounds up to whole blocks; the packet_mmap ring allows at most 2 GiB. */
#define CB_SINK_MAX_BUFFER_BYTES 2147483647u

struct cb_sink_options {
	enum cb_sink_kind kind;
	const char *ifname;    /* frames only */
	const char *addr;      /* udp, tcp: a numeric IPv4 or IPv6 address */
	uint16_t port;	       /* udp, tcp: 0 lets the kernel pick (cb_sink_port reads it back) */
	uint32_t buffer_bytes; /* frames: ring bytes; udp, tcp: SO_RCVBUFFORCE */
	int cpu;	       /* the thread pins itself here; -1 leaves its affinity alone */
};

struct cb_sink_status {
	bool running;
	uint64_t units;	  /* frames / datagrams / reads that returned data */
	uint64_t bytes;	  /* frame bytes (tp_len) / datagram payload bytes / stream bytes */
	uint64_t ipv4;	  /* frames: the C counter's count; udp: = units; tcp: 0 */
	uint64_t drops;	  /* frames: PACKET_STATISTICS drops; udp: SO_MEMINFO drops; tcp: 0 */
	bool eof;	  /* tcp: the peer shut down and every byte was read */
	uint64_t cpu_ns;  /* the thread's CPU time since start (final once it has stopped) */
	uint64_t read_ns; /* CLOCK_MONOTONIC time in receive calls and counting, not in waits */
	uint64_t last_ns; /* CLOCK_MONOTONIC of the last receive that returned data; 0 none */
	bool has_error;	  /* the thread stopped on an error, described in error */
	struct cb_error error;
};

struct cb_sink;

/* Validates, creates and binds the receiving object. NULL with e filled on failure. */
struct cb_sink *cb_sink_open(const struct cb_sink_options *o, struct cb_error *e);

/* The bound port (udp, tcp), 0 for frames. */
uint16_t cb_sink_port(const struct cb_sink *s);

/* Starts the thread and waits for it to name and pin itself. -1 with e filled on failure. */
int cb_sink_start(struct cb_sink *s, struct cb_error *e);

/* A snapshot, cheap enough to poll every millisecond (drops cost one getsockopt). */
void cb_sink_status(struct cb_sink *s, struct cb_sink_status *st);

/*
 * Asks the thread to stop; it reads once more whatever is readable at that moment, then ends.
 * Joins it and fills st (may be NULL) with the final status. Idempotent.
 */
void cb_sink_stop(struct cb_sink *s, struct cb_sink_status *st);

/* Stops if needed and closes every descriptor and the ring. Idempotent; status still works. */
void cb_sink_close(struct cb_sink *s);

/* Closes and frees. NULL is fine. */
void cb_sink_destroy(struct cb_sink *s);

#ifdef __cplusplus
}
#endif

#endif
