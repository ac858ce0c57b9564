#include "packet_mmap.h"
#include "slice_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* ---- open / close ---------------------------------------------------------------------- */

static int set_int_opt(struct cb_pmmap *r, int name, int val, const char *what, struct cb_error *e)
{
	if (setsockopt(r->fd, SOL_PACKET, name, &val, sizeof(val)) != 0)
		return cb_fail(e, errno, "setsockopt %s=%d on AF_PACKET socket for %s", what, val,
			       r->ifname);
	return 0;
}

static int is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int check_options(const struct cb_pmmap_options *o, struct cb_error *e)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = 4096;
	if (!is_pow2(o->block_bytes) || o->block_bytes < (uint32_t)page ||
	    o->block_bytes < CB_PMMAP_FRAME_BYTES)
		return cb_fail(e, EINVAL,
			       "PACKET_RX_RING on %s: block size %u is not a power of two of at "
			       "least the page size (%ld)",
			       o->ifname, o->block_bytes, page);
	if (o->block_count < 1 || o->block_count > CB_PMMAP_MAX_BLOCKS)
		return cb_fail(e, EINVAL, "PACKET_RX_RING on %s: %u blocks is outside 1..%u",
			       o->ifname, o->block_count, CB_PMMAP_MAX_BLOCKS);
	if ((uint64_t)o->block_bytes * o->block_count > CB_PMMAP_MAX_RING_BYTES)
		return cb_fail(
			e, EINVAL,
			"PACKET_RX_RING on %s: %u blocks of %u bytes exceed the %llu-byte limit",
			o->ifname, o->block_count, o->block_bytes,
			(unsigned long long)CB_PMMAP_MAX_RING_BYTES);
	return 0;
}

static int setup_ring(struct cb_pmmap *r, const struct cb_pmmap_options *o, struct cb_error *e)
{
	struct tpacket_req3 req;

	memset(&req, 0, sizeof(req));
	req.tp_block_size = o->block_bytes;
	req.tp_block_nr = o->block_count;
	req.tp_frame_size = CB_PMMAP_FRAME_BYTES;
	req.tp_frame_nr = (o->block_bytes / CB_PMMAP_FRAME_BYTES) * o->block_count;
	req.tp_retire_blk_tov = o->retire_ms;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0)
		return cb_fail(
			e, errno,
			"setsockopt PACKET_RX_RING (TPACKET_V3, %u blocks of %u bytes, retire "
			"%u ms) on AF_PACKET socket for %s",
			o->block_count, o->block_bytes, o->retire_ms, r->ifname);
	r->block_bytes = o->block_bytes;
	r->block_count = o->block_count;
	size_t len = (size_t)o->block_bytes * o->block_count;
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, 0);
	if (map == MAP_FAILED)
		return cb_fail(e, errno, "mmap %zu-byte PACKET_RX_RING of AF_PACKET socket for %s",
			       len, r->ifname);
	r->map = map;
	r->map_len = len;
	return 0;
}

static int bind_all(struct cb_pmmap *r, struct cb_error *e)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = r->ifindex;
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		return cb_fail(e, errno, "bind AF_PACKET socket to %s (ifindex %d, ETH_P_ALL)",
			       r->ifname, r->ifindex);
	return 0;
}

static int open_once(struct cb_pmmap *r, const struct cb_pmmap_options *o, struct cb_error *e)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (strlen(o->ifname) >= sizeof(r->ifname))
		return cb_fail(e, ENODEV, "find interface %s: name longer than %zu bytes",
			       o->ifname, sizeof(r->ifname) - 1);
	memcpy(r->ifname, o->ifname, strlen(o->ifname) + 1);
	if (check_options(o, e) < 0)
		return -1;
	errno = 0;
	r->ifindex = (int)if_nametoindex(o->ifname);
	if (r->ifindex == 0)
		return cb_fail(e, errno ? errno : ENODEV, "find interface %s", o->ifname);
	/* Protocol 0: the socket sees no traffic until bind() names the interface. */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return cb_fail(e, errno, "create AF_PACKET SOCK_RAW socket for %s", o->ifname);
	/* Version first: the kernel refuses to change it once a ring exists. */
	if ((o->fanout.enabled && cb_fanout_mute(r->fd, r->ifname, e) < 0) ||
	    set_int_opt(r, PACKET_VERSION, TPACKET_V3, "PACKET_VERSION", e) < 0 ||
	    set_int_opt(r, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING", e) < 0 ||
	    setup_ring(r, o, e) < 0 || bind_all(r, e) < 0 ||
	    (o->fanout.enabled &&
	     cb_fanout_join(r->fd, r->ifname, &o->fanout, &r->fanout_group, e) < 0)) {
		cb_pmmap_close(r);
		return -1;
	}
	return 0;
}

int cb_pmmap_open(struct cb_pmmap *r, const struct cb_pmmap_options *o, struct cb_error *e)
{
	for (int i = 0; i < CB_FANOUT_OPEN_TRIES; i++) {
		if (open_once(r, o, e) < 0)
			return -1;
		if (!cb_fanout_got_id_zero(&o->fanout, r->fanout_group))
			return 0;
		cb_pmmap_close(r);
	}
	return cb_fanout_id_zero_error(o->ifname, &o->fanout, e);
}

void cb_pmmap_close(struct cb_pmmap *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
	r->map_len = 0;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->holding = 0;
	r->fanout_group = 0;
}

/* ---- blocks ------------------------------------------------------------------------------ */

static struct tpacket_block_desc *block_at(const struct cb_pmmap *r, uint32_t i)
{
	return (struct tpacket_block_desc *)(r->map + (size_t)i * r->block_bytes);
}

