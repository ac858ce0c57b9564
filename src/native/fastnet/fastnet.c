#include "fastnet.h"
#include "slice_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Slots one take of the native ring loop walks at most. */
#define RING_TAKE 64u
/* What the one wait (cb_wait_readable) names in its errors. */
#define KIND "fastnet"

/* ---- probe, open, close ------------------------------------------------------------------ */

/* Why /dev/fastnet could not be opened, with what to do about it when it is simply absent. */
static int open_failed(int err, struct cb_error *e)
{
	if (err != ENOENT && err != ENXIO && err != ENODEV)
		return cb_fail(e, err, "open %s", FASTNET_DEVICE_PATH);
	if (access("/proc/modules", F_OK) != 0)
		return cb_fail(
			e, 0,
			"no %s: build the module with `make -C kmod/fastnet` and load it "
			"with `insmod kmod/fastnet/fastnet.ko` (this machine's kernel cannot "
			"load modules: `npm run test:vm` runs it in a VM)",
			FASTNET_DEVICE_PATH);
	return cb_fail(e, 0,
		       "no %s: build the module with `make -C kmod/fastnet` and load it with "
		       "`insmod kmod/fastnet/fastnet.ko`",
		       FASTNET_DEVICE_PATH);
}

static int check_version(int fd, struct cb_error *e)
{
	uint32_t version = 0;

	if (ioctl(fd, FASTNET_IOC_GET_VERSION, &version) != 0)
		return cb_fail(e, errno, "%s does not answer FASTNET_IOC_GET_VERSION",
			       FASTNET_DEVICE_PATH);
	if (version != FASTNET_ABI_VERSION)
		return cb_fail(e, 0,
			       "%s speaks fastnet ABI %u, capbench was built for ABI %u: rebuild "
			       "and reload kmod/fastnet",
			       FASTNET_DEVICE_PATH, version, (unsigned)FASTNET_ABI_VERSION);
	return 0;
}

int cb_fastnet_probe(struct cb_error *e)
{
	int fd = open(FASTNET_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return open_failed(errno, e);
	int rc = check_version(fd, e);
	close(fd);
	return rc;
}

static const char *mode_name(int mode)
{
	switch (mode) {
	case FASTNET_MODE_READ:
		return "READ";
	case FASTNET_MODE_RING:
		return "RING";
	case FASTNET_MODE_ZC:
		return "ZC";
	default:
		return "?";
	}
}

/* RING and ZC: the module's ring of slots, read the same way. */
static int ring_mode(int mode)
{
	return mode == FASTNET_MODE_RING || mode == FASTNET_MODE_ZC;
}

/* The name of ifname's driver (ethtool's), or "unknown". */
static void driver_name(const char *ifname, char *out, size_t n)
{
	struct ethtool_drvinfo info;
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(out, n, "unknown");
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	memset(&ifr, 0, sizeof(ifr));
	info.cmd = ETHTOOL_GDRVINFO;
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, sizeof(ifr.ifr_name) - 1));
	ifr.ifr_data = (char *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && info.driver[0])
		snprintf(out, n, "%.*s", (int)sizeof(info.driver), info.driver);
	close(fd);
}

/* What SET_MODE's (or CHECK_MODE's) errno err means for binding ifname in mode. Always -1. */
static int bind_failed(int fd, const char *ifname, int mode, uint32_t depth, int err,
		       struct cb_error *e)
{
	char driver[40];

