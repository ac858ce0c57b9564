/*
 * The XSKMAP registry: one entry per interface this process captures on with AF_XDP, holding the
 * interface's XSKMAP and the redirect program that reads it. The interface's first socket loads
 * both, every socket puts itself in the map at its queue, and the last one closed detaches and
 * frees them (the kernel keeps the same split: net/xdp/xskmap.c apart from xsk.c).
 */
#include "af_xdp.h"
#ifdef CB_HAVE_LIBXDP
#include "af_xdp_internal.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cb_xdp_prog *registry;

static int create_map(struct cb_xdp_prog *p, const char *ifname, struct cb_error *e)
{
	p->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "capbench_xsks", sizeof(uint32_t),
				   sizeof(uint32_t), p->map_entries, NULL);
	if (p->map_fd < 0)
		return cb_fail(e, -p->map_fd, "create XSKMAP of %u entries for %s", p->map_entries,
			       ifname);
	return 0;
}

static void free_prog(struct cb_xdp_prog *p)
{
	cb_xdp_prog_unload(p);
	if (p->map_fd >= 0)
		close(p->map_fd);
	free(p);
}

/* The interface's program entry with one more user, loaded (not attached) if new. Under lock. */
static struct cb_xdp_prog *get_prog(int ifindex, uint32_t queues, const char *ifname,
				    struct cb_error *e)
{
	for (struct cb_xdp_prog *p = registry; p; p = p->next) {
		if (p->ifindex == ifindex) {
			p->users++;
			return p;
		}
	}
	struct cb_xdp_prog *p = calloc(1, sizeof(*p));
	if (!p) {
		cb_fail(e, ENOMEM, "allocate XDP program state for %s", ifname);
		return NULL;
	}
	p->ifindex = ifindex;
	p->prog_fd = p->map_fd = p->link_fd = -1;
	p->map_entries = queues;
	if (create_map(p, ifname, e) < 0 || cb_xdp_prog_load(p, ifname, e) < 0) {
		free_prog(p);
		return NULL;
	}
	p->users = 1;
	p->next = registry;
	registry = p;
	return p;
}

/* Drops a user; the last one detaches and frees. Under lock. */
static void put_prog(struct cb_xdp_prog *p)
{
	if (--p->users > 0)
		return;
	for (struct cb_xdp_prog **pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free_prog(p);
}

int cb_xskmap_join(struct cb_xsk *s, uint32_t queues, struct cb_error *e)
{
	struct cb_xsk_impl *im = s->impl;
	int rc = 0;

	pthread_mutex_lock(&registry_lock);
	im->prog = get_prog(s->ifindex, queues, s->ifname, e);
	if (!im->prog) {
		rc = -1;
		goto out;
	}
	int err = bpf_map_update_elem(im->prog->map_fd, &s->queue, &s->fd, 0);
	if (err < 0) {
		rc = cb_fail(e, -err, "put the AF_XDP socket for %s queue %u in the XSKMAP",
			     s->ifname, s->queue);
		goto out;
	}
	im->in_map = 1;
	if (!im->prog->attached && cb_xdp_prog_attach(im->prog, s->ifname, e) < 0) {
		rc = -1;
		goto out;
	}
	s->prog_id = im->prog->prog_id;
	s->attach_link = im->prog->link_fd >= 0;
out:
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

void cb_xskmap_leave(struct cb_xsk *s)
{
	struct cb_xsk_impl *im = s->impl;

	pthread_mutex_lock(&registry_lock);
	if (im->in_map)
		bpf_map_delete_elem(im->prog->map_fd, &s->queue);
	if (im->xsk)
		xsk_socket__delete(im->xsk);
	if (im->prog)
		put_prog(im->prog);
	pthread_mutex_unlock(&registry_lock);
}

#endif /* CB_HAVE_LIBXDP */
