/*
 * AF_XDP sending with libxdp (see af_xdp_tx.h): the UMEM of the units' frames, the socket opened
 * in the sender's namespace, descriptors, kicks, completions. Compiles to nothing where libxdp's
 * headers are missing; af_xdp_stubs.c then says so.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "af_xdp_tx.h"
#ifdef CB_HAVE_LIBXDP
#include "af_xdp_internal.h"
#include "../send/in_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
/* Linux 6.17: descriptors one copy-mode kick may send (32 before, and by default). */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif

/* The netdev generic netlink family (Linux 6.3, uapi linux/netdev.h, newer than the headers
 * here): a device's XDP features, among them whether its driver has zero-copy AF_XDP. */
#define NETDEV_GENL_NAME "netdev"
#define NETDEV_GENL_CMD_DEV_GET 1
#define NETDEV_GENL_A_DEV_IFINDEX 1
#define NETDEV_GENL_A_DEV_XDP_FEATURES 3
#define NETDEV_GENL_XDP_ACT_XSK_ZEROCOPY 8ull

/* A UMEM needs a fill ring to bind, even one nothing is ever put on (there is no RX ring). */
#define FILL_RING_SIZE 4u
/* How long a bind may find queue 0 busy: the kernel lets go of the previous window's socket in
 * a work item after close() returns (as af_xdp.c's create_socket). */
#define BUSY_RETRY_MS 1000u
/* finish(): the longest single sleep while waiting for completions. */
#define FINISH_POLL_NS 10000000ull

struct cb_xsk_tx_impl {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
};

static const char *mode_name(bool zero_copy)
{
	return zero_copy ? "zero-copy" : "copy";
}

/* ---- units -------------------------------------------------------------------------------- */

struct unit {
	uint32_t off, len;
};

static int unit_cmp(const void *a, const void *b)
{
	const struct unit *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * The distinct units, sorted by offset, and the chunk size that holds the largest. A chunk holds
 * one whole frame: without multi-buffer (XDP_USE_SG) a descriptor cannot span two.
 */
static int load_units(struct cb_xsk_tx *s, const struct cb_xsk_tx_options *o, struct cb_error *e)
{
	struct unit *u = malloc((size_t)o->nunits * sizeof(*u));
	uint32_t n = 0, max_len = 0;
	int rc = 0;

	if (!u)
		return cb_fail(e, ENOMEM, "AF_XDP sender on %s: allocate %u units", o->ifname,
			       o->nunits);
	for (uint32_t i = 0; i < o->nunits; i++) {
		u[i].off = o->units[2 * (size_t)i];
		u[i].len = o->units[2 * (size_t)i + 1];
		if (u[i].len < ETH_HLEN || (uint64_t)u[i].off + u[i].len > o->data_len) {
			rc = cb_fail(e, EINVAL,
				     "AF_XDP sender on %s: unit %u (%u bytes at %u) is not a frame "
				     "inside the %zu bytes of data",
				     o->ifname, i, u[i].len, u[i].off, o->data_len);
			goto out;
		}
		if (u[i].len > 4096) {
			rc = cb_fail(
				e, EMSGSIZE,
				"AF_XDP sender on %s: unit %u is a %u-byte frame; a UMEM chunk "
				"holds at most 4096",
				o->ifname, i, u[i].len);
			goto out;
		}
	}
	qsort(u, o->nunits, sizeof(*u), unit_cmp);
	for (uint32_t i = 0; i < o->nunits; i++) {
		if (n > 0 && u[n - 1].off == u[i].off) {
			if (u[n - 1].len == u[i].len)
				continue;
			rc = cb_fail(e, EINVAL,
				     "AF_XDP sender on %s: two units start at offset %u, of %u and "
				     "%u bytes",
				     o->ifname, u[i].off, u[n - 1].len, u[i].len);
			goto out;
		}
		u[n++] = u[i];
		if (u[i].len > max_len)
			max_len = u[i].len;
	}
	s->unit_off = malloc((size_t)n * sizeof(uint32_t));
	s->unit_len = malloc((size_t)n * sizeof(uint32_t));
	if (!s->unit_off || !s->unit_len) {
		rc = cb_fail(e, ENOMEM, "AF_XDP sender on %s: allocate the unit map", o->ifname);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		s->unit_off[i] = u[i].off;
		s->unit_len[i] = u[i].len;
	}
	s->nunits = n;
	s->frame_bytes = max_len <= 2048 ? 2048 : 4096;
out:
	free(u);
	return rc;
}

/*
 * The UMEM chunk of the unit (off, len), or -1. Units are mostly sent in order, so the unit after
 * the last one found is tried first; otherwise a binary search.
 */
static inline int64_t unit_chunk(struct cb_xsk_tx *s, uint32_t off, uint32_t len)
{
	uint32_t i = s->hint, lo = 0, hi = s->nunits;

	if (i >= s->nunits || s->unit_off[i] != off) {
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (s->unit_off[mid] < off)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == s->nunits || s->unit_off[lo] != off)
			return -1;
		i = lo;
	}
	if (s->unit_len[i] != len)
		return -1;
	s->hint = i + 1 == s->nunits ? 0 : i + 1;
	return i;
}

