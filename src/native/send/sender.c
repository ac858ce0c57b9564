/*
 * The sender (see sender.h): its socket's setup in the sender's namespace, its area, and the
 * calls both tiers make: send, sendmmsg, TX ring batches, waits for room, and the zero-copy
 * error queue.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "sender.h"
#include "monotonic.h"
#include "in_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* At least this many TX ring slots, and at least 4 batches, so filling a batch never waits on
 * the kernel releasing the slots of the previous one. */
#define RING_MIN_SLOTS 4096u
#define RING_BLOCK_BYTES (64u * 1024u)
/* Where a TPACKET_V2 TX slot's frame starts when PACKET_TX_HAS_OFF is off (the kernel's
 * tp_hdrlen - sizeof(struct sockaddr_ll)). */
#define TX_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
/* tcp: how long the connect may take. */
#define CONNECT_MS 5000
/* finish(): the longest single sleep while waiting for ring slots or completions. */
#define FINISH_POLL_MS 10

static const char *kind_name(enum cb_send_kind kind)
{
	return kind == CB_SEND_PACKET ? "packet" : kind == CB_SEND_UDP ? "udp" : "tcp";
}

/* ---- setup -------------------------------------------------------------------------------- */

static int check_options(const struct cb_sender_options *o, struct cb_error *e)
{
	const char *kind = kind_name(o->kind);
	size_t namelen = o->ifname ? strlen(o->ifname) : 0;

	if (o->kind != CB_SEND_PACKET && o->kind != CB_SEND_UDP && o->kind != CB_SEND_TCP)
		return cb_fail(e, EINVAL, "sender: unknown kind %d", (int)o->kind);
	if (namelen == 0 || namelen >= IFNAMSIZ)
		return cb_fail(e, EINVAL, "sender: interface name '%s' must be 1 to %d characters",
			       o->ifname ? o->ifname : "", IFNAMSIZ - 1);
	if (o->call != CB_CALL_SEND && o->call != CB_CALL_SENDMMSG && o->call != CB_CALL_TX_RING)
		return cb_fail(e, EINVAL, "sender: unknown call %d", (int)o->call);
	if (o->kind == CB_SEND_TCP && o->call != CB_CALL_SEND)
		return cb_fail(e, EINVAL, "sender: a tcp sender sends with send() only");
	if (o->call == CB_CALL_TX_RING && o->kind != CB_SEND_PACKET)
		return cb_fail(e, EINVAL, "sender: a TX ring is for packet senders only");
	if (o->batch == 0 || o->batch > CB_SEND_MAX_BATCH)
		return cb_fail(e, EINVAL, "sender: batch %u is not in 1..%u", o->batch,
			       CB_SEND_MAX_BATCH);
	if (!o->data || o->data_len == 0 || o->data_len > UINT32_MAX)
		return cb_fail(e, EINVAL, "sender: data must be 1 to %u bytes", UINT32_MAX);
	if (o->zerocopy && o->kind == CB_SEND_PACKET)
		/* The kernel would refuse SO_ZEROCOPY too: packet sockets have no MSG_ZEROCOPY. */
		return cb_fail(e, EOPNOTSUPP, "sender: zero-copy is for udp and tcp senders");
	if (o->gso_size > 0 && o->kind != CB_SEND_UDP)
		return cb_fail(e, EINVAL, "sender: gsoSize is for udp senders (this one is %s)",
			       kind);
	if (o->gso_size > 65535)
		return cb_fail(e, EINVAL, "sender: gsoSize %u is not in 0..65535", o->gso_size);
	if (o->qdisc_bypass && o->kind != CB_SEND_PACKET)
		return cb_fail(e, EINVAL,
			       "sender: qdiscBypass is for packet senders (this one is %s)", kind);
	if (o->call == CB_CALL_TX_RING &&
	    (o->max_frame_bytes < ETH_HLEN || o->max_frame_bytes > CB_SEND_MAX_FRAME))
		return cb_fail(e, EINVAL, "sender: maxFrameBytes %u is not in %d..%u",
			       o->max_frame_bytes, ETH_HLEN, CB_SEND_MAX_FRAME);
	if (o->kind != CB_SEND_PACKET && o->dst_port == 0)
		return cb_fail(e, EINVAL, "sender: dstPort must be 1 to 65535");
	return 0;
}

static int parse_ipv4(const char *text, uint16_t port, const char *what, struct sockaddr_in *sa,
		      struct cb_error *e)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (!text || inet_pton(AF_INET, text, &sa->sin_addr) != 1)
		return cb_fail(e, EINVAL, "sender: %s '%s' is not a dotted IPv4 address", what,
			       text ? text : "");
	return 0;
}

