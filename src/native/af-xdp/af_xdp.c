/*
 * AF_XDP capture with libxdp (see af_xdp.h): the socket, its UMEM and rings, receiving in both
 * tiers, and statistics. The XSKMAP the socket joins is in af_xdp_xskmap.c, the program that
 * redirects into it in af_xdp_program.c. These three compile to nothing where libxdp's headers
 * are missing, and af_xdp_stubs.c to calls that say so (see af_xdp.h).
 */
#include "af_xdp.h"
#ifdef CB_HAVE_LIBXDP
#include "af_xdp_internal.h"
#include "slice_loop.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

/* Completion ring: required by bind(), never used (the socket has no tx ring). */
#define COMP_RING_SIZE 64u
/* How long a bind may find its queue busy before that is an answer (see create_socket). */
#define BUSY_RETRY_MS 1000u

/* ---- probe ------------------------------------------------------------------------------- */

int cb_xsk_probe(char *why, size_t why_len, char *version, size_t version_len)
{
	cb_xdp_quiet_libraries();
	snprintf(version, version_len, "libxdp, libbpf %s", libbpf_version_string());
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "this kernel has no AF_XDP sockets (socket(AF_XDP): %s)",
			 strerror(errno));
		return 0;
	}
	close(fd);
	why[0] = '\0';
	return 1;
}

/* ---- socket state ------------------------------------------------------------------------ */

static uint32_t rx_queue_count(const char *ifname)
{
	char path[64 + IF_NAMESIZE];
	uint32_t n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	DIR *d = opendir(path);
	if (!d)
		return 0; /* unknown: let bind() decide */
	for (struct dirent *de; (de = readdir(d));)
		if (strncmp(de->d_name, "rx-", 3) == 0)
			n++;
	closedir(d);
	return n;
}

static void driver_name(const char *ifname, char *out, size_t len)
{
	struct ethtool_drvinfo info;
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(out, len, "the driver of %s", ifname);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	memset(&ifr, 0, sizeof(ifr));
	info.cmd = ETHTOOL_GDRVINFO;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && info.driver[0])
		snprintf(out, len, "%.32s", info.driver);
	close(fd);
}

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static int check_options(const struct cb_xsk_options *o, struct cb_error *e)
{
	if (strlen(o->ifname) >= IF_NAMESIZE)
		return cb_fail(e, ENODEV, "find interface %s: name longer than %d bytes", o->ifname,
			       IF_NAMESIZE - 1);
	if (o->frame_bytes != 2048 && o->frame_bytes != 4096)
		return cb_fail(e, EINVAL, "AF_XDP on %s: frame size %u is not 2048 or 4096",
			       o->ifname, o->frame_bytes);
	if (!is_pow2(o->ring_size) || o->ring_size < CB_XSK_MIN_RING ||
	    o->ring_size > CB_XSK_MAX_RING)
		return cb_fail(e, EINVAL,
			       "AF_XDP on %s: ring size %u is not a power of two in %u..%u",
			       o->ifname, o->ring_size, CB_XSK_MIN_RING, CB_XSK_MAX_RING);
	if (o->frame_count == 0 || (uint64_t)o->frame_count * o->frame_bytes > CB_XSK_MAX_UMEM)
		return cb_fail(e, EINVAL,
			       "AF_XDP on %s: %u frames of %u bytes is not 1 frame to 1 GiB",
			       o->ifname, o->frame_count, o->frame_bytes);
	if (o->batch == 0 || o->batch > CB_XSK_MAX_BATCH)
		return cb_fail(e, EINVAL, "AF_XDP on %s: batch %u is not 1..%u", o->ifname,
			       o->batch, CB_XSK_MAX_BATCH);
	return 0;
}

static void kick_fill(struct cb_xsk *s)
{
	/* Only drivers in zero-copy mode ask for this; copy mode never sets the flag. */
	if (xsk_ring_prod__needs_wakeup(&s->impl->fill)) {
		recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		s->calls.syscalls++;
	}
}