static int bad_unit(struct cb_xsk_tx *s, uint32_t off, uint32_t len, struct cb_error *e)
{
	return cb_fail(e, EINVAL,
		       "AF_XDP sender on %s: (%u, %u) is not one of the %u units it was opened "
		       "with",
		       s->ifname, off, len, s->nunits);
}

/*
 * Chunk i holds unit i, from the chunk's start. The kernel pins the UMEM while the socket lives,
 * and fork() then copies pinned pages into the child: MADV_DONTFORK keeps every `ip` capbench
 * runs from copying it (MACHINE-NOTES.md).
 */
static int map_umem(struct cb_xsk_tx *s, const struct cb_xsk_tx_options *o, struct cb_error *e)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need = (size_t)s->nunits * s->frame_bytes;

	/* Whole pages: the chunks that round it up are never used. */
	s->umem_len = (need + page - 1) & ~(page - 1);
	if (s->umem_len > CB_XSK_MAX_UMEM)
		return cb_fail(e, EMSGSIZE,
			       "AF_XDP sender on %s: %u units of %u-byte chunks are more than the "
			       "1 GiB UMEM limit",
			       o->ifname, s->nunits, s->frame_bytes);
	s->umem =
		mmap(NULL, s->umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->umem == MAP_FAILED) {
		s->umem = NULL;
		return cb_fail(e, errno, "map %zu bytes of UMEM for %s", s->umem_len, o->ifname);
	}
	if (madvise(s->umem, s->umem_len, MADV_DONTFORK) < 0)
		return cb_fail(e, errno, "keep the UMEM for %s out of child processes (madvise)",
			       o->ifname);
	for (uint32_t i = 0; i < s->nunits; i++)
		memcpy(s->umem + (size_t)i * s->frame_bytes, o->data + s->unit_off[i],
		       s->unit_len[i]);
	return 0;
}

/* ---- the socket, in the sender's namespace ------------------------------------------------ */