	if (err == EBUSY)
		return cb_fail(e, err,
			       "bind fastnet to %s in %s mode: the interface is taken (another "
			       "fastnet file, or a bridge, bond or macvlan port)",
			       ifname, mode_name(mode));
	if (err == ENODEV)
		return cb_fail(e, err, "bind fastnet to %s: no such interface", ifname);
	if (mode != FASTNET_MODE_ZC)
		return cb_fail(e, err, "bind fastnet to %s in %s mode with depth %u", ifname,
			       mode_name(mode), depth);
	if (err == EOPNOTSUPP) {
		driver_name(ifname, driver, sizeof(driver));
		if (strcmp(driver, "e1000") == 0)
			return cb_fail(e, err,
				       "fastnet ZC on %s: this e1000 driver has no fastnet hook: "
				       "load capbench's patched e1000.ko (kmod/e1000) in its place",
				       ifname);
		return cb_fail(e, err,
			       "fastnet ZC on %s: its driver (%s) has no fastnet hook; only "
			       "capbench's patched e1000 (kmod/e1000) has one",
			       ifname, driver);
	}
	if (err == EMSGSIZE)
		return cb_fail(e, err,
			       "fastnet ZC on %s: the MTU is above what its driver takes in mode 3 "
			       "(e1000: 1500)",
			       ifname);
	/* A module from before ZC mode refuses it as an unknown mode, and CHECK_MODE with ENOTTY. */
	if (err == EINVAL && ioctl(fd, FASTNET_IOC_CHECK_MODE, NULL) != 0 && errno == ENOTTY)
		return cb_fail(e, err,
			       "fastnet ZC on %s: the loaded fastnet module predates ZC mode: "
			       "rebuild and reload kmod/fastnet",
			       ifname);
	return cb_fail(e, err, "bind fastnet to %s in ZC mode with depth %u", ifname, depth);
}

static int set_mode(struct cb_fastnet *s, int mode, uint32_t depth, struct cb_error *e)
{
	struct fastnet_mode_req req;

	memset(&req, 0, sizeof(req));
	memcpy(req.ifname, s->ifname, strlen(s->ifname));
	req.mode = (uint32_t)mode;
	req.depth = depth;
	if (ioctl(s->fd, FASTNET_IOC_SET_MODE, &req) == 0)
		return 0;
	return bind_failed(s->fd, s->ifname, mode, depth, errno, e);
}

