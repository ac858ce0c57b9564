/*
 * The send benchmark's sink (see sink.h for the life cycle): the receiving objects, the thread
 * that reads them, and the public API.
 *
 * Counting rule: only the sink thread receives and counts, and it publishes its totals after
 * every receive, so a status() taken at any moment shows what has been read so far and the
 * status after stop() is exact.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "sink.h"
#include "counter.h"
#include "monotonic.h"
#include "../af-packet/packet_mmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

/* The longest a wait lasts, so that a stop request is seen within it without spinning. */
#define WAIT_MS 20
#define UDP_BATCH 64u
/* Room for the largest UDP datagram, so no datagram is cut short in the copy. */
#define UDP_SLOT_BYTES 65536u
#define TCP_READ_BYTES (1u << 20)
/*
 * stop()'s last pass reads what is readable when it begins; this bounds it against a sender
 * that is still sending faster than the sink reads, which would otherwise keep it going.
 */
#define FINAL_PASS_MAX_NS 1000000000ull

/*
 * What a take returns: -1 (e set), TAKE_NONE (nothing ready), TAKE_DATA, TAKE_EMPTY (the ring
 * handed over a block with no frames: look again at once), TAKE_EOF (the TCP peer has shut down
 * and everything is read).
 */
enum { TAKE_NONE = 0, TAKE_DATA = 1, TAKE_EMPTY = 2, TAKE_EOF = 3 };

struct cb_sink {
	/* Set at open, read-only afterwards (the thread reads them without locking). */
	enum cb_sink_kind kind;
	char where[96]; /* "UDP socket on 198.18.0.1:9000", "PACKET_RX_RING on veth0": errors */
	int cpu;
	uint16_t port;
	int fd; /* udp: the socket; tcp: the listener; frames: -1 (the ring has its own) */
	struct cb_pmmap ring;
	uint8_t *buf; /* udp: UDP_BATCH slots; tcp: one read's worth */
	struct iovec *iov;
	struct mmsghdr *hdrs;

	/* The sink thread's own; the controller touches them only after joining. */
	int conn; /* tcp: the accepted connection, -1 before */

	/* Controller-side state, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	clockid_t cpu_clock; /* the thread's CPU clock, valid until it is joined */
	bool started;
	bool joined;
	bool closed;
	bool setup_done;
	bool setup_failed;
	struct cb_error setup_err;
	bool has_run_err;
	struct cb_error run_err;

	/*
	 * PACKET_STATISTICS zeroes the kernel's counters on every read: reads are serialised here
	 * and accumulated in the ring (cb_pmmap_stats), so no drop is ever read twice or lost.
	 * drops is the last value read, what status() reports once the descriptors are closed.
	 */
	pthread_mutex_t stats_lock;
	uint64_t drops;

	/* Shared with the running thread without locking; only the thread writes the counts. */
	atomic_bool stop_req;
	atomic_bool running;
	atomic_bool eof;
	atomic_uint_fast64_t units;
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t ipv4;
	atomic_uint_fast64_t read_ns;
	atomic_uint_fast64_t last_ns;
	atomic_uint_fast64_t cpu0;   /* the thread's CPU clock when it began */
	atomic_uint_fast64_t cpu_ns; /* its CPU time from then to its end, stored before running */
};

/* The thread's running totals, published to the atomics after each take. */
struct tally {
	uint64_t units;
	uint64_t bytes;
	uint64_t ipv4;
};

/* ---- receiving objects ------------------------------------------------------------------- */

static int parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

static uint16_t bound_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* "UDP socket on 198.18.0.1:9000", "TCP socket on [::1]:9000": what errors name. */
static void set_where(struct cb_sink *s, const char *what, const char *addr, int family,
		      uint16_t port)
{
	snprintf(s->where, sizeof(s->where),
		 family == AF_INET6 ? "%s socket on [%s]:%u" : "%s socket on %s:%u", what, addr,
		 (unsigned)port);
}

/*
 * A socket bound to o->addr:o->port with the receive buffer o->buffer_bytes, its port read back
 * into s->port. FORCE goes past rmem_max, which is read-only on this machine; without
 * CAP_NET_ADMIN take what rmem_max allows.
 */