static void nl_put(struct nlmsghdr *nh, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* One generic netlink request with one attribute; the attribute `want` of the reply to out. 0,
 * or -1 when there is no such reply (an old kernel has no netdev family). */
static int genl_ask(int fd, uint16_t family, uint8_t cmd, uint16_t attr, const void *val,
		    uint16_t val_len, uint16_t want, void *out, size_t out_len)
{
	union {
		struct nlmsghdr nh;
		char buf[256];
	} req;
	union {
		struct nlmsghdr nh;
		char buf[8192];
	} rep;
	struct genlmsghdr *gh;
	struct nlattr *a;
	ssize_t got;
	int rem;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.nh.nlmsg_type = family;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	gh = NLMSG_DATA(&req.nh);
	gh->cmd = cmd;
	gh->version = 1;
	nl_put(&req.nh, attr, val, val_len);
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -1;
	got = recv(fd, &rep, sizeof(rep), 0);
	if (got < (ssize_t)NLMSG_LENGTH(GENL_HDRLEN) || !NLMSG_OK(&rep.nh, (size_t)got) ||
	    rep.nh.nlmsg_type == NLMSG_ERROR || rep.nh.nlmsg_type != family)
		return -1;
	a = (struct nlattr *)((char *)NLMSG_DATA(&rep.nh) + GENL_HDRLEN);
	rem = (int)rep.nh.nlmsg_len - (int)NLMSG_LENGTH(GENL_HDRLEN);
	while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem) {
		if ((a->nla_type & NLA_TYPE_MASK) == want &&
		    a->nla_len - NLA_HDRLEN >= (int)out_len) {
			memcpy(out, (char *)a + NLA_HDRLEN, out_len);
			return 0;
		}
		rem -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return -1;
}

/*
 * Whether the driver advertises zero-copy AF_XDP (the netdev family's xdp-features), asked in this
 * thread's namespace. The clean test: binding with XDP_ZEROCOPY to find out would fail on veth
 * (no zero-copy there) and leave a half-made socket to undo. Unknown counts as no.
 */
static bool zero_copy_advertised(int ifindex)
{
	struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };
	uint16_t family = 0;
	uint64_t features = 0;
	uint32_t idx = (uint32_t)ifindex;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	bool yes = false;

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (genl_ask(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, NETDEV_GENL_NAME,
		     sizeof(NETDEV_GENL_NAME), CTRL_ATTR_FAMILY_ID, &family, sizeof(family)) == 0 &&
	    genl_ask(fd, family, NETDEV_GENL_CMD_DEV_GET, NETDEV_GENL_A_DEV_IFINDEX, &idx,
		     sizeof(idx), NETDEV_GENL_A_DEV_XDP_FEATURES, &features, sizeof(features)) == 0)
		yes = (features & NETDEV_GENL_XDP_ACT_XSK_ZEROCOPY) != 0;
	close(fd);
	return yes;
}

static void delete_socket(struct cb_xsk_tx *s)
{
	struct cb_xsk_tx_impl *im = s->impl;

	s->fd = -1;
	if (!im)
		return;
	if (im->xsk)
		xsk_socket__delete(im->xsk);
	if (im->umem)
		xsk_umem__delete(im->umem);
	im->xsk = NULL;
	im->umem = NULL;
}

/* Registers the UMEM (its socket is the AF_XDP socket) and binds it to queue 0 of ifname. */
static int create_socket(struct cb_xsk_tx *s, bool zero_copy, struct cb_error *e)
{
	struct cb_xsk_tx_impl *im = s->impl;
	struct xsk_umem_config ucfg;
	struct xsk_socket_config cfg;
	struct xdp_options opts;
	socklen_t len = sizeof(opts);
	uint32_t budget = s->ring_size;
	uint64_t give_up;
	int rc;

	memset(&ucfg, 0, sizeof(ucfg));
	ucfg.fill_size = FILL_RING_SIZE;
	ucfg.comp_size = s->ring_size;
	ucfg.frame_size = s->frame_bytes;
	rc = xsk_umem__create(&im->umem, s->umem, s->umem_len, &im->fill, &im->comp, &ucfg);
	if (rc < 0) {
		im->umem = NULL;
		return cb_fail(e, -rc, "register %zu bytes of UMEM (%u-byte chunks) for %s",
			       s->umem_len, s->frame_bytes, s->ifname);
	}
	/* libxdp's socket() may lack SOCK_CLOEXEC: an `ip` forked while it is open would keep the
	 * socket, and its pinned UMEM, alive. */
	fcntl(xsk_umem__fd(im->umem), F_SETFD, FD_CLOEXEC);

	memset(&cfg, 0, sizeof(cfg));
	cfg.tx_size = s->ring_size;
	/* No program: transmitting needs none, and there is no RX ring to redirect into. */
	cfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	cfg.bind_flags = (zero_copy ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP;
	give_up = cb_now_ns() + BUSY_RETRY_MS * 1000000ull;
	for (;;) {
		rc = xsk_socket__create(&im->xsk, s->ifname, 0, im->umem, NULL, &im->tx, &cfg);
		if (rc != -EBUSY || cb_now_ns() >= give_up)
			break;
		cb_sleep_ns(2000000);
	}
	if (rc < 0) {
		im->xsk = NULL;
		delete_socket(s);
		if (rc == -EBUSY)
			return cb_fail(
				e, EBUSY,
				"bind AF_XDP socket to %s queue 0: the queue stayed in use for "
				"%u ms (another AF_XDP socket is bound to it)",
				s->ifname, BUSY_RETRY_MS);
		return cb_fail(e, -rc,
			       "create AF_XDP socket on %s queue 0 (%s mode, %u-entry TX ring, no "
			       "RX ring)",
			       s->ifname, mode_name(zero_copy), s->ring_size);
	}
	s->fd = xsk_socket__fd(im->xsk);
	/* One kick sends everything on the ring (6.17+); older kernels send 32 per kick and say
	 * EAGAIN for the rest, which the next kick sends. */
	setsockopt(s->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget));
	memset(&opts, 0, sizeof(opts));
	if (getsockopt(s->fd, SOL_XDP, XDP_OPTIONS, &opts, &len) == 0)
		s->zero_copy = (opts.flags & XDP_OPTIONS_ZEROCOPY) != 0;
	else
		s->zero_copy = zero_copy;
	return 0;
}