/* Acquire: nothing in the block is read before its status says the kernel is done with it. */
static int block_ready(const struct tpacket_block_desc *b)
{
	return (__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

/* Release: every read (and the VLAN rewrites) of the block happen before the kernel owns it. */
static void give_back(struct cb_pmmap *r)
{
	struct tpacket_block_desc *b = block_at(r, r->index);

	__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	r->index = r->index + 1 == r->block_count ? 0 : r->index + 1;
	r->holding = 0;
}

/* What the one wait (cb_wait_readable) names in its errors. */
#define KIND "PACKET_RX_RING"

/*
 * Where the block's frames are. The kernel wrote them, but the walk still checks that every
 * header and frame lies inside the block, so it never reads outside the ring.
 */
static int frame_at(const struct cb_pmmap *r, uint32_t block_off, uint32_t off,
		    const struct tpacket3_hdr **hdr, struct cb_error *e)
{
	if ((uint64_t)off + sizeof(struct tpacket3_hdr) > r->block_bytes)
		return cb_fail(e, EPROTO,
			       "PACKET_RX_RING on %s: frame header at %u is outside block "
			       "%u",
			       r->ifname, off, block_off / r->block_bytes);
	const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)(r->map + block_off + off);
	uint32_t mac = h->tp_mac;
	if (mac < sizeof(*h) || (uint64_t)off + mac + h->tp_snaplen > r->block_bytes)
		return cb_fail(e, EPROTO,
			       "PACKET_RX_RING on %s: frame at %u+%u (%u bytes) is outside "
			       "block %u",
			       r->ifname, off, mac, h->tp_snaplen, block_off / r->block_bytes);
	*hdr = h;
	return 0;
}

static int vlan_stripped(const struct tpacket3_hdr *h)
{
	return (h->tp_status & TP_STATUS_VLAN_VALID) != 0;
}

int cb_pmmap_next_block(struct cb_pmmap *r, int timeout_ms, size_t *block_off, struct cb_error *e)
{
	if (r->holding)
		give_back(r);
	const struct tpacket_block_desc *b = block_at(r, r->index);
	if (!block_ready(b)) {
		int w = cb_wait_readable(r->fd, timeout_ms, KIND, r->ifname, &r->calls, e);
		if (w <= 0)
			return w;
		if (!block_ready(b))
			return 0;
	}
	if (b->hdr.bh1.num_pkts > 0 &&
	    (uint64_t)b->hdr.bh1.offset_to_first_pkt + sizeof(struct tpacket3_hdr) > r->block_bytes)
		return cb_fail(e, EPROTO,
			       "PACKET_RX_RING on %s: block %u says its first frame is at "
			       "%u, outside the block",
			       r->ifname, r->index, b->hdr.bh1.offset_to_first_pkt);
	r->holding = 1;
	*block_off = (size_t)r->index * r->block_bytes;
	return 1;
}

/* ---- native tier ----------------------------------------------------------------------- */

/*
 * Counts the (ready) block at the read index in place and gives it back. A frame whose tag the
 * kernel stripped had the TPID at bytes 12-13 on the wire, which is never IPv4: it is received
 * but not counted, without rewriting it.
 */
static int count_block(struct cb_pmmap *r, struct cb_count *out, struct cb_error *e)
{
	const struct tpacket_block_desc *b = block_at(r, r->index);
	uint32_t n = b->hdr.bh1.num_pkts;
	uint32_t block_off = r->index * r->block_bytes;
	uint32_t off = b->hdr.bh1.offset_to_first_pkt;
	uint64_t ipv4 = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct tpacket3_hdr *h = NULL;

		if (frame_at(r, block_off, off, &h, e) < 0)
			return -1;
		if (!vlan_stripped(h))
			ipv4 += (uint64_t)cb_do_something(r->map + block_off + off + h->tp_mac,
							  h->tp_snaplen);
		off += h->tp_next_offset;
	}
	give_back(r);
	out->received += n;
	out->ipv4 += ipv4;
	return (int)n;
}

/* The native step: the block at the read index, if the kernel has retired it. */
static int take(void *self, uint32_t want, struct cb_count *out, struct cb_error *e)
{
	struct cb_pmmap *r = self;

	(void)want; /* a block is read whole */
	return block_ready(block_at(r, r->index)) ? count_block(r, out, e) : 0;
}

static const struct cb_step STEP = {
	.take = take,
	.kind = KIND,
	.frames_per_clock = CB_FRAMES_PER_CLOCK_RING,
};

int cb_pmmap_consume(struct cb_pmmap *r, const struct cb_slice *slice, struct cb_count *out,
		     struct cb_error *e)
{
	if (r->holding)
		give_back(r);
	return cb_slice_loop(&STEP, r, (struct cb_waitable){ r->fd, r->ifname, &r->calls },
			     UINT32_MAX, slice, out, e);
}

/* ---- statistics ------------------------------------------------------------------------ */

int cb_pmmap_stats(struct cb_pmmap *r, uint64_t *packets, uint64_t *drops, uint64_t *freezes,
		   struct cb_error *e)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	/* The kernel adds tp_drops into tp_packets before copying out, and zeroes all three. */
	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0)
		return cb_fail(e, errno, "getsockopt PACKET_STATISTICS on AF_PACKET socket for %s",
			       r->ifname);
	r->packets += st.tp_packets;
	r->drops += st.tp_drops;
	r->freezes += st.tp_freeze_q_cnt;
	*packets = r->packets;
	*drops = r->drops;
	*freezes = r->freezes;
	return 0;
}
