/*
 * What the libxdp build of AF_XDP shares between its files (private to af_xdp*.c, included only
 * where CB_HAVE_LIBXDP says libxdp is here):
 *   af_xdp.c          the socket: UMEM, rings, open/close, receive, native loop, statistics
 *   af_xdp_xskmap.c   this process's XSKMAPs, one per interface, shared by its sockets
 *   af_xdp_program.c  the redirect program: load, attach, detach; libbpf's and libxdp's messages
 */
#ifndef CAPBENCH_AF_XDP_INTERNAL_H
#define CAPBENCH_AF_XDP_INTERNAL_H

#include <stdint.h>
#include <xdp/xsk.h>

#include "af_xdp.h"

/* The redirect program and XSKMAP of one interface, shared by this process's sockets on it. */
struct cb_xdp_prog {
	struct cb_xdp_prog *next;
	int ifindex;
	int prog_fd;
	int map_fd;
	int link_fd; /* -1 when attached through netlink (or not attached) */
	int attached;
	uint32_t prog_id;
	uint32_t map_entries;
	int users;
};

struct cb_xsk_impl {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct cb_xdp_prog *prog;
	int in_map;
	/* Frame addresses not on the fill ring (when there are more frames than fill entries). */
	uint64_t *spare;
	uint32_t nspare;
};

/* Hidden: internal to the addon, like the static functions these were in one file. */
#pragma GCC visibility push(hidden)

/* ---- af_xdp_program.c ---- */

/* Routes libbpf's and libxdp's printing into a kept message; never prints. Idempotent. */
void cb_xdp_quiet_libraries(void);

/* Loads the redirect program into p->prog_fd (p->map_fd is its XSKMAP) and sets p->prog_id. */
int cb_xdp_prog_load(struct cb_xdp_prog *p, const char *ifname, struct cb_error *e);

/* Attaches p's program to p->ifindex in driver mode: a BPF link where the kernel has them. */
int cb_xdp_prog_attach(struct cb_xdp_prog *p, const char *ifname, struct cb_error *e);

/* Detaches p's program if attached, and closes its file descriptor. */
void cb_xdp_prog_unload(struct cb_xdp_prog *p);

/* ---- af_xdp_xskmap.c ---- */

/*
 * Puts the socket (s->fd, s->queue) in its interface's XSKMAP, loading the map and program with
 * `queues` entries if this is the interface's first socket, and makes sure the program is
 * attached. Sets im->prog, im->in_map, s->prog_id and s->attach_link. -1 with e filled.
 */
int cb_xskmap_join(struct cb_xsk *s, uint32_t queues, struct cb_error *e);

/*
 * Undoes whatever cb_xskmap_join (and xsk_socket__create) did for s, under the registry's lock:
 * takes the socket out of the map, deletes it, and lets the interface's last socket detach and
 * free the program and map.
 */
void cb_xskmap_leave(struct cb_xsk *s);

#pragma GCC visibility pop

#endif