struct open_job {
	struct cb_xsk_tx *s;
	const char *netns_path;
};

/* Everything that resolves the interface or creates a socket runs here, in the sender's
 * namespace (cb_in_netns); the sockets keep it afterwards. */
static int open_here(void *arg, struct cb_error *e)
{
	struct open_job *j = arg;
	struct cb_xsk_tx *s = j->s;
	int ifindex;

	errno = 0;
	ifindex = (int)if_nametoindex(s->ifname);
	if (ifindex == 0)
		return cb_fail(e, errno ? errno : ENODEV, "find interface %s%s%s", s->ifname,
			       j->netns_path ? " in netns " : "",
			       j->netns_path ? j->netns_path : "");
	/* Zero-copy only where the driver says it has it; should its bind still fail, copy. */
	if (zero_copy_advertised(ifindex) && create_socket(s, true, e) == 0)
		return 0;
	return create_socket(s, false, e);
}

static int open_in_netns(struct cb_xsk_tx *s, const char *netns_path, struct cb_error *e)
{
	struct open_job j = { s, netns_path };

	return cb_in_netns(netns_path, open_here, &j, "open an AF_XDP socket", e);
}

static int check_options(const struct cb_xsk_tx_options *o, struct cb_error *e)
{
	size_t namelen = o->ifname ? strlen(o->ifname) : 0;

	if (namelen == 0 || namelen >= IF_NAMESIZE)
		return cb_fail(e, EINVAL,
			       "AF_XDP sender: interface name '%s' must be 1 to %d "
			       "characters",
			       o->ifname ? o->ifname : "", IF_NAMESIZE - 1);
	if (o->batch == 0 || o->batch > CB_XSK_TX_MAX_BATCH)
		return cb_fail(e, EINVAL, "AF_XDP sender on %s: batch %u is not in 1..%u",
			       o->ifname, o->batch, CB_XSK_TX_MAX_BATCH);
	if (!o->data || o->data_len == 0 || o->data_len > UINT32_MAX)
		return cb_fail(e, EINVAL, "AF_XDP sender on %s: data must be 1 to %u bytes",
			       o->ifname, UINT32_MAX);
	if (!o->units || o->nunits == 0)
		return cb_fail(e, EINVAL, "AF_XDP sender on %s: no units", o->ifname);
	return 0;
}

int cb_xsk_tx_open(struct cb_xsk_tx *s, const struct cb_xsk_tx_options *o, struct cb_error *e)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (check_options(o, e) < 0)
		return -1;
	memcpy(s->ifname, o->ifname, strlen(o->ifname) + 1);
	s->batch = o->batch;
	s->backoff_ns = CB_SEND_BACKOFF_MIN_NS;
	s->ring_size = CB_XSK_TX_MIN_RING;
	while (s->ring_size < 4 * o->batch)
		s->ring_size *= 2;
	cb_xdp_quiet_libraries();
	if (load_units(s, o, e) < 0 || map_umem(s, o, e) < 0)
		goto fail;
	/* A resend per completed descriptor at most, and what one kick can add before a reap. */
	s->resend = malloc(2 * (size_t)s->ring_size * sizeof(uint32_t));
	s->scratch = malloc((size_t)s->batch * sizeof(uint32_t));
	s->impl = calloc(1, sizeof(*s->impl));
	if (!s->resend || !s->scratch || !s->impl) {
		cb_fail(e, ENOMEM, "allocate AF_XDP sender state for %s", s->ifname);
		goto fail;
	}
	if (open_in_netns(s, o->netns_path, e) < 0)
		goto fail;
	return 0;
