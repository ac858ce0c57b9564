#include "packet_socket.h"
#include "slice_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID (1 << 6)
#endif

#define VLAN_TAG_LEN 4u
#define MAC_ADDRS_LEN 12u
#define CTRL_SPACE CMSG_SPACE(sizeof(struct tpacket_auxdata))

/* Control buffer for recvmsg(), aligned as the CMSG macros expect. */
union cb_ctrl {
	struct cmsghdr align;
	uint8_t bytes[CTRL_SPACE];
};

/* ---- PACKET_FANOUT ----------------------------------------------------------------------- */

static const struct {
	const char *name;
	int type;
} fanout_modes[] = {
	{ "hash", PACKET_FANOUT_HASH },
	{ "lb", PACKET_FANOUT_LB },
	{ "cpu", PACKET_FANOUT_CPU },
	{ "qm", PACKET_FANOUT_QM },
};

#define FANOUT_MODES (sizeof(fanout_modes) / sizeof(fanout_modes[0]))

int cb_fanout_type(const char *mode, int *type)
{
	for (size_t i = 0; i < FANOUT_MODES; i++) {
		if (strcmp(mode, fanout_modes[i].name) == 0) {
			*type = fanout_modes[i].type;
			return 0;
		}
	}
	return -1;
}

const char *cb_fanout_mode_name(int type)
{
	for (size_t i = 0; i < FANOUT_MODES; i++) {
		if (fanout_modes[i].type == type)
			return fanout_modes[i].name;
	}
	return "?";
}

/* What the kernel refuses a join for, so the message says more than "Invalid argument". */
static int join_failed(int err, const char *ifname, const struct cb_fanout *f, struct cb_error *e)
{
	const char *mode = cb_fanout_mode_name(f->type);

	if (f->group == 0)
		return cb_fail(e, err, "PACKET_FANOUT new group (%s) on %s", mode, ifname);
	if (err == EINVAL)
		return cb_fail(e, err,
			       "PACKET_FANOUT join group %u (%s) on %s (a group takes sockets of "
			       "one mode, bound to one interface)",
			       f->group, mode, ifname);
	return cb_fail(e, err, "PACKET_FANOUT join group %u (%s) on %s", f->group, mode, ifname);
}

int cb_fanout_mute(int fd, const char *ifname, struct cb_error *e)
{
	/* One instruction, "return 0": every frame is refused before it is queued or counted. */
	struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop_all };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0)
		return cb_fail(e, errno, "SO_ATTACH_FILTER (drop all until PACKET_FANOUT) on %s",
			       ifname);
	return 0;
}

int cb_fanout_join(int fd, const char *ifname, const struct cb_fanout *f, uint32_t *group,
		   struct cb_error *e)
{
	/* id 0 with UNIQUEID: the kernel picks an id no group in this namespace has. */
	int flags = f->group == 0 ? PACKET_FANOUT_FLAG_UNIQUEID : 0;
	int arg = (int)(f->group | (uint32_t)(f->type | flags) << 16);
	int val = 0;
	int unused = 0;
	socklen_t len = sizeof(val);

	if (f->group > CB_FANOUT_MAX_GROUP)
		return cb_fail(e, EINVAL, "PACKET_FANOUT join group %u on %s: ids are 1..%u",
			       f->group, ifname, CB_FANOUT_MAX_GROUP);
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0)
		return join_failed(errno, ifname, f, e);
	/* The kernel answers id | type << 16 | flags << 24; the id is all a second socket needs. */
	if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, &len) != 0)
		return cb_fail(e, errno, "getsockopt PACKET_FANOUT on %s after joining", ifname);
	*group = (uint32_t)val & 0xffffu;
	/* A member now: from here on it takes only what the group hands it (the kernel wants an int). */
	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof(unused)) != 0)
		return cb_fail(e, errno, "SO_DETACH_FILTER on %s after joining PACKET_FANOUT",
			       ifname);
	return 0;
}