static int map_ring(struct cb_fastnet *s, struct cb_error *e)
{
	struct fastnet_ring_info info;

	if (ioctl(s->fd, FASTNET_IOC_GET_RING, &info) != 0)
		return cb_fail(e, errno, "read fastnet ring geometry for %s", s->ifname);
	if (info.slot_size < info.frame_offset + 64u || info.slot_count == 0 ||
	    info.mmap_bytes < (uint64_t)info.slot_size * info.slot_count ||
	    info.mmap_bytes > UINT32_MAX)
		return cb_fail(e, EPROTO, "fastnet ring for %s: unusable geometry (%u slots of %u)",
			       s->ifname, info.slot_count, info.slot_size);
	void *ring =
		mmap(NULL, (size_t)info.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (ring == MAP_FAILED)
		return cb_fail(e, errno, "mmap fastnet ring of %llu bytes for %s",
			       (unsigned long long)info.mmap_bytes, s->ifname);
	s->ring = ring;
	s->ring_bytes = (size_t)info.mmap_bytes;
	s->slot_size = info.slot_size;
	s->slot_count = info.slot_count;
	s->frame_offset = info.frame_offset;
	s->depth = info.slot_count;
	return 0;
}

/* A name fastnet can bind: 0, or -1 with ENODEV. */
static int check_ifname(const char *ifname, struct cb_error *e)
{
	if (strlen(ifname) == 0 || strlen(ifname) >= IF_NAMESIZE ||
	    strlen(ifname) >= FASTNET_IFNAMSIZ)
		return cb_fail(e, ENODEV, "find interface '%s': not a valid interface name",
			       ifname);
	return 0;
}

static int check_mode_arg(const char *ifname, int mode, struct cb_error *e)
{
	if (mode != FASTNET_MODE_READ && !ring_mode(mode))
		return cb_fail(e, EINVAL, "open fastnet on %s: mode %d is not READ, RING or ZC",
			       ifname, mode);
	return 0;
}

int cb_fastnet_check(const char *ifname, int mode, struct cb_error *e)
{
	struct fastnet_mode_req req;

	if (check_ifname(ifname, e) < 0 || check_mode_arg(ifname, mode, e) < 0)
		return -1;
	int fd = open(FASTNET_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return open_failed(errno, e);
	int rc = check_version(fd, e);
	if (rc == 0) {
		memset(&req, 0, sizeof(req));
		memcpy(req.ifname, ifname, strlen(ifname));
		req.mode = (uint32_t)mode;
		if (ioctl(fd, FASTNET_IOC_CHECK_MODE, &req) != 0) {
			int err = errno;
			if (err == ENOTTY && mode != FASTNET_MODE_ZC)
				rc = 0; /* a module from before CHECK_MODE: SET_MODE will tell */
			else
				rc = bind_failed(fd, ifname, mode, 0, err == ENOTTY ? EINVAL : err,
						 e);
		}
	}
	close(fd);
	return rc;
}

int cb_fastnet_open(struct cb_fastnet *s, const char *ifname, int mode, uint32_t depth,
		    struct cb_error *e)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (check_ifname(ifname, e) < 0)
		return -1;
	memcpy(s->ifname, ifname, strlen(ifname) + 1);
	if (check_mode_arg(ifname, mode, e) < 0)
		return -1;
	if (depth > FASTNET_MAX_DEPTH)
		return cb_fail(e, EINVAL, "open fastnet on %s: depth %u above the module's %u",
			       ifname, depth, (unsigned)FASTNET_MAX_DEPTH);
	s->mode = mode;
	s->fd = open(FASTNET_DEVICE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0)
		return open_failed(errno, e);
	if (check_version(s->fd, e) < 0 || set_mode(s, mode, depth, e) < 0 ||
	    (ring_mode(mode) && map_ring(s, e) < 0)) {
		cb_fastnet_close(s);
		return -1;
	}
	if (mode == FASTNET_MODE_READ)
		s->depth = depth ? depth : FASTNET_DEFAULT_DEPTH;
	return 0;
}

void cb_fastnet_close(struct cb_fastnet *s)
{
	if (s->fd >= 0) {
		/* OFF first: a mapping that outlives the file would otherwise keep it bound. */
		struct fastnet_mode_req off;

		memset(&off, 0, sizeof(off));
		off.mode = FASTNET_MODE_OFF;
		(void)ioctl(s->fd, FASTNET_IOC_SET_MODE, &off);
	}
	if (s->ring && !s->ring_borrowed)
		munmap(s->ring, s->ring_bytes);
	s->ring = NULL;
	s->held = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->read_buf);
	s->read_buf = NULL;
}

/* ---- waiting ------------------------------------------------------------------------------ */

/* The module unbound the file (the interface went away): say why. Always -1. */
static int unbound(struct cb_fastnet *s, struct cb_error *e)
{
	struct fastnet_status st;

	if (ioctl(s->fd, FASTNET_IOC_GET_MODE, &st) != 0)
		return cb_fail(e, errno, "read fastnet status for %s", s->ifname);
	return cb_fail(e, st.error > 0 ? st.error : EIO,
		       "fastnet on %s: the module unbound the interface", s->ifname);
}

/* 1 when readable, 0 on timeout or a signal (JS should see it), -1 on error or when unbound. */
static int wait_or_unbound(struct cb_fastnet *s, int timeout_ms, struct cb_error *e)
{
	int w = cb_wait_readable(s->fd, timeout_ms, KIND, s->ifname, &s->calls, e);

	return w == CB_WAIT_HANGUP ? unbound(s, e) : w;
}

/* ---- READ -------------------------------------------------------------------------------- */

/* One read(); bytes copied, 0 when nothing is queued, -1 on error. */
static ssize_t read_frame(struct cb_fastnet *s, uint8_t *buf, size_t buflen, struct cb_error *e)
{
	ssize_t n = read(s->fd, buf, buflen);

	s->calls.syscalls++;
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	return cb_fail(e, errno, "read fastnet on %s", s->ifname);
}