fail:
	cb_xsk_tx_close(s);
	return -1;
}

void cb_xsk_tx_close(struct cb_xsk_tx *s)
{
	delete_socket(s);
	free(s->impl);
	s->impl = NULL;
	/* After the socket: the kernel holds the pages it pinned until the UMEM is unregistered. */
	if (s->umem)
		munmap(s->umem, s->umem_len);
	s->umem = NULL;
	free(s->unit_off);
	free(s->unit_len);
	free(s->resend);
	free(s->scratch);
	s->unit_off = s->unit_len = s->resend = s->scratch = NULL;
	s->nunits = 0;
	s->nresend = 0;
}

/* ---- descriptors and kicks ---------------------------------------------------------------- */

/* The kernel's consumer index of the TX ring: it writes it from the kick (or, zero-copy, NAPI). */
static inline uint32_t tx_consumer(const struct cb_xsk_tx_impl *im)
{
	return __atomic_load_n(im->tx.consumer, __ATOMIC_ACQUIRE);
}

/* Descriptors not yet given back: on the TX ring, or taken and not yet completed. */
static inline uint64_t outstanding(const struct cb_xsk_tx *s)
{
	return s->produced - s->st.completed;
}

/* Room on the ring for new units: what is neither outstanding nor owed to a dropped one. */
static inline uint32_t room_for_new(const struct cb_xsk_tx *s)
{
	uint64_t used = outstanding(s) + s->nresend;

	return used >= s->ring_size ? 0 : (uint32_t)(s->ring_size - used);
}

int64_t cb_xsk_tx_reap(struct cb_xsk_tx *s)
{
	struct cb_xsk_tx_impl *im = s->impl;
	uint32_t idx = 0, n = xsk_ring_cons__peek(&im->comp, s->ring_size, &idx);
	uint64_t bytes = 0;

	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t chunk = *xsk_ring_cons__comp_addr(&im->comp, idx + i) / s->frame_bytes;

		if (chunk < s->nunits)
			bytes += s->unit_len[chunk];
	}
	xsk_ring_cons__release(&im->comp, n);
	s->st.completed += n;
	s->st.completed_bytes += bytes;
	return n;
}

/* n descriptors for the chunks given, submitted together: n, or 0 when the ring had no room
 * after all (the caller checked it has). Their bytes go to *bytes. */
static uint32_t put_chunks(struct cb_xsk_tx *s, const uint32_t *chunks, uint32_t n, uint64_t *bytes)
{
	struct cb_xsk_tx_impl *im = s->impl;
	uint64_t b = 0;
	uint32_t idx = 0;

	*bytes = 0;
	if (n == 0 || xsk_ring_prod__reserve(&im->tx, n, &idx) != n)
		return 0;
	for (uint32_t k = 0; k < n; k++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&im->tx, idx + k);

		d->addr = (uint64_t)chunks[k] * s->frame_bytes;
		d->len = s->unit_len[chunks[k]];
		d->options = 0;
		b += d->len;
	}
	/* Release: the kernel must see the descriptors before the producer index that covers them. */
	xsk_ring_prod__submit(&im->tx, n);
	s->produced += n;
	*bytes = b;
	return n;
}

/* Dropped descriptors go again first, as many as there is room for. */
static void put_resends(struct cb_xsk_tx *s)
{
	uint64_t out = outstanding(s), bytes;
	uint32_t n = s->nresend;

	if (n == 0 || out >= s->ring_size)
		return;
	if (n > s->ring_size - out)
		n = (uint32_t)(s->ring_size - out);
	n = put_chunks(s, s->resend, n, &bytes);
	s->nresend -= n;
	memmove(s->resend, s->resend + n, (size_t)s->nresend * sizeof(uint32_t));
}

/*
 * The kick said EBUSY: the device dropped the skb of the last descriptor the kernel took in it,
 * and the kernel completed that descriptor anyway. Linux 6.18 publishes its consumer index at the
 * end of every kick (checked here by dropping frames at a veth whose peer went down), so that
 * descriptor is the one just before it: queued again, and its completion not counted as taken.
 * A kernel that published later would leave the index where the kick found it (it publishes only
 * when it has consumed all it saw): that is refused rather than guessed.
 */