int cb_fanout_got_id_zero(const struct cb_fanout *f, uint32_t group)
{
	return f && f->enabled && f->group == 0 && group == 0;
}

int cb_fanout_id_zero_error(const char *ifname, const struct cb_fanout *f, struct cb_error *e)
{
	return cb_fail(e, EAGAIN,
		       "PACKET_FANOUT new group (%s) on %s: the kernel handed out id 0 %d times",
		       cb_fanout_mode_name(f->type), ifname, CB_FANOUT_OPEN_TRIES);
}

/* ---- open / close ---------------------------------------------------------------------- */

static int set_int_opt(struct cb_psock *s, int level, int name, int val, const char *what,
		       struct cb_error *e)
{
	if (setsockopt(s->fd, level, name, &val, sizeof(val)) != 0)
		return cb_fail(e, errno, "setsockopt %s=%d on AF_PACKET socket for %s", what, val,
			       s->ifname);
	return 0;
}

static int size_rcvbuf(struct cb_psock *s, int bytes, struct cb_error *e)
{
	socklen_t len = sizeof(s->rcvbuf);

	/* FORCE because rmem_max is read-only on the test machines and too small for bursts. */
	if (bytes > 0 && set_int_opt(s, SOL_SOCKET, SO_RCVBUFFORCE, bytes, "SO_RCVBUFFORCE", e) < 0)
		return -1;
	if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf, &len) != 0)
		return cb_fail(e, errno, "getsockopt SO_RCVBUF on AF_PACKET socket for %s",
			       s->ifname);
	return 0;
}

static int read_mtu(struct cb_psock *s, struct cb_error *e)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, s->ifname, sizeof(ifr.ifr_name));
	if (ioctl(s->fd, SIOCGIFMTU, &ifr) != 0)
		return cb_fail(e, errno, "read MTU of %s (SIOCGIFMTU)", s->ifname);
	s->mtu = (uint32_t)ifr.ifr_mtu;
	return 0;
}

static int bind_all(struct cb_psock *s, struct cb_error *e)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = s->ifindex;
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		return cb_fail(e, errno, "bind AF_PACKET socket to %s (ifindex %d, ETH_P_ALL)",
			       s->ifname, s->ifindex);
	return 0;
}

static int configure(struct cb_psock *s, int rcvbuf_bytes, struct cb_error *e)
{
	if (size_rcvbuf(s, rcvbuf_bytes, e) < 0 ||
	    set_int_opt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING", e) <
		    0 ||
	    set_int_opt(s, SOL_PACKET, PACKET_AUXDATA, 1, "PACKET_AUXDATA", e) < 0 ||
	    read_mtu(s, e) < 0)
		return -1;
	/* Last, so nothing is queued before the socket is fully set up. */
	return bind_all(s, e);
}

/* One attempt: socket, options, bind, then the fanout group (the kernel joins only bound sockets). */
static int open_once(struct cb_psock *s, const char *ifname, int rcvbuf_bytes,
		     const struct cb_fanout *fanout, struct cb_error *e)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (strlen(ifname) >= sizeof(s->ifname))
		return cb_fail(e, ENODEV, "find interface %s: name longer than %zu bytes", ifname,
			       sizeof(s->ifname) - 1);
	memcpy(s->ifname, ifname, strlen(ifname) + 1);
	errno = 0;
	s->ifindex = (int)if_nametoindex(ifname);
	if (s->ifindex == 0)
		return cb_fail(e, errno ? errno : ENODEV, "find interface %s", ifname);
	/* Protocol 0: the socket sees no traffic until bind() names the interface. */
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return cb_fail(e, errno, "create AF_PACKET SOCK_RAW socket for %s", ifname);
	if ((fanout && fanout->enabled && cb_fanout_mute(s->fd, s->ifname, e) < 0) ||
	    configure(s, rcvbuf_bytes, e) < 0 ||
	    (fanout && fanout->enabled &&
	     cb_fanout_join(s->fd, s->ifname, fanout, &s->fanout_group, e) < 0)) {
		cb_psock_close(s);
		return -1;
	}
	return 0;
}