static int open_socket(struct cb_sink *s, const struct cb_sink_options *o, int type,
		       const char *what, struct cb_error *e)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int rcvbuf = (int)o->buffer_bytes, one = 1;

	if (parse_addr(o->addr, o->port, &ss, &len) < 0)
		return cb_fail(e, EINVAL, "sink: '%s' is not a numeric IPv4 or IPv6 address",
			       o->addr);
	set_where(s, what, o->addr, ss.ss_family, o->port);
	s->fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return cb_fail(e, errno, "create %s", s->where);
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    (errno != EPERM ||
	     setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0))
		return cb_fail(e, errno, "set SO_RCVBUFFORCE %d on %s", rcvbuf, s->where);
	/* A fixed port must be usable again while the previous run's connection is in TIME_WAIT. */
	if (type == SOCK_STREAM &&
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return cb_fail(e, errno, "set SO_REUSEADDR on %s", s->where);
	if (bind(s->fd, (struct sockaddr *)&ss, len) < 0)
		return cb_fail(e, errno, "bind %s", s->where);
	/* Backlog 1: the sink takes exactly one connection. */
	if (type == SOCK_STREAM && listen(s->fd, 1) < 0)
		return cb_fail(e, errno, "listen on %s", s->where);
	len = sizeof(ss);
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0)
		return cb_fail(e, errno, "read back the port of %s", s->where);
	s->port = bound_port(&ss);
	/* Later errors name the port the kernel picked, the one the sender was told. */
	set_where(s, what, o->addr, ss.ss_family, s->port);
	return 0;
}

static int open_frames(struct cb_sink *s, const struct cb_sink_options *o, struct cb_error *e)
{
	struct cb_pmmap_options po;
	uint32_t blocks = (uint32_t)(((uint64_t)o->buffer_bytes + CB_SINK_BLOCK_BYTES - 1) /
				     CB_SINK_BLOCK_BYTES);

	memset(&po, 0, sizeof(po));
	po.ifname = o->ifname;
	po.block_bytes = CB_SINK_BLOCK_BYTES;
	po.block_count = blocks;
	po.retire_ms = 1;
	snprintf(s->where, sizeof(s->where), "PACKET_RX_RING on %s", o->ifname);
	return cb_pmmap_open(&s->ring, &po, e);
}