static int dropped(struct cb_xsk_tx *s, uint32_t before, struct cb_error *e)
{
	struct cb_xsk_tx_impl *im = s->impl;
	uint32_t cons = tx_consumer(im);
	const struct xdp_desc *d;
	uint64_t chunk;

	if (cons == before)
		return cb_fail(
			e, EBUSY,
			"AF_XDP socket on %s: the device dropped a frame (sendto: EBUSY) but "
			"the TX ring's consumer index did not move, so which one is unknown",
			s->ifname);
	d = xsk_ring_prod__tx_desc(&im->tx, cons - 1);
	chunk = d->addr / s->frame_bytes;
	if (chunk >= s->nunits || s->nresend >= 2 * s->ring_size)
		return cb_fail(e, EBUSY,
			       "AF_XDP socket on %s: a dropped frame cannot be queued again",
			       s->ifname);
	s->resend[s->nresend++] = (uint32_t)chunk;
	s->st.dropped++;
	s->st.dropped_bytes += d->len;
	s->st.retries++;
	return 0;
}

/*
 * One sendto() that makes the kernel send what is on the TX ring (copy mode: it builds and
 * transmits an skb per descriptor, in this call). Nothing when the ring is empty, or, zero-copy,
 * when the driver has not asked to be woken. A refusal for room leaves the descriptors on the
 * ring for the next kick. 0, or -1 with e filled.
 */
static int kick(struct cb_xsk_tx *s, struct cb_error *e)
{
	struct cb_xsk_tx_impl *im = s->impl;
	uint32_t before = tx_consumer(im);
	int err;

	if (*im->tx.producer == before)
		return 0;
	if (s->zero_copy && !xsk_ring_prod__needs_wakeup(&im->tx))
		return 0;
	s->st.calls++;
	if (sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	err = errno;
	if (err == EBUSY && !s->zero_copy)
		return dropped(s, before, e);
	/* EAGAIN: the send buffer is full of skbs in flight, the device is busy (NETDEV_TX_BUSY),
	 * or (before 6.17) the 32-descriptor budget ran out. Zero-copy EBUSY: a driver resetting. */
	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR || err == EBUSY) {
		s->st.retries++;
		return 0;
	}
	return cb_fail(e, err, "kick (sendto) the AF_XDP socket on %s queue 0 (%s mode)", s->ifname,
		       mode_name(s->zero_copy));
}

/* Something went on the ring: the next refusal backs off from the start again. */
static inline void took(struct cb_xsk_tx *s)
{
	s->backoff_ns = CB_SEND_BACKOFF_MIN_NS;
}

int64_t cb_xsk_tx_send_one(struct cb_xsk_tx *s, uint32_t off, uint32_t len, struct cb_error *e)
{
	int64_t chunk = unit_chunk(s, off, len);
	uint64_t bytes;
	uint32_t c;

	if (chunk < 0)
		return bad_unit(s, off, len, e);
	c = (uint32_t)chunk;
	cb_xsk_tx_reap(s);
	put_resends(s);
	if (room_for_new(s) == 0) {
		s->st.retries++;
		/* What the kernel left on the ring goes with this kick. */
		return kick(s, e) < 0 ? -1 : 0;
	}
	if (put_chunks(s, &c, 1, &bytes) == 0)
		return kick(s, e) < 0 ? -1 : 0;
	took(s);
	return kick(s, e) < 0 ? -1 : (int64_t)len;
}

int cb_xsk_tx_send_from(struct cb_xsk_tx *s, const uint32_t *table, uint32_t units, uint32_t first,
			uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	uint32_t u = first, room;

	*bytes = 0;
	if (n == 0 || n > s->batch || first >= units)
		return cb_fail(e, EINVAL,
			       "a batch of %u units from unit %u of %u on %s: batch is 1 to %u", n,
			       first, units, s->ifname, s->batch);
	/* Every pair is looked up before a descriptor is written: a bad one changes nothing. */
	for (uint32_t k = 0; k < n; k++) {
		uint32_t off = table[2 * (size_t)u], len = table[2 * (size_t)u + 1];
		int64_t chunk = unit_chunk(s, off, len);

		if (chunk < 0)
			return bad_unit(s, off, len, e);
		s->scratch[k] = (uint32_t)chunk;
		if (++u == units)
			u = 0;
	}
	cb_xsk_tx_reap(s);
	put_resends(s);
	room = room_for_new(s);
	if (n > room)
		n = room;
	n = put_chunks(s, s->scratch, n, bytes);
	if (n > 0)
		took(s);
	else
		s->st.retries++;
	/* Also when nothing was new: descriptors the kernel left go with this kick. */
	if (kick(s, e) < 0)
		return -1;
	return (int)n;
}