int cb_psock_open(struct cb_psock *s, const char *ifname, int rcvbuf_bytes,
		  const struct cb_fanout *fanout, struct cb_error *e)
{
	for (int i = 0; i < CB_FANOUT_OPEN_TRIES; i++) {
		if (open_once(s, ifname, rcvbuf_bytes, fanout, e) < 0)
			return -1;
		if (!cb_fanout_got_id_zero(fanout, s->fanout_group))
			return 0;
		cb_psock_close(s);
	}
	return cb_fanout_id_zero_error(ifname, fanout, e);
}

void cb_psock_close(struct cb_psock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->fanout_group = 0;
	free(s->scratch.msgs);
	free(s->scratch.iovs);
	free(s->scratch.ctrl);
	memset(&s->scratch, 0, sizeof(s->scratch));
	free(s->consume_buf);
	s->consume_buf = NULL;
	s->consume_frames = 0;
}

/* ---- placing a received frame ------------------------------------------------------------ */

static const struct tpacket_auxdata *find_auxdata(const struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata)))
			return (const struct tpacket_auxdata *)CMSG_DATA(c);
	}
	return NULL;
}

/* Same test as libpcap: old kernels set no VLAN_VALID flag but a non-zero TCI means a tag. */
static int vlan_stripped(const struct tpacket_auxdata *aux)
{
	return aux && (aux->tp_vlan_tci != 0 || (aux->tp_status & TP_STATUS_VLAN_VALID));
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void cb_psock_place_frame(uint8_t *slot, uint32_t len, const struct msghdr *mh, uint32_t *pair)
{
	const struct tpacket_auxdata *aux = find_auxdata(mh);

	if (!vlan_stripped(aux) || len < MAC_ADDRS_LEN) {
		pair[0] = CB_PSOCK_PREFIX;
		pair[1] = len;
		return;
	}
	uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid
								     : ETH_P_8021Q;
	memmove(slot, slot + VLAN_TAG_LEN, MAC_ADDRS_LEN);
	put_be16(slot + MAC_ADDRS_LEN, tpid);
	put_be16(slot + MAC_ADDRS_LEN + 2, aux->tp_vlan_tci);
	pair[0] = 0;
	pair[1] = len + VLAN_TAG_LEN;
}

/* ---- receiving ------------------------------------------------------------------------- */

static int would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* What the one wait (cb_wait_readable) names in its errors. */
#define KIND "AF_PACKET socket"

/* One recvmsg() into a slot; 1, 0 when nothing is queued, -1 on error. */
static int recv_slot(struct cb_psock *s, uint8_t *slot, uint32_t slot_len, uint32_t *pair,
		     struct cb_error *e)
{
	union cb_ctrl ctrl;
	struct iovec iov = { .iov_base = slot + CB_PSOCK_PREFIX,
			     .iov_len = slot_len - CB_PSOCK_PREFIX };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctrl.bytes,
			     .msg_controllen = sizeof(ctrl.bytes) };
	/* Without MSG_TRUNC in flags the kernel returns the captured length, as wanted. */
	ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT);

	s->calls.syscalls++;
	if (n < 0 && would_block(errno))
		return 0;
	if (n < 0)
		return cb_fail(e, errno, "recvmsg on AF_PACKET socket bound to %s", s->ifname);
	cb_psock_place_frame(slot, (uint32_t)n, &mh, pair);
	return 1;
}