static int open_udp(struct cb_sink *s, const struct cb_sink_options *o, struct cb_error *e)
{
	if (open_socket(s, o, SOCK_DGRAM, "UDP", e) < 0)
		return -1;
	s->buf = malloc((size_t)UDP_BATCH * UDP_SLOT_BYTES);
	s->iov = calloc(UDP_BATCH, sizeof(*s->iov));
	s->hdrs = calloc(UDP_BATCH, sizeof(*s->hdrs));
	if (!s->buf || !s->iov || !s->hdrs)
		return cb_fail(e, ENOMEM, "allocate %u receive buffers of %u bytes for %s",
			       UDP_BATCH, UDP_SLOT_BYTES, s->where);
	for (uint32_t i = 0; i < UDP_BATCH; i++) {
		s->iov[i].iov_base = s->buf + (size_t)i * UDP_SLOT_BYTES;
		s->iov[i].iov_len = UDP_SLOT_BYTES;
		s->hdrs[i].msg_hdr.msg_iov = &s->iov[i];
		s->hdrs[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

static int open_tcp(struct cb_sink *s, const struct cb_sink_options *o, struct cb_error *e)
{
	if (open_socket(s, o, SOCK_STREAM, "TCP", e) < 0)
		return -1;
	s->buf = malloc(TCP_READ_BYTES);
	if (!s->buf)
		return cb_fail(e, ENOMEM, "allocate a %u-byte read buffer for %s", TCP_READ_BYTES,
			       s->where);
	return 0;
}

static void close_all(struct cb_sink *s)
{
	cb_pmmap_close(&s->ring);
	if (s->conn >= 0)
		close(s->conn);
	s->conn = -1;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	free(s->iov);
	free(s->hdrs);
	s->buf = NULL;
	s->iov = NULL;
	s->hdrs = NULL;
}

/* ---- takes: receive what is ready without waiting, count it ------------------------------ */

/*
 * Walks one block the ring handed over. The kernel wrote it, but every header and frame is
 * checked to lie inside the block, so the walk never reads outside the ring. The same counter
 * and VLAN rule as the packet-mmap method's native tier (packet_mmap.c, count_block): a frame
 * whose tag the kernel stripped had the TPID at bytes 12-13 on the wire, never IPv4.
 */
static int count_block(struct cb_sink *s, size_t block_off, struct tally *t, struct cb_error *e)
{
	const struct cb_pmmap *r = &s->ring;
	const uint8_t *block = r->map + block_off;
	const struct tpacket_block_desc *b = (const struct tpacket_block_desc *)block;
	uint32_t n = b->hdr.bh1.num_pkts, off = b->hdr.bh1.offset_to_first_pkt;
	uint64_t ipv4 = 0, bytes = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct tpacket3_hdr *h;

		if ((uint64_t)off + sizeof(*h) > r->block_bytes)
			return cb_fail(e, EPROTO, "%s: frame header at %u is outside block %zu",
				       s->where, off, block_off / r->block_bytes);
		h = (const struct tpacket3_hdr *)(block + off);
		if (h->tp_mac < sizeof(*h) ||
		    (uint64_t)off + h->tp_mac + h->tp_snaplen > r->block_bytes)
			return cb_fail(e, EPROTO,
				       "%s: frame at %u+%u (%u bytes) is outside block %zu",
				       s->where, off, h->tp_mac, h->tp_snaplen,
				       block_off / r->block_bytes);
		if (!(h->tp_status & TP_STATUS_VLAN_VALID))
			ipv4 += (uint64_t)cb_do_something(block + off + h->tp_mac, h->tp_snaplen);
		bytes += h->tp_len;
		off += h->tp_next_offset;
	}
	t->units += n;
	t->bytes += bytes;
	t->ipv4 += ipv4;
	return n > 0 ? TAKE_DATA : TAKE_EMPTY;
}

/*
 * One ring block, if the kernel has retired one. The block is walked here rather than through
 * cb_pmmap_consume, which counts frames but not their bytes. cb_pmmap_next_block gives the
 * previous block back first, and polls with timeout 0 only when none is ready.
 */
static int take_frames(struct cb_sink *s, struct tally *t, struct cb_error *e)
{
	size_t off;
	int rc = cb_pmmap_next_block(&s->ring, 0, &off, e);

	if (rc <= 0)
		return rc;
	return count_block(s, off, t, e);
}

/* One recvmmsg batch. MSG_TRUNC: msg_len is the datagram's true length, whatever was copied. */
static int take_udp(struct cb_sink *s, struct tally *t, struct cb_error *e)
{
	int n = recvmmsg(s->fd, s->hdrs, UDP_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return TAKE_NONE;
		return cb_fail(e, errno, "recvmmsg on %s", s->where);
	}
	for (int i = 0; i < n; i++)
		t->bytes += s->hdrs[i].msg_len;
	t->units += (uint64_t)n;
	t->ipv4 += (uint64_t)n;
	return n > 0 ? TAKE_DATA : TAKE_NONE;
}

/* The one connection, once the peer has made it, then one read of up to TCP_READ_BYTES. */
static int take_tcp(struct cb_sink *s, struct tally *t, struct cb_error *e)
{
	if (s->conn < 0) {
		s->conn = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s->conn < 0) {
			/* ECONNABORTED: a peer gave up before we took it; wait for the next. */
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return TAKE_NONE;
			return cb_fail(e, errno, "accept a connection on %s", s->where);
		}
	}
	ssize_t n = recv(s->conn, s->buf, TCP_READ_BYTES, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return TAKE_NONE;
		return cb_fail(e, errno, "read the connection accepted on %s", s->where);
	}
	if (n == 0)
		return TAKE_EOF;
	t->units++;
	t->bytes += (uint64_t)n;
	return TAKE_DATA;
}

static int take(struct cb_sink *s, struct tally *t, struct cb_error *e)
{
	switch (s->kind) {
	case CB_SINK_FRAMES:
		return take_frames(s, t, e);
	case CB_SINK_UDP:
		return take_udp(s, t, e);
	default:
		return take_tcp(s, t, e);
	}
}

/*
 * Waits up to ms for something to read. A socket's error or hang-up is left to the next take to
 * report (recv returns it); the ring has no receive call to do that, so its error is read here,
 * or every later poll would return at once and the thread would spin.
 */
static int wait_readable(struct cb_sink *s, int ms, struct cb_error *e)
{
	struct pollfd p = { .events = POLLIN };

	if (s->kind == CB_SINK_FRAMES)
		p.fd = s->ring.fd;
	else
		p.fd = s->kind == CB_SINK_TCP && s->conn >= 0 ? s->conn : s->fd;
	int rc = poll(&p, 1, ms);
	if (rc < 0 && errno != EINTR)
		return cb_fail(e, errno, "poll %s for %d ms", s->where, ms);
	if (rc <= 0 || (p.revents & POLLIN))
		return 0;
	if (p.revents & POLLNVAL)
		return cb_fail(e, EBADF, "poll %s: the descriptor is closed", s->where);
	if (s->kind == CB_SINK_FRAMES) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		/* ENETDOWN when the interface goes down or away under the ring. */
		return cb_fail(e, err ? err : EPIPE, "%s", s->where);
	}
	return 0;
}

