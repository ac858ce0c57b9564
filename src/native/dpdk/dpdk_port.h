/*
 * dpdk: one port of DPDK's poll-mode drivers, read with rte_eth_rx_burst and counted in place.
 * On the test bed and with --iface the port is a virtual device on a kernel interface (the
 * net_af_packet or net_af_xdp PMD); with --dpdk-port it is a PCI NIC bound to vfio-pci.
 *
 * DPDK's EAL can be set up once per process and never again after rte_eal_cleanup, so it is set
 * up at the first open, in a thread of its own (EAL pins the thread that initialises it), lives
 * until cb_dpdk_release, and every session adds and removes its own port while it runs
 * (rte_dev_probe of a vdev). Its arguments are capbench's: no hugepages, no PCI scan unless a PCI port was asked for,
 * no shared runtime files, no telemetry; its log goes nowhere but the last line of an error.
 *
 * The mbufs' memory is a mapping of this file's, not EAL's heap: the js tier reads frames through
 * it as one external ArrayBuffer, and af_xdp's UMEM is that same memory (the PMD registers the
 * pool's memory with the kernel, so the objects must lie densely from its first byte).
 *
 * Compiled in only where DPDK's headers are (libdpdk-dev); elsewhere every call fails with ENOSYS.
 */
#ifndef CAPBENCH_DPDK_PORT_H
#define CAPBENCH_DPDK_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "native_error.h"
#include "slice_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most frames one take hands over: a js step's table holds this many pairs. */
#define CB_DPDK_MAX_TAKE 512u

struct cb_dpdk_options {
	const char *ifname; /* the kernel interface of a vdev; NULL with pci */
	const char *pmd;    /* "af_packet" or "af_xdp"; ignored with pci */
	const char *pci;    /* a PCI address (--dpdk-port), or NULL */
	/* Frames that must wait unread (drain): the PMD's ring is sized for them; 0 live. */
	uint32_t hold_frames;
};

struct cb_dpdk_port; /* a port added for one session */

struct cb_dpdk {
	struct cb_dpdk_port *port;
	uint8_t *mem; /* the mbufs' memory, where the js tier's offsets point */
	size_t mem_len;
	char ifname[64];  /* for errors: the interface or PCI address */
	uint32_t prog_id; /* af_xdp: the XDP program its PMD attached (by netlink), 0 for none */
	void *held[CB_DPDK_MAX_TAKE]; /* the js tier's mbufs, freed at its next call */
	uint32_t nheld;
};

/* Whether DPDK is compiled in and its EAL can still be set up here: 0, or -1 with e saying why. */
int cb_dpdk_probe(struct cb_error *e);

/* Adds (or takes back) the port, starts it and empties it. On failure nothing is left open. */
int cb_dpdk_open(struct cb_dpdk *d, const struct cb_dpdk_options *o, struct cb_error *e);

/*
 * The js tier: frees the previous call's mbufs, then takes up to max frames (at most
 * CB_DPDK_MAX_TAKE), polling for up to timeout_ms when none is ready. table[2i], table[2i+1]:
 * frame i's offset in d->mem and its length. Frames taken, or -1.
 */
int cb_dpdk_next(struct cb_dpdk *d, uint32_t max, uint32_t *table, int timeout_ms,
		 struct cb_error *e);

/* The native tier: one slice of rx bursts, counted (slice_loop.h). Adds to *out. */
int cb_dpdk_consume(struct cb_dpdk *d, const struct cb_slice *slice, struct cb_count *out,
		    struct cb_error *e);

/*
 * The port's counts since open: frames the kernel handed to it, drops included, where it can
 * tell (af_packet's socket; else -1), and frames dropped by the PMD or the kernel under it
 * (imissed + ierrors + rx_nombuf, and af_packet's ring overflows, which its PMD does not count).
 */
int cb_dpdk_stats(struct cb_dpdk *d, int64_t *seen, uint64_t *drops, struct cb_error *e);

/* Stops and removes the port, and lets its memory go. */
void cb_dpdk_close(struct cb_dpdk *d);

/* Removes any port still open and cleans up the EAL, for good in this process. */
void cb_dpdk_release(void);

#ifdef __cplusplus
}
#endif

#endif