static int ensure_scratch(struct cb_psock *s, uint32_t frames, struct cb_error *e)
{
	struct cb_mmsg_scratch *sc = &s->scratch;

	if (sc->capacity >= frames)
		return 0;
	free(sc->msgs);
	free(sc->iovs);
	free(sc->ctrl);
	sc->msgs = calloc(frames, sizeof(*sc->msgs));
	sc->iovs = calloc(frames, sizeof(*sc->iovs));
	sc->ctrl = aligned_alloc(_Alignof(struct cmsghdr), (size_t)frames * CTRL_SPACE);
	sc->capacity = frames;
	if (sc->msgs && sc->iovs && sc->ctrl)
		return 0;
	free(sc->msgs);
	free(sc->iovs);
	free(sc->ctrl);
	memset(sc, 0, sizeof(*sc));
	return cb_fail(e, ENOMEM, "allocate recvmmsg headers for %u frames on %s", frames,
		       s->ifname);
}

/* One recvmmsg() of up to frames slots; table gets a pair per frame. Count, 0, or -1. */
static int recv_slots(struct cb_psock *s, uint8_t *buf, uint32_t slot_len, uint32_t frames,
		      uint32_t *table, struct cb_error *e)
{
	struct cb_mmsg_scratch *sc = &s->scratch;

	for (uint32_t i = 0; i < frames; i++) {
		sc->iovs[i].iov_base = buf + (size_t)i * slot_len + CB_PSOCK_PREFIX;
		sc->iovs[i].iov_len = slot_len - CB_PSOCK_PREFIX;
		memset(&sc->msgs[i].msg_hdr, 0, sizeof(sc->msgs[i].msg_hdr));
		sc->msgs[i].msg_hdr.msg_iov = &sc->iovs[i];
		sc->msgs[i].msg_hdr.msg_iovlen = 1;
		sc->msgs[i].msg_hdr.msg_control = sc->ctrl + (size_t)i * CTRL_SPACE;
		sc->msgs[i].msg_hdr.msg_controllen = CTRL_SPACE;
	}
	int n = recvmmsg(s->fd, sc->msgs, frames, MSG_DONTWAIT, NULL);

	s->calls.syscalls++;
	if (n < 0 && would_block(errno))
		return 0;
	if (n < 0)
		return cb_fail(e, errno, "recvmmsg of %u frames on AF_PACKET socket bound to %s",
			       frames, s->ifname);
	for (int i = 0; i < n; i++) {
		uint32_t *pair = table + 2 * i;

		cb_psock_place_frame(buf + (size_t)i * slot_len, sc->msgs[i].msg_len,
				     &sc->msgs[i].msg_hdr, pair);
		pair[0] += (uint32_t)i * slot_len;
	}
	return n;
}

/* Offsets in a table are 32-bit, so only the first 4 GiB of a buffer is usable. */
static uint32_t usable_len(size_t buflen)
{
	return buflen > UINT32_MAX ? UINT32_MAX : (uint32_t)buflen;
}

int cb_psock_recv_one(struct cb_psock *s, uint8_t *buf, size_t buflen, uint32_t *table,
		      int timeout_ms, struct cb_error *e)
{
	uint32_t len = usable_len(buflen);

	if (len < CB_PSOCK_MIN_SLOT)
		return cb_fail(e, EINVAL, "recvOne on %s: buffer of %u bytes is below %u",
			       s->ifname, len, CB_PSOCK_MIN_SLOT);
	int n = recv_slot(s, buf, len, table, e);
	if (n != 0)
		return n;
	int w = cb_wait_readable(s->fd, timeout_ms, KIND, s->ifname, &s->calls, e);
	if (w <= 0)
		return w;
	return recv_slot(s, buf, len, table, e);
}