/* ---- thread ------------------------------------------------------------------------------ */

/* CLOCK_THREAD_CPUTIME_ID cannot fail for the calling thread; 0 if it somehow does. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * One take, timed (read_ns is the time in takes, never in waits) and published. The clock is
 * read around each take: beside a system call or a block's walk it costs nothing, and the read
 * after a take that brought data is that data's arrival time as the sink saw it.
 */
static int timed_take(struct cb_sink *s, struct tally *t, uint64_t *read_ns, struct cb_error *e)
{
	uint64_t t0 = cb_now_ns();
	int rc = take(s, t, e);
	uint64_t t1 = cb_now_ns();

	*read_ns += t1 - t0;
	atomic_store_explicit(&s->read_ns, *read_ns, memory_order_relaxed);
	if (rc == TAKE_DATA) {
		atomic_store_explicit(&s->units, t->units, memory_order_relaxed);
		atomic_store_explicit(&s->bytes, t->bytes, memory_order_relaxed);
		atomic_store_explicit(&s->ipv4, t->ipv4, memory_order_relaxed);
		atomic_store_explicit(&s->last_ns, t1, memory_order_relaxed);
	}
	return rc;
}

/* Frames the kernel has put in the block it is filling, which it has not handed over yet. */
static int ring_filling(const struct cb_sink *s)
{
	const struct cb_pmmap *r = &s->ring;
	const struct tpacket_block_desc *b =
		(const struct tpacket_block_desc *)(r->map + (size_t)r->index * r->block_bytes);

	/* Read while the kernel owns the block: only whether it is 0 matters. */
	return __atomic_load_n(&b->hdr.bh1.num_pkts, __ATOMIC_RELAXED) != 0;
}

/*
 * stop()'s last pass: everything readable now, without waiting, except for frames the ring's
 * current block already holds: the kernel hands that block over within its 1 ms retire timeout,
 * and a sink that must count every frame waits that long for them.
 */
static int final_pass(struct cb_sink *s, struct tally *t, uint64_t *read_ns, struct cb_error *e)
{
	const uint64_t deadline = cb_now_ns() + FINAL_PASS_MAX_NS;

	for (;;) {
		int rc = timed_take(s, t, read_ns, e);

		if (rc < 0 || rc == TAKE_EOF)
			return rc;
		uint64_t now = cb_now_ns();
		if (now >= deadline)
			return 0;
		if (rc != TAKE_NONE)
			continue;
		if (s->kind != CB_SINK_FRAMES || !ring_filling(s))
			return 0;
		int ms = cb_ms_left(now, deadline);
		if (wait_readable(s, ms < WAIT_MS ? ms : WAIT_MS, e) < 0)
			return -1;
	}
}