/*
 * The units' bytes, in an area of the sender's own that is never written after this: zero-copy
 * sends point into it, and JS buffers can move or be freed.
 */
static int map_area(struct cb_sender *s, const struct cb_sender_options *o, struct cb_error *e)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	s->area_len = o->data_len;
	s->area_map_len = (o->data_len + page - 1) & ~(page - 1);
	s->area = mmap(NULL, s->area_map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (s->area == MAP_FAILED) {
		s->area = NULL;
		return cb_fail(e, errno, "sender: map a %zu-byte data area", s->area_map_len);
	}
	/*
	 * capbench forks `ip` between windows. Without this a fork shares the area copy-on-write
	 * with the child, and the kernel copies into the child any page a zero-copy send has
	 * pinned at that moment (as it copied a whole AF_XDP UMEM: MACHINE-NOTES.md).
	 */
	if (madvise(s->area, s->area_map_len, MADV_DONTFORK) < 0)
		return cb_fail(e, errno, "sender: madvise(MADV_DONTFORK) on the data area");
	memcpy(s->area, o->data, o->data_len);
	return 0;
}

static int set_int(struct cb_sender *s, int level, int name, int val, const char *what,
		   struct cb_error *e)
{
	if (setsockopt(s->fd, level, name, &val, sizeof(val)) < 0)
		return cb_fail(e, errno, "set %s on the %s socket on %s", what, kind_name(s->kind),
			       s->ifname);
	return 0;
}