/* ---- waiting ------------------------------------------------------------------------------ */

int cb_xsk_tx_wait(struct cb_xsk_tx *s, int timeout_ms, struct cb_error *e)
{
	s->st.waits++;
	cb_xsk_tx_reap(s);
	if (room_for_new(s) > 0 || (s->nresend > 0 && outstanding(s) < s->ring_size))
		return 0;
	/* A full ring the kernel stopped on (send buffer, busy device): kick it on. */
	if (kick(s, e) < 0)
		return -1;
	if (cb_xsk_tx_reap(s) > 0 && room_for_new(s) > 0)
		return 0;
	/*
	 * Nothing to poll for: POLLOUT says the TX ring is less than half full, not that a
	 * completion came, and poll() on a copy-mode socket transmits as a kick would. Completions
	 * come from the receiving side's softirq (veth) or the NIC: sleep a little, longer each
	 * time nothing comes.
	 */
	cb_send_back_off(&s->backoff_ns, timeout_ms, true);
	cb_xsk_tx_reap(s);
	return 0;
}

/* ---- the native tier ---------------------------------------------------------------------- */

static int step_from(void *self, const uint32_t *table, uint32_t units, uint32_t first, uint32_t n,
		     uint64_t *bytes, struct cb_error *e)
{
	return cb_xsk_tx_send_from(self, table, units, first, n, bytes, e);
}

static int step_wait(void *self, int timeout_ms, struct cb_error *e)
{
	return cb_xsk_tx_wait(self, timeout_ms, e);
}

/* Batches only: the js tier's call is 'tx-ring', as a TX ring's slots are. */
static const struct cb_send_step STEP = {
	.send_from = step_from,
	.wait = step_wait,
};

int cb_xsk_tx_loop(struct cb_xsk_tx *s, const uint32_t *table, uint32_t units,
		   const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		   struct cb_error *e)
{
	struct cb_send_handle h = { &s->at, false, s->batch, s->ifname };

	return cb_send_loop(&STEP, s, h, table, units, slice, units_out, bytes_out, e);
}

/* ---- the end of a window ------------------------------------------------------------------ */

int cb_xsk_tx_finish(struct cb_xsk_tx *s, int timeout_ms, struct cb_error *e)
{
	uint64_t deadline = cb_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	uint64_t pause = CB_SEND_BACKOFF_MIN_NS;

	for (;;) {
		struct xdp_statistics xs;
		socklen_t len = sizeof(xs);

		cb_xsk_tx_reap(s);
		put_resends(s);
		if (kick(s, e) < 0)
			return -1;
		cb_xsk_tx_reap(s);
		if (s->st.completed == s->produced && s->nresend == 0)
			return 0;
		if (cb_now_ns() < deadline) {
			cb_sleep_ns(pause);
			pause = pause * 2 > FINISH_POLL_NS ? FINISH_POLL_NS : pause * 2;
			continue;
		}
		/* A descriptor the kernel finds invalid is skipped and never completed. */
		memset(&xs, 0, sizeof(xs));
		getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &xs, &len);
		return cb_fail(e, ETIMEDOUT,
			       "AF_XDP socket on %s (%s mode): %llu of %llu descriptors not "
			       "completed after %d ms (%u on the TX ring; the kernel refused %llu "
			       "as invalid)",
			       s->ifname, mode_name(s->zero_copy),
			       (unsigned long long)outstanding(s), (unsigned long long)s->produced,
			       timeout_ms, *s->impl->tx.producer - tx_consumer(s->impl),
			       (unsigned long long)xs.tx_invalid_descs);
	}
}

#endif /* CB_HAVE_LIBXDP */