/* Moves spare frame addresses onto the fill ring, as many as fit. */
static void refill(struct cb_xsk *s)
{
	struct cb_xsk_impl *im = s->impl;
	uint32_t idx;

	if (im->nspare == 0)
		return;
	uint32_t n = xsk_prod_nb_free(&im->fill, im->nspare);
	if (n > im->nspare)
		n = im->nspare;
	if (n == 0 || xsk_ring_prod__reserve(&im->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&im->fill, idx + i) = im->spare[--im->nspare];
	xsk_ring_prod__submit(&im->fill, n);
}

static int create_socket(struct cb_xsk *s, const struct cb_xsk_options *o, struct cb_error *e)
{
	struct cb_xsk_impl *im = s->impl;
	struct xsk_socket_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.rx_size = o->ring_size;
	cfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	cfg.xdp_flags = XDP_FLAGS_DRV_MODE;
	cfg.bind_flags = (o->zero_copy ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP;
	/*
	 * The kernel lets go of a closed socket's queue in a work item after close() returns, so a
	 * socket opened right after another on the same queue (the next trial) can get EBUSY for a
	 * few milliseconds. A queue still busy after BUSY_RETRY_MS is bound by someone else.
	 */
	uint64_t give_up = cb_now_ns() + BUSY_RETRY_MS * 1000000ull;
	int rc;
	for (;;) {
		rc = xsk_socket__create(&im->xsk, o->ifname, o->queue, im->umem, &im->rx, NULL,
					&cfg);
		if (rc != -EBUSY || cb_now_ns() >= give_up)
			break;
		struct timespec pause = { .tv_sec = 0, .tv_nsec = 2000000 };
		nanosleep(&pause, NULL);
	}
	if (rc == 0) {
		s->fd = xsk_socket__fd(im->xsk);
		return 0;
	}
	im->xsk = NULL;
	if (rc == -EBUSY)
		return cb_fail(e, EBUSY,
			       "bind AF_XDP socket to %s queue %u: the queue stayed in use "
			       "for %u ms (another AF_XDP socket is bound to it)",
			       o->ifname, o->queue, BUSY_RETRY_MS);
	if (o->zero_copy && (-rc == EOPNOTSUPP || -rc == EPROTONOSUPPORT)) {
		char drv[40];
		driver_name(o->ifname, drv, sizeof(drv));
		return cb_fail(e, -rc,
			       "bind AF_XDP socket to %s queue %u with XDP_ZEROCOPY: "
			       "zero-copy AF_XDP is not supported by %s",
			       o->ifname, o->queue, drv);
	}
	return cb_fail(e, -rc, "create AF_XDP socket on %s queue %u (%s mode, %u-entry rx ring)",
		       o->ifname, o->queue, o->zero_copy ? "zero-copy" : "copy", o->ring_size);
}

static int create_umem(struct cb_xsk *s, const struct cb_xsk_options *o, struct cb_error *e)
{
	struct cb_xsk_impl *im = s->impl;
	struct xsk_umem_config cfg;

	s->umem_len = (size_t)o->frame_count * o->frame_bytes;
	void *area =
		mmap(NULL, s->umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return cb_fail(e, errno, "map %zu bytes of UMEM for %s", s->umem_len, o->ifname);
	s->umem = area;
	/*
	 * The kernel pins the UMEM for as long as the socket lives, and fork() must copy pinned
	 * pages for the child instead of sharing them: every `ip` capbench runs while a socket is
	 * open would copy the whole UMEM (a gigabyte in drain mode). No child needs it.
	 */
	if (madvise(area, s->umem_len, MADV_DONTFORK) != 0)
		return cb_fail(e, errno, "keep the UMEM for %s out of child processes (madvise)",
			       o->ifname);
	im->spare = malloc((size_t)o->frame_count * sizeof(uint64_t));
	if (!im->spare)
		return cb_fail(e, ENOMEM, "allocate the frame list for %s", o->ifname);
	/* Highest address first, so the fill ring hands out the UMEM from its start. */
	for (uint32_t i = 0; i < o->frame_count; i++)
		im->spare[i] = (uint64_t)(o->frame_count - 1 - i) * o->frame_bytes;
	im->nspare = o->frame_count;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fill_size = o->ring_size;
	cfg.comp_size = COMP_RING_SIZE;
	cfg.frame_size = o->frame_bytes;
	cfg.frame_headroom = 0;
	int rc = xsk_umem__create(&im->umem, area, s->umem_len, &im->fill, &im->comp, &cfg);
	if (rc < 0) {
		im->umem = NULL;
		return cb_fail(e, -rc, "register %zu bytes of UMEM (%u frames of %u bytes) for %s",
			       s->umem_len, o->frame_count, o->frame_bytes, o->ifname);
	}
	return 0;
}

int cb_xsk_open(struct cb_xsk *s, const struct cb_xsk_options *o, struct cb_error *e)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (check_options(o, e) < 0)
		return -1;
	memcpy(s->ifname, o->ifname, strlen(o->ifname) + 1);
	s->queue = o->queue;
	s->frame_bytes = o->frame_bytes;
	s->batch = o->batch;
	s->zero_copy = o->zero_copy;
	errno = 0;
	s->ifindex = (int)if_nametoindex(o->ifname);
	if (s->ifindex == 0)
		return cb_fail(e, errno ? errno : ENODEV, "find interface %s", o->ifname);
	uint32_t queues = rx_queue_count(o->ifname);
	if (queues > 0 && o->queue >= queues)
		return cb_fail(e, EINVAL,
			       "bind AF_XDP socket to %s queue %u: %s has %u receive "
			       "queue%s",
			       o->ifname, o->queue, o->ifname, queues,
			       queues == 1 ? " (queue 0 only)" : "s");
	if (queues <= o->queue)
		queues = o->queue + 1;
	cb_xdp_quiet_libraries();
	s->impl = calloc(1, sizeof(*s->impl));
	if (!s->impl)
		return cb_fail(e, ENOMEM, "allocate AF_XDP state for %s", o->ifname);
	if (create_umem(s, o, e) < 0 || create_socket(s, o, e) < 0 ||
	    cb_xskmap_join(s, queues, e) < 0)
		goto fail;
	refill(s);
	kick_fill(s);
	s->last_prod = __atomic_load_n(s->impl->rx.producer, __ATOMIC_ACQUIRE);
	return 0;
fail:
	cb_xsk_close(s);
	cb_xsk_free_umem(s->umem, s->umem_len);
	s->umem = NULL;
	return -1;
}

void cb_xsk_close(struct cb_xsk *s)
{
	struct cb_xsk_impl *im = s->impl;

	s->fd = -1;
	s->held = 0;
	if (!im)
		return;
	cb_xskmap_leave(s); /* out of the map, socket deleted, program let go */
	if (im->umem)
		xsk_umem__delete(im->umem);
	free(im->spare);
	free(im);
	s->impl = NULL;
}

/* ---- receiving --------------------------------------------------------------------------- */

static uint64_t chunk_of(const struct cb_xsk *s, uint64_t addr)
{
	return xsk_umem__extract_addr(addr) & ~(uint64_t)(s->frame_bytes - 1);
}

/* Puts the frames of the last peek back on the fill ring and releases their rx entries. */
static void release_held(struct cb_xsk *s)
{
	struct cb_xsk_impl *im = s->impl;
	uint32_t n = s->held, idx;

	if (!im || n == 0)
		return;
	/* Addresses are read before the rx entries are released: after that the kernel may reuse them. */
	if (xsk_ring_prod__reserve(&im->fill, n, &idx) == n) {
		for (uint32_t i = 0; i < n; i++)
			*xsk_ring_prod__fill_addr(&im->fill, idx + i) =
				chunk_of(s, xsk_ring_cons__rx_desc(&im->rx, s->held_idx + i)->addr);
		xsk_ring_prod__submit(&im->fill, n);
	} else {
		for (uint32_t i = 0; i < n; i++)
			im->spare[im->nspare++] =
				chunk_of(s, xsk_ring_cons__rx_desc(&im->rx, s->held_idx + i)->addr);
	}
	xsk_ring_cons__release(&im->rx, n);
	s->held = 0;
	refill(s);
	kick_fill(s);
}

/* What the one wait (cb_wait_readable) names in its errors. */
#define KIND "AF_XDP socket"

int cb_xsk_receive(struct cb_xsk *s, uint32_t *table, uint32_t max_frames, int timeout_ms,
		   struct cb_error *e)
{
	struct cb_xsk_impl *im = s->impl;
	uint32_t idx = 0;

	release_held(s);
	if (max_frames > s->batch)
		max_frames = s->batch;
	uint32_t n = xsk_ring_cons__peek(&im->rx, max_frames, &idx);
	if (n == 0) {
		kick_fill(s);
		int w = cb_wait_readable(s->fd, timeout_ms, KIND, s->ifname, &s->calls, e);
		if (w <= 0)
			return w;
		n = xsk_ring_cons__peek(&im->rx, max_frames, &idx);
		if (n == 0)
			return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&im->rx, idx + i);
		uint32_t at = (uint32_t)xsk_umem__add_offset_to_addr(d->addr);

		/* JS reads bytes 12-13 right after this call: have the line on its way now. */
		__builtin_prefetch(s->umem + at + 12);
		table[2 * i] = at;
		table[2 * i + 1] = d->len;
	}
	s->held = n;
	s->held_idx = idx;
	return (int)n;
}

/*
 * The native tier's batch, in one pass as bench/ref/af-xdp.c does it: each frame is counted and
 * its chunk goes straight back on the fill ring, then the rx entries are released together. The
 * UMEM is in aligned mode, so a descriptor's address has no offset bits to extract. The loop is
 * bound by loading each frame's line; a short body lets more of those loads be in flight.
 */
static uint64_t count_and_refill(struct cb_xsk *s, uint32_t idx, uint32_t n)
{
	struct cb_xsk_impl *im = s->impl;
	const uint8_t *umem = s->umem;
	const uint64_t chunk_mask = ~(uint64_t)(s->frame_bytes - 1);
	uint64_t ipv4 = 0;
	uint32_t fidx;

	if (xsk_ring_prod__reserve(&im->fill, n, &fidx) != n) {
		/* No room on the fill ring: count, and let release_held park the chunks. */
		for (uint32_t i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&im->rx, idx + i);

			ipv4 += (uint64_t)cb_do_something(umem + d->addr, d->len);
		}
		s->held = n;
		s->held_idx = idx;
		release_held(s);
		return ipv4;
	}
	/* In locals: otherwise the compiler reloads them after every fill-ring store. */
	const struct xdp_desc *rx = im->rx.ring;
	const uint32_t rx_mask = im->rx.mask, fill_mask = im->fill.mask;
	uint64_t *fill = im->fill.ring;

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = &rx[(idx + i) & rx_mask];
		uint64_t addr = d->addr;

		ipv4 += (uint64_t)cb_do_something(umem + addr, d->len);
		fill[(fidx + i) & fill_mask] = addr & chunk_mask;
	}
	xsk_ring_prod__submit(&im->fill, n);
	xsk_ring_cons__release(&im->rx, n);
	refill(s);
	kick_fill(s);
	return ipv4;
}