int cb_fastnet_read_one(struct cb_fastnet *s, uint8_t *buf, size_t buflen, uint32_t *table,
			int timeout_ms, struct cb_error *e)
{
	if (s->mode != FASTNET_MODE_READ)
		return cb_fail(e, EINVAL, "readOne on fastnet %s: the handle is in %s mode",
			       s->ifname, mode_name(s->mode));
	if (buflen < CB_FASTNET_MIN_READ)
		return cb_fail(e, EINVAL, "readOne on fastnet %s: buffer of %zu bytes is below %u",
			       s->ifname, buflen, CB_FASTNET_MIN_READ);
	if (buflen > UINT32_MAX)
		buflen = UINT32_MAX;
	ssize_t n = read_frame(s, buf, buflen, e);
	if (n == 0) {
		int w = wait_or_unbound(s, timeout_ms, e);
		if (w <= 0)
			return w;
		n = read_frame(s, buf, buflen, e);
	}
	if (n <= 0)
		return (int)n;
	table[0] = 0;
	table[1] = (uint32_t)n;
	return 1;
}

/* The native READ step: one read(), counted. */
static int take_read(void *self, uint32_t want, struct cb_count *out, struct cb_error *e)
{
	struct cb_fastnet *s = self;
	ssize_t n = read_frame(s, s->read_buf, CB_FASTNET_READ_BUF, e);

	(void)want;
	if (n <= 0)
		return (int)n;
	out->received++;
	out->ipv4 += (uint64_t)cb_do_something(s->read_buf, (uint32_t)n);
	return 1;
}

static int hangup(void *self, struct cb_error *e)
{
	return unbound(self, e);
}

static const struct cb_step READ_STEP = {
	.take = take_read,
	.hangup = hangup,
	.kind = KIND,
	.frames_per_clock = CB_FRAMES_PER_CLOCK_SYSCALL,
};

/* ---- RING and ZC ------------------------------------------------------------------------- */

static struct fastnet_slot *slot_at(const struct cb_fastnet *s, uint32_t i)
{
	return (struct fastnet_slot *)(s->ring + (size_t)i * s->slot_size);
}

/* Acquire: the frame and lengths the module wrote before READY are visible after it. */
static int slot_ready(const struct fastnet_slot *slot)
{
	return __atomic_load_n(&slot->status, __ATOMIC_ACQUIRE) == FASTNET_SLOT_READY;
}

/* Release: our reads of the slot are done before the module may see it FREE and refill it. */
static void slot_free(struct fastnet_slot *slot)
{
	__atomic_store_n(&slot->status, FASTNET_SLOT_FREE, __ATOMIC_RELEASE);
}

/* ZC: a READY slot with no frame in it, to hand back without counting. */
static int slot_discarded(const struct fastnet_slot *slot)
{
	return (slot->flags & FASTNET_FRAME_DISCARDED) != 0;
}

/* The frame length in a READY slot, never past the slot whatever the mapping says. */
static uint32_t slot_len(const struct cb_fastnet *s, const struct fastnet_slot *slot)
{
	uint32_t len = slot->len, room = s->slot_size - s->frame_offset;

	return len < room ? len : room;
}

static uint32_t collect_slots(struct cb_fastnet *s, uint32_t *table, uint32_t max_frames)
{
	uint32_t n = 0;

	while (n < max_frames && s->held < s->slot_count) {
		uint32_t i = (s->tail + s->held) % s->slot_count;
		const struct fastnet_slot *slot = slot_at(s, i);

		if (!slot_ready(slot))
			break;
		s->held++;
		if (slot_discarded(slot))
			continue;
		table[2 * n] = i * s->slot_size + s->frame_offset;
		table[2 * n + 1] = slot_len(s, slot);
		n++;
	}
	return n;
}