static int setup_ring(struct cb_sender *s, struct cb_error *e)
{
	struct cb_send_ring *r = &s->ring;
	struct tpacket_req req;
	long page = sysconf(_SC_PAGESIZE);
	uint32_t want_slots, nblocks;

	/*
	 * No PACKET_VNET_HDR: this is the plain TX ring a program like trafgen uses, which pays for
	 * veth un-sharing each slot's page fragment (skb_copy_ubufs). The generator's own ring sets
	 * it to avoid that copy (generator_tx_ring.c), which is not what is measured here.
	 */
	r->frame_size = (uint32_t)TPACKET_ALIGN(TX_DATA_OFF + s->max_frame_bytes);
	if (r->frame_size <= RING_BLOCK_BYTES)
		r->block_size = RING_BLOCK_BYTES;
	else
		r->block_size = (r->frame_size + (uint32_t)page - 1) & ~((uint32_t)page - 1);
	r->frames_per_block = r->block_size / r->frame_size;
	want_slots = 4 * s->batch > RING_MIN_SLOTS ? 4 * s->batch : RING_MIN_SLOTS;
	nblocks = (want_slots + r->frames_per_block - 1) / r->frames_per_block;
	r->nslots = nblocks * r->frames_per_block;

	if (set_int(s, SOL_PACKET, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION TPACKET_V2", e) < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = r->block_size;
	req.tp_block_nr = nblocks;
	req.tp_frame_size = r->frame_size;
	req.tp_frame_nr = r->nslots;
	if (setsockopt(s->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0)
		return cb_fail(
			e, errno,
			"set PACKET_TX_RING (%u blocks of %u bytes, %u slots of %u bytes) on %s",
			nblocks, r->block_size, r->nslots, r->frame_size, s->ifname);
	r->map_len = (size_t)nblocks * r->block_size;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return cb_fail(e, errno, "mmap the %zu-byte TX ring on %s", r->map_len, s->ifname);
	}
	/* Kernel pages: a child process must not get a mapping of them (see map_area). */
	if (madvise(r->map, r->map_len, MADV_DONTFORK) < 0)
		return cb_fail(e, errno, "madvise(MADV_DONTFORK) on the TX ring of %s", s->ifname);
	return 0;
}

static int open_packet(struct cb_sender *s, const struct cb_sender_options *o, struct cb_error *e)
{
	const char *in = o->netns_path ? " in netns " : "";
	const char *ns = o->netns_path ? o->netns_path : "";
	struct sockaddr_ll sll;
	struct ifreq ifr;

	/* Protocol 0: the socket is never hooked into the receive path, so it costs nothing per
	 * received frame and never sees its own traffic. */
	s->fd = cb_socket_in_netns(o->netns_path, AF_PACKET, SOCK_RAW, 0, e);
	if (s->fd < 0)
		return -1;
	/* Resolved through the socket itself, which lives in the sender's namespace: a lookup
	 * from this thread (if_nametoindex) would look in ours. */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, s->ifname, strlen(s->ifname));
	if (ioctl(s->fd, SIOCGIFINDEX, &ifr) < 0)
		return cb_fail(e, errno, "find interface %s%s%s", s->ifname, in, ns);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = 0;
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(s->fd, SIOCGIFFLAGS, &ifr) < 0)
		return cb_fail(e, errno, "get the flags of %s%s%s", s->ifname, in, ns);
	if (!(ifr.ifr_flags & IFF_UP))
		return cb_fail(e, ENETDOWN, "interface %s%s%s is down", s->ifname, in, ns);
	if (o->qdisc_bypass &&
	    set_int(s, SOL_PACKET, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS", e) < 0)
		return -1;
	if (s->call == CB_CALL_TX_RING && setup_ring(s, e) < 0)
		return -1;
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return cb_fail(e, errno, "bind AF_PACKET to %s", s->ifname);
	return 0;
}

static int connect_tcp(struct cb_sender *s, const struct sockaddr_in *dst, const char *what,
		       struct cb_error *e)
{
	uint64_t deadline = cb_now_ns() + CONNECT_MS * 1000000ull;
	socklen_t len = sizeof(int);
	int err = 0;

	/* Non-blocking already: the same as a blocking connect with a timeout, and a signal cannot
	 * leave it half done. */
	if (connect(s->fd, (const struct sockaddr *)dst, sizeof(*dst)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return cb_fail(e, errno, "connect to %s from %s", what, s->ifname);
	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLOUT };
		int rc = poll(&p, 1, cb_ms_left(cb_now_ns(), deadline));

		if (rc > 0)
			break;
		if (rc == 0)
			return cb_fail(e, ETIMEDOUT, "connect to %s from %s: no answer in %d ms",
				       what, s->ifname, CONNECT_MS);
		if (errno != EINTR)
			return cb_fail(e, errno, "poll while connecting to %s", what);
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return cb_fail(e, errno, "read SO_ERROR after connecting to %s", what);
	if (err)
		return cb_fail(e, err, "connect to %s from %s", what, s->ifname);
	return 0;
}

static int open_inet(struct cb_sender *s, const struct cb_sender_options *o, struct cb_error *e)
{
	bool tcp = s->kind == CB_SEND_TCP;
	struct sockaddr_in src, dst;
	char what[48];

	if (parse_ipv4(o->src_addr, 0, "srcAddr", &src, e) < 0 ||
	    parse_ipv4(o->dst_addr, o->dst_port, "dstAddr", &dst, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s:%u", o->dst_addr, o->dst_port);
	s->fd = cb_socket_in_netns(o->netns_path, AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM,
				   tcp ? IPPROTO_TCP : IPPROTO_UDP, e);
	if (s->fd < 0)
		return -1;
	/* The name resolves in the socket's own namespace. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, s->ifname, strlen(s->ifname)) < 0)
		return cb_fail(e, errno, "bind the %s socket to device %s%s%s", kind_name(s->kind),
			       s->ifname, o->netns_path ? " in netns " : "",
			       o->netns_path ? o->netns_path : "");
	/*
	 * Without IP_RECVERR a UDP send the device refuses (ENOBUFS from a full veth backlog) is
	 * reported as taken and the datagram silently lost (udp_send_skb); with it the send fails
	 * and is retried.
	 */
	if (!tcp && set_int(s, SOL_IP, IP_RECVERR, 1, "IP_RECVERR", e) < 0)
		return -1;
	if (s->zerocopy && set_int(s, SOL_SOCKET, SO_ZEROCOPY, 1, "SO_ZEROCOPY", e) < 0)
		return -1;
	if (o->gso_size > 0 &&
	    set_int(s, SOL_UDP, UDP_SEGMENT, (int)o->gso_size, "UDP_SEGMENT", e) < 0)
		return -1;
	if (bind(s->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		return cb_fail(e, errno, "bind the %s socket to %s", kind_name(s->kind),
			       o->src_addr);
	if (tcp) {
		if (fcntl(s->fd, F_SETFL, O_NONBLOCK) < 0)
			return cb_fail(e, errno, "make the tcp socket non-blocking");
		return connect_tcp(s, &dst, what, e);
	}
	if (connect(s->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return cb_fail(e, errno, "connect the udp socket to %s", what);
	return 0;
}

int cb_sender_open(struct cb_sender *s, const struct cb_sender_options *o, struct cb_error *e)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (check_options(o, e) < 0)
		return -1;
	s->kind = o->kind;
	s->call = o->call;
	s->zerocopy = o->zerocopy;
	/* MSG_NOSIGNAL: a tcp peer that went away must be an EPIPE error, not a SIGPIPE that ends
	 * Node. */
	s->send_flags = MSG_DONTWAIT | MSG_NOSIGNAL | (o->zerocopy ? MSG_ZEROCOPY : 0);
	memcpy(s->ifname, o->ifname, strlen(o->ifname) + 1);
	s->batch = o->batch;
	s->max_frame_bytes = o->call == CB_CALL_TX_RING ? o->max_frame_bytes : UINT32_MAX;
	s->backoff_ns = CB_SEND_BACKOFF_MIN_NS;
	if (map_area(s, o, e) < 0)
		goto fail;
	if (s->call == CB_CALL_SENDMMSG) {
		s->msgs = calloc(s->batch, sizeof(*s->msgs));
		s->iovs = calloc(s->batch, sizeof(*s->iovs));
		if (!s->msgs || !s->iovs) {
			cb_fail(e, ENOMEM, "sender: allocate %u sendmmsg headers", s->batch);
			goto fail;
		}
		for (uint32_t k = 0; k < s->batch; k++) {
			s->msgs[k].msg_hdr.msg_iov = &s->iovs[k];
			s->msgs[k].msg_hdr.msg_iovlen = 1;
		}
	}
	if ((s->kind == CB_SEND_PACKET ? open_packet(s, o, e) : open_inet(s, o, e)) < 0)
		goto fail;
	if (fcntl(s->fd, F_SETFL, O_NONBLOCK) < 0) {
		cb_fail(e, errno, "make the %s socket on %s non-blocking", kind_name(s->kind),
			s->ifname);
		goto fail;
	}
	return 0;
fail:
	cb_sender_close(s);
	return -1;
}

void cb_sender_close(struct cb_sender *s)
{
	if (s->ring.map) {
		munmap(s->ring.map, s->ring.map_len);
		s->ring.map = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	/* Safe with zero-copy sends outstanding: the kernel holds its own page references. */
	if (s->area) {
		munmap(s->area, s->area_map_len);
		s->area = NULL;
	}
	free(s->msgs);
	free(s->iovs);
	s->msgs = NULL;
	s->iovs = NULL;
}

/* ---- units -------------------------------------------------------------------------------- */

/* The smallest unit the kernel takes: a packet socket's frame needs its Ethernet header. */
static uint32_t min_unit(const struct cb_sender *s)
{
	return s->kind == CB_SEND_PACKET ? ETH_HLEN : 1;
}

/* Why a unit is refused; i is its place in the table, or -1 for send()'s own range. */
static int bad_unit(const struct cb_sender *s, int64_t i, uint32_t off, uint32_t len,
		    struct cb_error *e)
{
	char what[32];

	if (i < 0)
		snprintf(what, sizeof(what), "send()");
	else
		snprintf(what, sizeof(what), "unit %lld", (long long)i);
	if (len < min_unit(s))
		return cb_fail(e, EINVAL, "%s sender on %s: %s of %u bytes; at least %u",
			       kind_name(s->kind), s->ifname, what, len, min_unit(s));
	if (len > s->max_frame_bytes)
		return cb_fail(e, EMSGSIZE,
			       "%s sender on %s: %s of %u bytes; the TX ring's slots take %u",
			       kind_name(s->kind), s->ifname, what, len, s->max_frame_bytes);
	return cb_fail(e, ERANGE,
		       "%s sender on %s: %s at offset %u, %u bytes, is outside the %zu-byte data",
		       kind_name(s->kind), s->ifname, what, off, len, s->area_len);
}

static inline bool unit_ok(const struct cb_sender *s, uint32_t off, uint32_t len)
{
	return len >= min_unit(s) && len <= s->max_frame_bytes &&
	       (uint64_t)off + len <= s->area_len;
}

/* ---- zero-copy completions ---------------------------------------------------------------- */

/*
 * Notification ids are assigned in order, one per MSG_ZEROCOPY send, from 0 (sk_zckey). A send
 * the kernel refuses gives its id back, except one: a UDP datagram the device dropped (ENOBUFS
 * from a full veth backlog or qdisc) had its id, and its completion is queued when the dropped
 * skb is freed, before the call returns (its own and, in a sendmmsg, a short count). Every such
 * refusal is followed by a reap, which finds that id above the ones counted and counts it.
 */
static void learn_ids(struct cb_sender *s, uint32_t hi)
{
	uint32_t ahead = hi + 1u - (uint32_t)s->st.zc_sends;

	if (ahead != 0 && ahead < 0x80000000u)
		s->st.zc_sends += ahead;
}

int64_t cb_sender_reap(struct cb_sender *s, struct cb_error *e)
{
	uint64_t t0, got = 0;
	int rc = 0;

	if (!s->zerocopy)
		return 0;
	t0 = cb_now_ns();
	s->st.zc_reaps++;
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
					    sizeof(struct sockaddr_in6))];
			struct cmsghdr align;
		} ctrl;
		struct msghdr msg;
		struct cmsghdr *cm;

		memset(&msg, 0, sizeof(msg));
		msg.msg_control = ctrl.buf;
		msg.msg_controllen = sizeof(ctrl.buf);
		if (recvmsg(s->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				rc = cb_fail(e, errno,
					     "read the error queue of the %s socket on %s",
					     kind_name(s->kind), s->ifname);
			break;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err serr;
			uint64_t ids;

			if (!(cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) &&
			    !(cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))
				continue;
			memcpy(&serr, CMSG_DATA(cm), sizeof(serr));
			if (serr.ee_origin != SO_EE_ORIGIN_ZEROCOPY || serr.ee_errno != 0) {
				rc = cb_fail(e, serr.ee_errno ? (int)serr.ee_errno : EIO,
					     "error queue of the %s socket on %s: error origin %u "
					     "type %u code %u, not a zero-copy completion",
					     kind_name(s->kind), s->ifname, serr.ee_origin,
					     serr.ee_type, serr.ee_code);
				goto out;
			}
			/* [ee_info, ee_data], inclusive; consecutive completions are merged into
			 * one range, which keeps the code (COPIED or not) of its first. */
			ids = (uint64_t)(uint32_t)(serr.ee_data - serr.ee_info) + 1u;
			got += ids;
			s->st.zc_completions += ids;
			if (serr.ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				s->st.zc_copied += ids;
			learn_ids(s, serr.ee_data);
		}
	}
out:
	s->st.zc_reap_ns += cb_now_ns() - t0;
	return rc < 0 ? -1 : (int64_t)got;
}

/* After a send the kernel accepted: reap before the error queue (and optmem) grows too long. */
static inline int zc_sent(struct cb_sender *s, uint64_t sends, struct cb_error *e)
{
	s->st.zc_sends += sends;
	if (s->st.zc_sends - s->st.zc_completions >= CB_SEND_ZC_REAP_AT && cb_sender_reap(s, e) < 0)
		return -1;
	return 0;
}

/* ---- sending ------------------------------------------------------------------------------ */

/* The kernel took something: the next refusal backs off from the start again. */
static inline void took(struct cb_sender *s)
{
	s->refused = CB_REFUSED_NONE;
	s->backoff_ns = CB_SEND_BACKOFF_MIN_NS;
}

/* A call that took nothing: 0 for a refusal the caller retries after a wait, -1 otherwise. */
static int refusal(struct cb_sender *s, int err, const char *what, struct cb_error *e)
{
	if (err == ENOBUFS) {
		s->refused = CB_REFUSED_NOBUFS;
		/* Zero-copy: frees optmem when that was full, and counts the id of a datagram
		 * the device dropped (learn_ids). */
		if (s->zerocopy && cb_sender_reap(s, e) < 0)
			return -1;
	} else if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
		s->refused = CB_REFUSED_AGAIN;
	} else {
		return cb_fail(e, err, "%s on the %s socket on %s", what, kind_name(s->kind),
			       s->ifname);
	}
	s->st.retries++;
	return 0;
}

ssize_t cb_sender_send_one(struct cb_sender *s, uint32_t off, uint32_t len, struct cb_error *e)
{
	ssize_t n;

	if (s->call != CB_CALL_SEND)
		return cb_fail(e, EINVAL, "send() on the %s sender on %s, which sends in batches",
			       kind_name(s->kind), s->ifname);
	if (!unit_ok(s, off, len))
		return bad_unit(s, -1, off, len, e);
	s->st.calls++;
	n = send(s->fd, s->area + off, len, s->send_flags);
	if (n <= 0)
		return refusal(s, n < 0 ? errno : EAGAIN, "send", e);
	took(s);
	s->st.bytes += (uint64_t)n;
	if ((size_t)n == len)
		s->st.taken++;
	else
		s->st.retries++; /* tcp: the rest did not fit */
	if (s->zerocopy && zc_sent(s, 1, e) < 0)
		return -1;
	return n;
}

static int send_mmsg(struct cb_sender *s, const uint32_t *table, uint32_t units, uint32_t first,
		     uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	uint64_t b = 0;
	uint32_t u = first;
	int got;

	for (uint32_t k = 0; k < n; k++) {
		s->iovs[k].iov_base = s->area + table[2 * (size_t)u];
		s->iovs[k].iov_len = table[2 * (size_t)u + 1];
		if (++u == units)
			u = 0;
	}
	s->st.calls++;
	got = sendmmsg(s->fd, s->msgs, n, s->send_flags);
	if (got <= 0)
		return refusal(s, got < 0 ? errno : EAGAIN, "sendmmsg", e);
	took(s);
	for (int k = 0; k < got; k++)
		b += s->msgs[k].msg_len;
	s->st.taken += (uint64_t)got;
	s->st.bytes += b;
	*bytes = b;
	if ((uint32_t)got < n) {
		/* sendmmsg reports an error only for the first message; the one that stopped it
		 * is retried first next time, and shows its error then if it was not for room. */
		s->st.retries++;
		if (s->zerocopy) {
			s->st.zc_sends += (uint64_t)got;
			if (cb_sender_reap(s, e) < 0) /* see learn_ids */
				return -1;
			return got;
		}
	}
	if (s->zerocopy && zc_sent(s, (uint64_t)got, e) < 0)
		return -1;
	return got;
}

/* ---- TX ring ------------------------------------------------------------------------------ */

static inline struct tpacket2_hdr *slot_hdr(const struct cb_send_ring *r, uint64_t i)
{
	uint32_t slot = (uint32_t)(i % r->nslots);

	return (struct tpacket2_hdr *)(r->map +
				       (size_t)(slot / r->frames_per_block) * r->block_size +
				       (size_t)(slot % r->frames_per_block) * r->frame_size);
}

/* The kernel writes tp_status from softirq or another CPU: acquire, so that a slot seen as
 * released really is before we count it or write it again. */
static inline uint32_t slot_status(const struct tpacket2_hdr *h)
{
	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

/* Counts, in order, the slots the kernel has released as sent. Stops at the first still in
 * flight: a later one released early is counted once the ones before it are. */
static void ring_reclaim(struct cb_sender *s)
{
	struct cb_send_ring *r = &s->ring;
	uint64_t t = r->tail;

	while (t < r->kpos) {
		const struct tpacket2_hdr *h = slot_hdr(r, t);

		if (slot_status(h) &
		    (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | TP_STATUS_WRONG_FORMAT))
			break;
		s->st.taken++;
		s->st.bytes += h->tp_len;
		t++;
	}
	r->tail = t;
}

/*
 * One send() that makes the kernel walk the ring from its head. Afterwards every slot it took
 * is SENDING or AVAILABLE; a slot it could not send for room (ENOBUFS from the device or a veth
 * backlog, EAGAIN from the send buffer) is back at SEND_REQUEST and goes with the next kick.
 * send()'s return value cannot count: on a refusal it is the error, even when earlier slots
 * went. 0, or -1 with e filled.
 */
static int ring_kick(struct cb_sender *s, struct cb_error *e)
{
	struct cb_send_ring *r = &s->ring;
	ssize_t rc;
	int err;

	s->st.calls++;
	rc = send(s->fd, NULL, 0, MSG_DONTWAIT);
	err = rc < 0 ? errno : 0;
	while (r->kpos < r->head) {
		const struct tpacket2_hdr *h = slot_hdr(r, r->kpos);
		uint32_t st = slot_status(h);

		if (st & TP_STATUS_WRONG_FORMAT)
			return cb_fail(e, err ? err : EINVAL,
				       "TX ring on %s: the kernel refused a %u-byte frame "
				       "(TP_STATUS_WRONG_FORMAT)",
				       s->ifname, h->tp_len);
		if (st & TP_STATUS_SEND_REQUEST)
			break;
		r->kpos++;
	}
	if (rc < 0 && err != ENOBUFS && err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
		return cb_fail(e, err, "send (TX ring kick) on %s", s->ifname);
	if (r->kpos < r->head)
		s->st.retries++;
	return 0;
}

static int send_ring(struct cb_sender *s, const uint32_t *table, uint32_t units, uint32_t first,
		     uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	struct cb_send_ring *r = &s->ring;
	uint64_t b = 0, room;
	uint32_t u = first;

	ring_reclaim(s);
	room = r->nslots - (r->head - r->tail);
	if (n > room)
		n = (uint32_t)room;
	for (uint32_t k = 0; k < n; k++) {
		struct tpacket2_hdr *h = slot_hdr(r, r->head + k);
		uint32_t len = table[2 * (size_t)u + 1];

		memcpy((uint8_t *)h + TX_DATA_OFF, s->area + table[2 * (size_t)u], len);
		h->tp_len = len;
		/* Release: the kernel must see the frame's bytes before it sees the request. */
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		b += len;
		if (++u == units)
			u = 0;
	}
	r->head += n;
	*bytes = b;
	if (n > 0)
		took(s);
	/* Also when nothing was free: slots the kernel refused before go with this kick. */
	if (r->kpos < r->head && ring_kick(s, e) < 0)
		return -1;
	if (n == 0 && r->kpos == r->head)
		s->st.retries++; /* full of slots in flight; a refused kick counted itself */
	return (int)n;
}

int cb_sender_send_from(struct cb_sender *s, const uint32_t *table, uint32_t units, uint32_t first,
			uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	uint32_t u = first;

	*bytes = 0;
	if (s->call == CB_CALL_SEND)
		return cb_fail(e, EINVAL,
			       "sendBatch on the %s sender on %s, which sends with send()",
			       kind_name(s->kind), s->ifname);
	if (n == 0 || n > s->batch || first >= units)
		return cb_fail(e, EINVAL,
			       "a batch of %u units from unit %u of %u on %s: batch is 1 to %u", n,
			       first, units, s->ifname, s->batch);
	/* Each pair as it is used, in both tiers alike: a few cycles beside the system call. */
	for (uint32_t k = 0; k < n; k++) {
		if (!unit_ok(s, table[2 * (size_t)u], table[2 * (size_t)u + 1]))
			return bad_unit(s, u, table[2 * (size_t)u], table[2 * (size_t)u + 1], e);
		if (++u == units)
			u = 0;
	}
	if (s->call == CB_CALL_TX_RING)
		return send_ring(s, table, units, first, n, bytes, e);
	return send_mmsg(s, table, units, first, n, bytes, e);
}

int cb_sender_send_batch(struct cb_sender *s, const uint32_t *table, uint32_t n, struct cb_error *e)
{
	uint64_t bytes;

	return cb_sender_send_from(s, table, n, 0, n, &bytes, e);
}

/* ---- waiting ------------------------------------------------------------------------------ */

static int poll_fd(struct cb_sender *s, short events, int timeout_ms, short *revents,
		   struct cb_error *e)
{
	struct pollfd p = { .fd = s->fd, .events = events };
	int rc = poll(&p, 1, timeout_ms);

	*revents = rc > 0 ? p.revents : 0;
	if (rc < 0 && errno != EINTR) /* a signal: JS should see it */
		return cb_fail(e, errno, "poll the %s socket on %s", kind_name(s->kind), s->ifname);
	return 0;
}

static int ring_wait(struct cb_sender *s, int timeout_ms, struct cb_error *e)
{
	struct cb_send_ring *r = &s->ring;
	short revents;

	ring_reclaim(s);
	if (r->head - r->tail < r->nslots)
		return 0;
	if (r->kpos < r->head) {
		/* The kernel put slots back for want of room: they go with the next kick. */
		cb_send_back_off(&s->backoff_ns, timeout_ms, true);
		return 0;
	}
	/* Every slot is in flight: POLLOUT once the slot at the kernel's head, our oldest, is
	 * released. */
	return poll_fd(s, POLLOUT, timeout_ms, &revents, e);
}

int cb_sender_wait(struct cb_sender *s, int timeout_ms, struct cb_error *e)
{
	short revents;

	s->st.waits++;
	if (timeout_ms < 0)
		timeout_ms = 0;
	if (s->call == CB_CALL_TX_RING)
		return ring_wait(s, timeout_ms, e);
	if (s->refused == CB_REFUSED_NOBUFS) {
		cb_send_back_off(&s->backoff_ns, timeout_ms, true);
		return 0;
	}
	/* POLLERR comes whether asked for or not: on a zero-copy socket it means completions to
	 * reap (which may be what frees optmem); otherwise the next send reports the error. */
	if (poll_fd(s, POLLOUT, timeout_ms, &revents, e) < 0)
		return -1;
	if ((revents & POLLERR) && s->zerocopy && cb_sender_reap(s, e) < 0)
		return -1;
	return 0;
}

/* ---- the native tier ---------------------------------------------------------------------- */

static ssize_t step_one(void *self, uint32_t off, uint32_t len, struct cb_error *e)
{
	return cb_sender_send_one(self, off, len, e);
}

static int step_from(void *self, const uint32_t *table, uint32_t units, uint32_t first, uint32_t n,
		     uint64_t *bytes, struct cb_error *e)
{
	return cb_sender_send_from(self, table, units, first, n, bytes, e);
}

static int step_wait(void *self, int timeout_ms, struct cb_error *e)
{
	return cb_sender_wait(self, timeout_ms, e);
}

/* A send() per unit (tcp may take part of one; packet and udp never do), or sendmmsg() batches,
 * or TX ring slots and a kick. */
static const struct cb_send_step STEP = {
	.send_one = step_one,
	.send_from = step_from,
	.wait = step_wait,
	.partial = true,
};

int cb_sender_loop(struct cb_sender *s, const uint32_t *table, uint32_t units,
		   const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		   struct cb_error *e)
{
	struct cb_send_handle h = { &s->at, s->call == CB_CALL_SEND, s->batch, s->ifname };

	return cb_send_loop(&STEP, s, h, table, units, slice, units_out, bytes_out, e);
}

/* ---- the end of a window ------------------------------------------------------------------ */

static int zc_finish(struct cb_sender *s, int timeout_ms, struct cb_error *e)
{
	uint64_t t0 = cb_now_ns(), deadline = t0 + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		uint64_t now;
		int64_t got = cb_sender_reap(s, e);
		short revents;

		if (got < 0)
			return -1;
		if (s->st.zc_completions >= s->st.zc_sends)
			return 0;
		now = cb_now_ns();
		/*
		 * Not an error: the caller reports what is still outstanding (zc_sends -
		 * zc_completions). Seen here with UDP datagrams above the MTU: one send in 20,000
		 * whose pages the kernel still held seconds after the datagram was read.
		 */
		if (now >= deadline)
			return 0;
		/* No events asked: POLLERR (the error queue is not empty) comes anyway. */
		if (poll_fd(s, 0, cb_ms_left(now, deadline), &revents, e) < 0)
			return -1;
		/* A hang-up or a socket error makes poll() return at once: don't spin. */
		if (revents & (POLLHUP | POLLERR))
			cb_sleep_ns(100000);
	}
}

static int ring_finish(struct cb_sender *s, int timeout_ms, struct cb_error *e)
{
	struct cb_send_ring *r = &s->ring;
	uint64_t deadline = cb_now_ns() + (uint64_t)timeout_ms * 1000000u;
	uint64_t pause = CB_SEND_BACKOFF_MIN_NS;

	for (;;) {
		ring_reclaim(s);
		if (r->tail == r->head)
			return 0;
		/* Slots the kernel put back are handed over too: they still have to go. */
		if (r->kpos < r->head && ring_kick(s, e) < 0)
			return -1;
		ring_reclaim(s);
		if (r->tail == r->head)
			return 0;
		if (cb_now_ns() >= deadline)
			return cb_fail(
				e, ETIMEDOUT,
				"TX ring on %s: %llu of the frames handed over not sent after "
				"%d ms (%llu never taken by the kernel)",
				s->ifname, (unsigned long long)(r->head - r->tail), timeout_ms,
				(unsigned long long)(r->head - r->kpos));
		/* A poll would not help: POLLOUT means a free slot, and there are free ones. */
		cb_sleep_ns(pause);
		pause = pause * 2 < FINISH_POLL_MS * 1000000ull ? pause * 2
								: FINISH_POLL_MS * 1000000ull;
	}
}

int cb_sender_finish(struct cb_sender *s, int timeout_ms, struct cb_error *e)
{
	if (s->zerocopy)
		return zc_finish(s, timeout_ms, e);
	if (s->call == CB_CALL_TX_RING)
		return ring_finish(s, timeout_ms, e);
	return 0;
}

int cb_sender_shutdown(struct cb_sender *s, struct cb_error *e)
{
	if (s->kind != CB_SEND_TCP)
		return 0;
	if (shutdown(s->fd, SHUT_WR) < 0)
		return cb_fail(e, errno, "shutdown(SHUT_WR) of the tcp socket on %s", s->ifname);
	return 0;
}

int cb_sender_stats(struct cb_sender *s, struct cb_send_stats *out, struct cb_error *e)
{
	if (s->kind == CB_SEND_TCP) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		memset(&ti, 0, sizeof(ti));
		if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			return cb_fail(e, errno, "read TCP_INFO of the tcp socket on %s",
				       s->ifname);
		s->st.segs_out = ti.tcpi_segs_out;
	}
	*out = s->st;
	return 0;
}

int cb_sender_probe_zerocopy(enum cb_send_kind kind, struct cb_error *e)
{
	const char *proto = kind == CB_SEND_TCP ? "TCP" : "UDP";
	int fd =
		socket(AF_INET, (kind == CB_SEND_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return cb_fail(e, errno, "create a %s socket", proto);
	if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		int err = errno;

		close(fd);
		return cb_fail(e, err, "setsockopt SO_ZEROCOPY on a %s socket", proto);
	}
	close(fd);
	return 0;
}