int cb_psock_recv_batch(struct cb_psock *s, uint8_t *buf, size_t buflen, uint32_t max_frames,
			uint32_t *table, int timeout_ms, struct cb_error *e)
{
	if (max_frames < 1 || max_frames > CB_PSOCK_MAX_BATCH)
		return cb_fail(e, EINVAL, "recvBatch on %s: maxFrames %u outside 1..%u", s->ifname,
			       max_frames, CB_PSOCK_MAX_BATCH);
	uint32_t slot = usable_len(buflen) / max_frames;
	if (slot < CB_PSOCK_MIN_SLOT)
		return cb_fail(e, EINVAL, "recvBatch on %s: slot of %u bytes is below %u",
			       s->ifname, slot, CB_PSOCK_MIN_SLOT);
	if (ensure_scratch(s, max_frames, e) < 0)
		return -1;
	int n = recv_slots(s, buf, slot, max_frames, table, e);
	if (n != 0)
		return n;
	int w = cb_wait_readable(s->fd, timeout_ms, KIND, s->ifname, &s->calls, e);
	if (w <= 0)
		return w;
	return recv_slots(s, buf, slot, max_frames, table, e);
}

/* ---- native tier ----------------------------------------------------------------------- */

/* Slots big enough for an MTU-sized frame with its tag back, so the copy is the real one. */
static int ensure_consume_buf(struct cb_psock *s, uint32_t batch, struct cb_error *e)
{
	uint32_t slot = (s->mtu + ETH_HLEN + VLAN_TAG_LEN + CB_PSOCK_PREFIX + 63u) & ~63u;

	if (slot < 2048u)
		slot = 2048u;
	if (s->consume_buf && s->consume_frames >= batch && s->consume_slot == slot)
		return 0;
	/* Scratch first: the buffer is only recorded once everything it needs exists. */
	if (ensure_scratch(s, batch, e) < 0)
		return -1;
	free(s->consume_buf);
	s->consume_frames = 0;
	s->consume_buf = aligned_alloc(64, (size_t)slot * batch);
	if (!s->consume_buf)
		return cb_fail(e, ENOMEM, "allocate %u receive slots of %u bytes for %s", batch,
			       slot, s->ifname);
	s->consume_slot = slot;
	s->consume_frames = batch;
	return 0;
}

/* The native step: one receive call of up to want frames, counted. Frames received, or -1. */
static int take(void *self, uint32_t want, struct cb_count *out, struct cb_error *e)
{
	struct cb_psock *s = self;
	uint32_t table[2 * CB_PSOCK_MAX_BATCH];
	uint8_t *buf = s->consume_buf;
	uint32_t slot = s->consume_slot;
	int n = s->consume_batch == 1 ? recv_slot(s, buf, slot, table, e)
				      : recv_slots(s, buf, slot, want, table, e);

	for (int i = 0; i < n; i++)
		out->ipv4 += (uint64_t)cb_do_something(buf + table[2 * i], table[2 * i + 1]);
	if (n > 0)
		out->received += (uint64_t)n;
	return n;
}

static const struct cb_step STEP = {
	.take = take,
	.kind = KIND,
	.frames_per_clock = CB_FRAMES_PER_CLOCK_SYSCALL,
};

int cb_psock_consume(struct cb_psock *s, const struct cb_slice *slice, uint32_t batch,
		     struct cb_count *out, struct cb_error *e)
{
	if (batch < 1 || batch > CB_PSOCK_MAX_BATCH)
		return cb_fail(e, EINVAL, "consumeNative on %s: batch %u outside 1..%u", s->ifname,
			       batch, CB_PSOCK_MAX_BATCH);
	if (ensure_consume_buf(s, batch, e) < 0)
		return -1;
	s->consume_batch = batch;
	return cb_slice_loop(&STEP, s, (struct cb_waitable){ s->fd, s->ifname, &s->calls }, batch,
			     slice, out, e);
}

/* ---- statistics ------------------------------------------------------------------------ */

int cb_psock_stats(struct cb_psock *s, uint64_t *packets, uint64_t *drops, struct cb_error *e)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0)
		return cb_fail(e, errno, "getsockopt PACKET_STATISTICS on AF_PACKET socket for %s",
			       s->ifname);
	s->packets += st.tp_packets;
	s->drops += st.tp_drops;
	*packets = s->packets;
	*drops = s->drops;
	return 0;
}