int cb_fastnet_next_slots(struct cb_fastnet *s, uint32_t *table, uint32_t max_frames,
			  int timeout_ms, struct cb_error *e)
{
	if (!ring_mode(s->mode) || !s->ring)
		return cb_fail(e, EINVAL, "nextSlots on fastnet %s: the handle is in READ mode",
			       s->ifname);
	/* Discarded slots at the front go back at once: they must not keep a batch from ending. */
	if (s->held == 0)
		while (slot_ready(slot_at(s, s->tail)) && slot_discarded(slot_at(s, s->tail))) {
			slot_free(slot_at(s, s->tail));
			s->tail = s->tail + 1 == s->slot_count ? 0 : s->tail + 1;
		}
	uint32_t n = collect_slots(s, table, max_frames);
	if (n > 0 || max_frames == 0)
		return (int)n;
	int w = wait_or_unbound(s, timeout_ms, e);
	if (w <= 0)
		return w;
	return (int)collect_slots(s, table, max_frames);
}

void cb_fastnet_release_slots(struct cb_fastnet *s)
{
	if (!s->ring)
		return;
	for (; s->held > 0; s->held--) {
		slot_free(slot_at(s, s->tail));
		s->tail = s->tail + 1 == s->slot_count ? 0 : s->tail + 1;
	}
}

/* The native RING and ZC step: the ready slots at the tail, counted in place and freed. */
static int take_ring(void *self, uint32_t want, struct cb_count *out, struct cb_error *e)
{
	struct cb_fastnet *s = self;
	uint32_t n = 0;

	(void)e;
	while (n < want) {
		struct fastnet_slot *slot = slot_at(s, s->tail);

		if (!slot_ready(slot))
			break;
		if (!slot_discarded(slot)) {
			out->ipv4 += (uint64_t)cb_do_something(
				(const uint8_t *)slot + s->frame_offset, slot_len(s, slot));
			n++;
		}
		slot_free(slot);
		s->tail = s->tail + 1 == s->slot_count ? 0 : s->tail + 1;
	}
	out->received += n;
	return (int)n;
}

static int tail_ready(const void *self)
{
	const struct cb_fastnet *s = self;

	return slot_ready(slot_at(s, s->tail));
}

static const struct cb_step RING_STEP = {
	.take = take_ring,
	.ready = tail_ready,
	.hangup = hangup,
	.kind = KIND,
	.frames_per_clock = CB_FRAMES_PER_CLOCK_RING,
};

int cb_fastnet_consume(struct cb_fastnet *s, const struct cb_slice *slice, struct cb_count *out,
		       struct cb_error *e)
{
	if (ring_mode(s->mode)) {
		if (s->held > 0)
			return cb_fail(e, EBUSY,
				       "consumeNative on fastnet %s: %u slots from nextSlots() are "
				       "not released",
				       s->ifname, s->held);
		return cb_slice_loop(&RING_STEP, s,
				     (struct cb_waitable){ s->fd, s->ifname, &s->calls }, RING_TAKE,
				     slice, out, e);
	}
	if (!s->read_buf) {
		s->read_buf = malloc(CB_FASTNET_READ_BUF);
		if (!s->read_buf)
			return cb_fail(e, ENOMEM,
				       "allocate a %u-byte read buffer for fastnet on %s",
				       CB_FASTNET_READ_BUF, s->ifname);
	}
	return cb_slice_loop(&READ_STEP, s, (struct cb_waitable){ s->fd, s->ifname, &s->calls }, 1,
			     slice, out, e);
}

int cb_fastnet_stats(struct cb_fastnet *s, struct fastnet_stats *out, struct cb_error *e)
{
	memset(out, 0, sizeof(*out));
	if (ioctl(s->fd, FASTNET_IOC_GET_STATS, out) == 0)
		return 0;
	/* A module from before the tx fields knows only the first size: the receive counts. */
	if (errno == ENOTTY && ioctl(s->fd, FASTNET_IOC_GET_STATS_V1, out) == 0)
		return 0;
	return cb_fail(e, errno, "read fastnet statistics for %s", s->ifname);
}

int cb_fastnet_nic_stats(struct cb_fastnet *s, struct fastnet_nic_stats *out, struct cb_error *e)
{
	if (ioctl(s->fd, FASTNET_IOC_GET_NIC_STATS, out) != 0)
		return cb_fail(e, errno, "read the NIC's drop counters for fastnet ZC on %s",
			       s->ifname);
	return 0;
}