/* The native step: a peek of up to want frames, counted, their chunks back on the fill ring. */
static int take(void *self, uint32_t want, struct cb_count *out, struct cb_error *e)
{
	struct cb_xsk *s = self;
	uint32_t idx = 0, n = xsk_ring_cons__peek(&s->impl->rx, want, &idx);

	(void)e;
	if (n > 0) {
		out->ipv4 += count_and_refill(s, idx, n);
		out->received += n;
	}
	return (int)n;
}

/* Before the loop sleeps: a fill ring the kernel was never woken to see stays empty. */
static void before_wait(void *self)
{
	kick_fill(self);
}

static const struct cb_step STEP = {
	.take = take,
	.before_wait = before_wait,
	.kind = KIND,
	.frames_per_clock = CB_FRAMES_PER_CLOCK_RING,
};

int cb_xsk_consume(struct cb_xsk *s, const struct cb_slice *slice, struct cb_count *out,
		   struct cb_error *e)
{
	release_held(s);
	return cb_slice_loop(&STEP, s, (struct cb_waitable){ s->fd, s->ifname, &s->calls },
			     s->batch, slice, out, e);
}

/* ---- statistics -------------------------------------------------------------------------- */

int cb_xsk_read_stats(struct cb_xsk *s, struct cb_xsk_stats *st, struct cb_error *e)
{
	struct xdp_statistics x;
	socklen_t len = sizeof(x);

	memset(&x, 0, sizeof(x)); /* kernels before 5.9 fill in only the first three fields */
	if (getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &x, &len) != 0)
		return cb_fail(e, errno,
			       "getsockopt XDP_STATISTICS on AF_XDP socket for %s queue %u",
			       s->ifname, s->queue);
	st->rx_dropped = x.rx_dropped;
	st->rx_invalid = x.rx_invalid_descs;
	st->rx_ring_full = x.rx_ring_full;
	st->fill_ring_empty = x.rx_fill_ring_empty_descs;
	return 0;
}

uint64_t cb_xsk_produced(struct cb_xsk *s)
{
	if (s->impl) {
		/* The ring's producer index counts every descriptor the kernel has written, mod 2^32. */
		uint32_t p = __atomic_load_n(s->impl->rx.producer, __ATOMIC_ACQUIRE);
		s->produced += (uint32_t)(p - s->last_prod);
		s->last_prod = p;
	}
	return s->produced;
}

#endif /* CB_HAVE_LIBXDP */
