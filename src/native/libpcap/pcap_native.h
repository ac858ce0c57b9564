/*
 * libpcap driven directly: pcap_dispatch() batches copied to slots, a native counting loop on
 * libpcap's own buffers, and pcap_stats(). libpcap is loaded with dlopen() on first use and its
 * prototypes are declared here rather than taken from pcap.h, so the addon builds and loads on
 * machines without libpcap and reports why the method is unavailable.
 */
#ifndef CAPBENCH_PCAP_NATIVE_H
#define CAPBENCH_PCAP_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "native_error.h"
#include "slice_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Smallest slot dispatch() copies into: a minimum Ethernet frame. */
#define CB_PCAP_MIN_SLOT 64u
#define CB_PCAP_MAX_DISPATCH (1u << 20)

/* Loads libpcap once per process. 0, or -1 with the reason in e (err 0: dlerror() text). */
int cb_pcap_load(struct cb_error *e);

/* pcap_lib_version() once loaded, else "". */
const char *cb_pcap_version(void);

struct cb_pcap_options {
	const char *ifname;
	int snaplen;
	int buffer_bytes; /* 0 keeps libpcap's default */
	int timeout_ms;
	int immediate;
};

struct cb_pcap {
	void *pcap; /* pcap_t *, opaque here */
	int fd;	    /* pcap_get_selectable_fd(), for poll() */
	char ifname[64];
	struct cb_calls calls; /* pcap_dispatch() and poll() calls (libpcap makes its own) */
};

/* pcap_create .. pcap_activate, inbound only, non-blocking. On failure h->pcap is NULL. */
int cb_pcap_open(struct cb_pcap *h, const struct cb_pcap_options *o, struct cb_error *e);

/*
 * One pcap_dispatch() of up to max_frames, frame i copied (caplen, cut to the slot) into slot i
 * of buflen / max_frames bytes and described by table[2i], table[2i+1]. When nothing is ready,
 * polls up to timeout_ms and tries once more. Frames copied, or -1.
 */
int cb_pcap_dispatch_copy(struct cb_pcap *h, uint8_t *buf, size_t buflen, uint32_t max_frames,
			  uint32_t *table, int timeout_ms, struct cb_error *e);

/* The native tier: counts in libpcap's buffer for one slice (slice_loop.h). */
int cb_pcap_consume(struct cb_pcap *h, const struct cb_slice *slice, struct cb_count *out,
		    struct cb_error *e);

/* pcap_stats(): libpcap's own running totals (32-bit, they wrap). */
int cb_pcap_stats(struct cb_pcap *h, uint32_t *received, uint32_t *dropped, uint32_t *if_dropped,
		  struct cb_error *e);

/* pcap_close(); safe to call again. */
void cb_pcap_close(struct cb_pcap *h);

#ifdef __cplusplus
}
#endif

#endif