static int run(struct cb_sink *s, struct cb_error *e)
{
	struct tally t = { 0, 0, 0 };
	uint64_t read_ns = 0;
	int rc = 0;

	while (!atomic_load_explicit(&s->stop_req, memory_order_relaxed)) {
		rc = timed_take(s, &t, &read_ns, e);
		if (rc < 0 || rc == TAKE_EOF)
			break;
		if (rc == TAKE_NONE && wait_readable(s, WAIT_MS, e) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc >= 0 && rc != TAKE_EOF)
		rc = final_pass(s, &t, &read_ns, e);
	if (rc == TAKE_EOF) {
		atomic_store_explicit(&s->eof, true, memory_order_relaxed);
		rc = 0;
	}
	return rc;
}

/* Pins to s->cpu (or leaves the inherited affinity) and takes a name cpu_placement leaves alone. */
static int setup(struct cb_sink *s, struct cb_error *e)
{
	cpu_set_t set;
	int err;

	pthread_setname_np(pthread_self(), "cb-sink");
	if (s->cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		return cb_fail(e, err, "pin the sink thread to CPU %d", s->cpu);
	return 0;
}

static void *sink_thread(void *arg)
{
	struct cb_sink *s = arg;
	struct cb_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = setup(s, &err);
	if (rc == 0) {
		atomic_store_explicit(&s->cpu0, thread_cpu_ns(), memory_order_relaxed);
		atomic_store_explicit(&s->running, true, memory_order_release);
	}
	pthread_mutex_lock(&s->lock);
	if (rc < 0) {
		s->setup_err = err;
		s->setup_failed = true;
	}
	s->setup_done = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		return NULL;

	rc = run(s, &err);
	atomic_store_explicit(&s->cpu_ns, thread_cpu_ns() - atomic_load(&s->cpu0),
			      memory_order_relaxed);
	if (rc < 0) {
		pthread_mutex_lock(&s->lock);
		s->run_err = err;
		s->has_run_err = true;
		pthread_mutex_unlock(&s->lock);
	}
	/* Release: whoever sees running false sees the final counts and CPU time. */
	atomic_store_explicit(&s->running, false, memory_order_release);
	return NULL;
}

/* ---- public API -------------------------------------------------------------------------- */

static int check_options(const struct cb_sink_options *o, struct cb_error *e)
{
	if (o->kind != CB_SINK_FRAMES && o->kind != CB_SINK_UDP && o->kind != CB_SINK_TCP)
		return cb_fail(e, EINVAL, "sink: unknown kind %d", (int)o->kind);
	if (o->kind == CB_SINK_FRAMES &&
	    (!o->ifname || !o->ifname[0] || strlen(o->ifname) >= IF_NAMESIZE))
		return cb_fail(e, EINVAL, "sink: interface name '%s' must be 1 to %d characters",
			       o->ifname ? o->ifname : "", IF_NAMESIZE - 1);
	if (o->kind != CB_SINK_FRAMES && !o->addr)
		return cb_fail(e, EINVAL, "sink: a udp or tcp sink needs an address");
	if (o->buffer_bytes < 1 || o->buffer_bytes > CB_SINK_MAX_BUFFER_BYTES)
		return cb_fail(e, EINVAL, "sink: buffer of %u bytes is not in 1..%u",
			       o->buffer_bytes, CB_SINK_MAX_BUFFER_BYTES);
	if (o->cpu < -1 || o->cpu >= CPU_SETSIZE)
		return cb_fail(e, EINVAL, "sink: cpu %d is not -1 or a CPU number", o->cpu);
	return 0;
}

struct cb_sink *cb_sink_open(const struct cb_sink_options *o, struct cb_error *e)
{
	struct cb_sink *s;
	int rc;

	if (check_options(o, e) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		cb_fail(e, ENOMEM, "sink: allocate state");
		return NULL;
	}
	s->kind = o->kind;
	s->cpu = o->cpu;
	s->fd = -1;
	s->conn = -1;
	s->ring.fd = -1;
	if (o->kind == CB_SINK_FRAMES)
		rc = open_frames(s, o, e);
	else if (o->kind == CB_SINK_UDP)
		rc = open_udp(s, o, e);
	else
		rc = open_tcp(s, o, e);
	if (rc < 0) {
		close_all(s);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_mutex_init(&s->stats_lock, NULL);
	atomic_init(&s->stop_req, false);
	atomic_init(&s->running, false);
	atomic_init(&s->eof, false);
	atomic_init(&s->units, 0);
	atomic_init(&s->bytes, 0);
	atomic_init(&s->ipv4, 0);
	atomic_init(&s->read_ns, 0);
	atomic_init(&s->last_ns, 0);
	atomic_init(&s->cpu0, 0);
	atomic_init(&s->cpu_ns, 0);
	return s;
}

uint16_t cb_sink_port(const struct cb_sink *s)
{
	return s->port;
}

int cb_sink_start(struct cb_sink *s, struct cb_error *e)
{
	sigset_t all, old;
	int err;

	pthread_mutex_lock(&s->lock);
	if (s->started) {
		pthread_mutex_unlock(&s->lock);
		return cb_fail(e, EALREADY, "sink: start() may only be called once");
	}
	if (s->closed || atomic_load(&s->stop_req)) {
		pthread_mutex_unlock(&s->lock);
		return cb_fail(e, EINVAL, "sink: already stopped or closed; open a new one");
	}
	s->started = true;
	pthread_mutex_unlock(&s->lock);

	/* The thread inherits our signal mask: block everything while creating it, so that signals
	 * keep going to Node's threads and never interrupt the sink's reads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&s->thread, NULL, sink_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		s->joined = true; /* nothing to join */
		return cb_fail(e, err, "sink: create thread");
	}
	/* Taken before the thread can end: its clock id is valid only until it is joined. */
	err = pthread_getcpuclockid(s->thread, &s->cpu_clock);

	pthread_mutex_lock(&s->lock);
	while (!s->setup_done)
		pthread_cond_wait(&s->cond, &s->lock);
	if (s->setup_failed || err) {
		if (s->setup_failed)
			*e = s->setup_err;
		else
			cb_fail(e, err, "sink: get the thread's CPU clock");
		pthread_mutex_unlock(&s->lock);
		atomic_store(&s->stop_req, true);
		pthread_join(s->thread, NULL);
		s->joined = true;
		atomic_store(&s->running, false);
		return -1;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Drops as the kernel counts them now; the last value read once the descriptors are closed. */
static uint64_t read_drops(struct cb_sink *s)
{
	uint64_t drops;

	pthread_mutex_lock(&s->stats_lock);
	if (s->kind == CB_SINK_FRAMES && s->ring.fd >= 0) {
		uint64_t packets, freezes;
		struct cb_error ignored;

		if (cb_pmmap_stats(&s->ring, &packets, &drops, &freezes, &ignored) == 0)
			s->drops = drops;
	} else if (s->kind == CB_SINK_UDP && s->fd >= 0) {
		uint32_t mem[SK_MEMINFO_VARS];
		socklen_t len = sizeof(mem);

		memset(mem, 0, sizeof(mem));
		if (getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
		    len > SK_MEMINFO_DROPS * sizeof(mem[0]))
			s->drops = mem[SK_MEMINFO_DROPS];
	}
	drops = s->drops;
	pthread_mutex_unlock(&s->stats_lock);
	return drops;
}

static uint64_t cpu_ns(struct cb_sink *s, bool running)
{
	struct timespec ts;

	if (!running)
		return atomic_load_explicit(&s->cpu_ns, memory_order_relaxed);
	/*
	 * The thread's clock, read from here: the thread itself never pays a clock_gettime system
	 * call per loop for it. If the thread ended meanwhile, its clock may be gone or, in
	 * principle, another thread's; it stored its final figure before saying so.
	 */
	int rc = clock_gettime(s->cpu_clock, &ts);
	if (rc != 0 || !atomic_load_explicit(&s->running, memory_order_acquire))
		return atomic_load_explicit(&s->cpu_ns, memory_order_relaxed);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	uint64_t cpu0 = atomic_load_explicit(&s->cpu0, memory_order_relaxed);
	return now > cpu0 ? now - cpu0 : 0;
}

void cb_sink_status(struct cb_sink *s, struct cb_sink_status *st)
{
	/* running first, with acquire: if the thread has finished, the counts read after it are
	 * its final values. */
	bool running = atomic_load_explicit(&s->running, memory_order_acquire);

	memset(st, 0, sizeof(*st));
	st->running = running;
	st->units = atomic_load_explicit(&s->units, memory_order_relaxed);
	st->bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
	st->ipv4 = atomic_load_explicit(&s->ipv4, memory_order_relaxed);
	st->eof = atomic_load_explicit(&s->eof, memory_order_relaxed);
	st->read_ns = atomic_load_explicit(&s->read_ns, memory_order_relaxed);
	st->last_ns = atomic_load_explicit(&s->last_ns, memory_order_relaxed);
	st->cpu_ns = cpu_ns(s, running);
	st->drops = read_drops(s);
	pthread_mutex_lock(&s->lock);
	if (s->has_run_err) {
		st->has_error = true;
		st->error = s->run_err;
	}
	pthread_mutex_unlock(&s->lock);
}

void cb_sink_stop(struct cb_sink *s, struct cb_sink_status *st)
{
	atomic_store(&s->stop_req, true);
	if (s->started && !s->joined) {
		pthread_join(s->thread, NULL);
		s->joined = true;
	}
	if (st)
		cb_sink_status(s, st);
}

void cb_sink_close(struct cb_sink *s)
{
	if (s->closed)
		return;
	cb_sink_stop(s, NULL);
	/* The last drops, so status() after close still reports them. */
	read_drops(s);
	pthread_mutex_lock(&s->stats_lock);
	close_all(s);
	pthread_mutex_unlock(&s->stats_lock);
	s->closed = true;
}

void cb_sink_destroy(struct cb_sink *s)
{
	if (!s)
		return;
	cb_sink_close(s);
	pthread_mutex_destroy(&s->stats_lock);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
