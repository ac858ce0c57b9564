/*
 * Checks of the fastnet kernel module itself, run as root inside the test VM (test/vm/run-vm.sh)
 * with fastnet.ko loaded: every mode and its errors, EBUSY cases, read() with short buffers,
 * blocking and non-blocking reads, poll(), the ring and its hand-over, an interface deleted while
 * bound, unloading while a reader sleeps, and a DROP-mode soak that must not grow the kernel's
 * allocations; and the INJECT modes: frame lengths, FASTNET_IOC_SEND batches and their errors,
 * exact counts against the veth's own counters, a qdisc's refusals, netif_rx() injection, files
 * sharing an interface, the interface gone, the caller's namespace, memory back. Traffic goes
 * only between veth pairs named cbfn* that this program creates and deletes, and, for ZC mode
 * (mode 3), from a second NIC to an e1000 driven by capbench's patched driver (--zc-cap): frames
 * whole and in order in the slots, a full ring, back to OFF, close with frames in flight, the
 * interface down and up, its ring resized, the device unbound, the driver unloaded, and a soak.
 *
 * Output is TAP: "ok N - name" / "not ok N - name", diagnostics on "# " lines; a test that
 * cannot run here says "ok N - name # SKIP why". Exit status 0 when every check passed.
 *
 * Usage: fastnet-check [--soak-frames N] [--soak-repeat N] [--soak-only] [--only TEXT]
 *                      [--zc-cap IF --zc-gen IF --zc-driver KO --zc-setup CMD] [--after-unload]
 *   --soak-frames N  frames for the DROP-mode soak (default 1000000)
 *   --soak-repeat N  runs of the READ/RING soak and of the ZC soak, each its own TAP test
 *                    (default 1): a stress check for races that show once in many runs
 *   --soak-only      only those soaks, so that many runs of them stay cheap
 *   --only TEXT      only the tests whose name contains TEXT (for debugging)
 *   --zc-cap IF      the NIC whose driver has fastnet's ZC hook (the VM's e1000)
 *   --zc-gen IF      a NIC on the same link that sends to it (the VM's virtio-net)
 *   --zc-driver KO   that driver's module file, to load again after a test unloads it
 *   --zc-setup CMD   a command that names both NICs again and makes them silent (the driver's
 *                    interface comes back under a kernel name after an unbind or a reload)
 *   --after-unload   only check that --zc-cap works with the stack (fastnet is unloaded)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fastnet_uapi.h"

/* ---- a small TAP harness -------------------------------------------------------------------- */

static int tests_run, tests_failed;
static int current_failed;
static const char *current_skip;	/* set by a test that cannot run here: why */
static const char *only;		/* --only */

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			diag("%s:%d: check failed: %s", __FILE__, __LINE__, #cond); \
			diag(__VA_ARGS__);                                        \
			current_failed = 1;                                       \
		}                                                                 \
	} while (0)

/* A check whose failure makes the rest of the test meaningless. */
#define REQUIRE(cond, ...)                                                        \
	do {                                                                      \
		if (!(cond)) {                                                    \
			diag("%s:%d: required: %s", __FILE__, __LINE__, #cond);  \
			diag(__VA_ARGS__);                                        \
			current_failed = 1;                                       \
			return;                                                   \
		}                                                                 \
	} while (0)

static void run_test(const char *name, void (*fn)(void))
{
	if (only && !strstr(name, only))
		return;
	current_failed = 0;
	current_skip = NULL;
	fn();
	tests_run++;
	if (current_failed)
		tests_failed++;
	if (current_skip && !current_failed)
		printf("ok %d - %s # SKIP %s\n", tests_run, name, current_skip);
	else
		printf("%s %d - %s\n", current_failed ? "not ok" : "ok", tests_run, name);
	fflush(stdout);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		diag("command failed (%d): %s", rc, cmd);
	return rc;
}

/* A silent veth pair: no IPv6, no ARP, so only what we send crosses it. */
static int make_veth(const char *a, const char *b)
{
	sh("ip link del %s >/dev/null 2>&1", a);
	if (sh("ip link add %s type veth peer name %s", a, b))
		return -1;
	const char *names[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		if (sh("sysctl -q -w net.ipv6.conf.%s.disable_ipv6=1", names[i]) ||
		    sh("ip link set dev %s addrgenmode none arp off up", names[i]))
			return -1;
	}
	return 0;
}

static void del_veth(const char *a)
{
	if (if_nametoindex(a))
		sh("timeout 30 ip link del %s", a);
}

static int dev_open(int flags)
{
	int fd = open(FASTNET_DEVICE_PATH, O_RDWR | O_CLOEXEC | flags);

	if (fd < 0)
		diag("open %s: %s", FASTNET_DEVICE_PATH, strerror(errno));
	return fd;
}

/* SET_MODE; 0 or the errno. */
/* SET_MODE or CHECK_MODE with this request; 0 or the errno. A 16-byte name goes in unterminated. */
static int mode_ioctl(int fd, unsigned long cmd, const char *ifname, uint32_t mode, uint32_t depth)
{
	struct fastnet_mode_req req;

	memset(&req, 0, sizeof(req));
	if (ifname)
		memcpy(req.ifname, ifname, strnlen(ifname, sizeof(req.ifname)));
	req.mode = mode;
	req.depth = depth;
	return ioctl(fd, cmd, &req) == 0 ? 0 : errno;
}

static int set_mode(int fd, const char *ifname, uint32_t mode, uint32_t depth)
{
	return mode_ioctl(fd, FASTNET_IOC_SET_MODE, ifname, mode, depth);
}

static struct fastnet_stats stats(int fd)
{
	struct fastnet_stats st;

	memset(&st, 0xff, sizeof(st));
	if (ioctl(fd, FASTNET_IOC_GET_STATS, &st) != 0)
		diag("GET_STATS: %s", strerror(errno));
	return st;
}

static struct fastnet_status status(int fd)
{
	struct fastnet_status st;

	memset(&st, 0, sizeof(st));
	if (ioctl(fd, FASTNET_IOC_GET_MODE, &st) != 0)
		diag("GET_MODE: %s", strerror(errno));
	return st;
}

/*
 * Whether the module has finished with every frame it took. It counts a frame received when its
 * rx_handler starts and in one of the others before that returns (kmod/fastnet/rx.c), so any
 * other count compared with received, or with what was sent, is only settled when this holds.
 */
static int accounted(const struct fastnet_stats *st)
{
	return st->received == st->delivered + st->dropped + st->discarded + st->queued;
}

/*
 * Waits until the module has taken at least `want` frames and accounted() for all it took, and
 * leaves those stats in *st; false after timeout_ms, with *st the last ones read.
 */
static int wait_accounted(int fd, uint64_t want, unsigned timeout_ms, struct fastnet_stats *st)
{
	uint64_t end = now_ms() + timeout_ms;

	for (;;) {
		*st = stats(fd);
		if (st->received >= want && accounted(st))
			return 1;
		if (now_ms() > end) {
			diag("waited %u ms for %llu frames accounted for: received %llu, delivered %llu + "
			     "dropped %llu + discarded %llu + queued %llu",
			     timeout_ms, (unsigned long long)want, (unsigned long long)st->received,
			     (unsigned long long)st->delivered, (unsigned long long)st->dropped,
			     (unsigned long long)st->discarded, (unsigned long long)st->queued);
			return 0;
		}
		sleep_ms(5);
	}
}

/* Waits until the module has taken exactly `want` frames and accounted for them all. */
static int wait_received(int fd, uint64_t want, unsigned timeout_ms)
{
	struct fastnet_stats st;

	if (!wait_accounted(fd, want, timeout_ms, &st))
		return 0;
	if (st.received != want)
		diag("module has %llu frames, expected %llu", (unsigned long long)st.received,
		     (unsigned long long)want);
	return st.received == want;
}

/* received = delivered + dropped + discarded + queued, whatever happened, once settled. */
static void check_accounting(int fd)
{
	struct fastnet_stats st;

	CHECK(wait_accounted(fd, 0, 5000, &st), "frames unaccounted for");
}

/* ---- frames -------------------------------------------------------------------------------- */

struct sender {
	int fd;
	int ifindex;
};

static int sender_open(struct sender *s, const char *ifname)
{
	struct sockaddr_ll sll;
	int one = 1;

	s->ifindex = (int)if_nametoindex(ifname);
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || !s->ifindex) {
		diag("sender on %s: %s", ifname, strerror(errno));
		return -1;
	}
	setsockopt(s->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = s->ifindex;
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		diag("bind sender to %s: %s", ifname, strerror(errno));
		return -1;
	}
	return 0;
}

static void sender_close(struct sender *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/*
 * Builds a frame of len bytes: IPv4 ethertype (or an 802.1Q tag with vid 100 in front of it),
 * the sequence number after the Ethernet header, the rest a pattern derived from it.
 */
static size_t make_frame(uint8_t *buf, size_t len, uint32_t seq, int vlan)
{
	static const uint8_t dst[6] = { 0x02, 0xcb, 0xf0, 0x00, 0x00, 0x01 };
	static const uint8_t src[6] = { 0x02, 0xcb, 0xf0, 0x00, 0x00, 0x02 };
	size_t off = 12;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (vlan) {
		buf[off++] = 0x81;
		buf[off++] = 0x00;
		buf[off++] = 0x20; /* priority 1 */
		buf[off++] = 0x64; /* vid 100 */
	}
	buf[off++] = 0x08;
	buf[off++] = 0x00;
	memcpy(buf + off, &seq, sizeof(seq));
	off += sizeof(seq);
	for (size_t i = off; i < len; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
	return len;
}

static int send_frame(struct sender *s, const uint8_t *frame, size_t len)
{
	ssize_t n = send(s->fd, frame, len, 0);

	if (n != (ssize_t)len) {
		diag("send %zu bytes: %s", len, n < 0 ? strerror(errno) : "short");
		return -1;
	}
	return 0;
}

static int send_seq(struct sender *s, uint32_t first, uint32_t count, size_t len, int vlan)
{
	uint8_t frame[9000];

	for (uint32_t i = 0; i < count; i++) {
		make_frame(frame, len, first + i, vlan);
		if (send_frame(s, frame, len))
			return -1;
	}
	return 0;
}

static uint32_t frame_seq(const uint8_t *frame)
{
	uint32_t seq;
	size_t off = (frame[12] == 0x81 && frame[13] == 0x00) ? 18 : 14;

	memcpy(&seq, frame + off, sizeof(seq));
	return seq;
}

/* ---- the interfaces under test ------------------------------------------------------------- */

#define CAP "cbfn0"   /* capture end: fastnet binds here */
#define GEN "cbfn1"   /* generator end */
#define CAP2 "cbfn2"
#define GEN2 "cbfn3"

static struct sender gen;

/* ---- tests --------------------------------------------------------------------------------- */

static void t_version_and_initial_state(void)
{
	int fd = dev_open(0);
	uint32_t version = 0;

	REQUIRE(fd >= 0, "no device");
	CHECK(ioctl(fd, FASTNET_IOC_GET_VERSION, &version) == 0, "GET_VERSION: %s", strerror(errno));
	CHECK(version == FASTNET_ABI_VERSION, "version %u", version);
	struct fastnet_status st = status(fd);
	CHECK(st.mode == FASTNET_MODE_OFF && st.error == 0 && st.ifname[0] == 0,
	      "fresh file: mode %u error %d ifname '%s'", st.mode, st.error, st.ifname);
	struct fastnet_stats s = stats(fd);
	CHECK(s.received == 0 && s.delivered == 0 && s.dropped == 0, "fresh stats not zero");
	close(fd);
}

static void t_bad_requests(void)
{
	int fd = dev_open(O_NONBLOCK);
	uint8_t buf[64];

	REQUIRE(fd >= 0, "no device");
	CHECK(set_mode(fd, CAP, FASTNET_MODE_INJECT_RX + 1, 0) == EINVAL, "mode 7 accepted");
	CHECK(set_mode(fd, CAP, FASTNET_MODE_READ, FASTNET_MAX_DEPTH + 1) == EINVAL,
	      "depth above max accepted");
	CHECK(set_mode(fd, "", FASTNET_MODE_DROP, 0) == EINVAL, "empty name accepted");
	CHECK(set_mode(fd, "cbfnnothere", FASTNET_MODE_DROP, 0) == ENODEV, "missing iface");
	CHECK(set_mode(fd, "lo", FASTNET_MODE_DROP, 0) == EINVAL, "loopback accepted");
	{
		struct fastnet_mode_req req;

		memset(&req, 'x', sizeof(req.ifname));
		req.mode = FASTNET_MODE_DROP;
		req.depth = 0;
		CHECK(ioctl(fd, FASTNET_IOC_SET_MODE, &req) != 0 && errno == EINVAL,
		      "unterminated name: %s", strerror(errno));
	}
	CHECK(ioctl(fd, _IO(FASTNET_IOC_MAGIC, 99)) != 0 && errno == ENOTTY, "unknown ioctl");
	struct fastnet_ring_info info;
	CHECK(ioctl(fd, FASTNET_IOC_GET_RING, &info) != 0 && errno == EINVAL, "GET_RING when OFF");
	uint32_t limit = 10;
	CHECK(ioctl(fd, FASTNET_IOC_SET_LIMIT, &limit) != 0 && errno == EINVAL, "SET_LIMIT when OFF");
	void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m == MAP_FAILED && errno == EINVAL, "mmap when OFF");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	CHECK(read(fd, buf, sizeof(buf)) < 0 && errno == EINVAL, "read when OFF: %s",
	      strerror(errno));
	CHECK(write(fd, buf, sizeof(buf)) < 0, "write accepted");
	CHECK(set_mode(fd, NULL, FASTNET_MODE_OFF, 0) == 0, "OFF when OFF");
	CHECK(lseek(fd, 0, SEEK_SET) < 0 && errno == ESPIPE, "lseek");
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK(poll(&p, 1, 0) == 0, "poll on an unbound file says %#x", p.revents);
	close(fd);
}

static void t_drop_mode(void)
{
	int fd = dev_open(0);

	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_DROP, 0) == 0, "bind DROP");
	struct fastnet_status st = status(fd);
	CHECK(st.mode == FASTNET_MODE_DROP && strcmp(st.ifname, CAP) == 0, "status %u %s", st.mode,
	      st.ifname);
	REQUIRE(send_seq(&gen, 0, 100, 60, 0) == 0, "send");
	CHECK(wait_received(fd, 100, 5000), "100 frames");
	struct fastnet_stats s = stats(fd);
	CHECK(s.discarded == 100 && s.delivered == 0 && s.dropped == 0, "discarded %llu",
	      (unsigned long long)s.discarded);
	uint8_t buf[64];
	CHECK(read(fd, buf, sizeof(buf)) < 0 && errno == EINVAL, "read in DROP mode");
	check_accounting(fd);
	close(fd);
}

static void t_busy(void)
{
	int a = dev_open(0), b = dev_open(0), c = -1;

	REQUIRE(a >= 0 && b >= 0, "no device");
	REQUIRE(set_mode(a, CAP, FASTNET_MODE_DROP, 0) == 0, "bind a");
	CHECK(set_mode(b, CAP, FASTNET_MODE_READ, 0) == EBUSY, "second file on one interface");
	CHECK(set_mode(a, CAP2, FASTNET_MODE_DROP, 0) == EBUSY, "second interface on one file");
	CHECK(set_mode(b, CAP2, FASTNET_MODE_DROP, 0) == 0, "b takes another interface");
	CHECK(set_mode(a, CAP, FASTNET_MODE_READ, 8) == 0, "mode change on the bound interface");
	CHECK(status(a).mode == FASTNET_MODE_READ && status(a).depth == 8, "a in READ, depth 8");
	CHECK(set_mode(b, CAP, FASTNET_MODE_READ, 0) == EBUSY, "b still cannot take it");
	CHECK(set_mode(a, NULL, FASTNET_MODE_OFF, 0) == 0, "a OFF");
	CHECK(set_mode(b, CAP, FASTNET_MODE_READ, 0) == EBUSY, "b is bound to " CAP2);
	CHECK(set_mode(b, NULL, FASTNET_MODE_OFF, 0) == 0, "b OFF");
	CHECK(set_mode(b, CAP, FASTNET_MODE_READ, 0) == 0, "b takes the freed interface");
	close(b);
	/* Closing turned it OFF: a third file can have it. */
	c = dev_open(0);
	CHECK(c >= 0 && set_mode(c, CAP, FASTNET_MODE_RING, 16) == 0, "closing released it");
	/* Another rx_handler owner (a bridge port) makes it busy too. */
	close(c);
	if (sh("ip link add cbfnbr0 type bridge 2>/dev/null") == 0) {
		if (sh("ip link set dev " CAP2 " master cbfnbr0") == 0)
			CHECK(set_mode(a, CAP2, FASTNET_MODE_DROP, 0) == EBUSY, "bridge port");
		sh("ip link del cbfnbr0");
	} else {
		diag("no bridge support: skipped the bridge-port case");
	}
	close(a);
}

static void t_read_basics(void)
{
	int fd = dev_open(O_NONBLOCK);
	uint8_t frame[2048], buf[2048];
	static const size_t lens[] = { 60, 100, 1514 };

	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_READ, 64) == 0, "bind READ");
	CHECK(read(fd, buf, sizeof(buf)) < 0 && errno == EAGAIN, "empty non-blocking read: %s",
	      strerror(errno));
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK(poll(&p, 1, 0) == 0, "poll on an empty queue");
	for (unsigned i = 0; i < 3; i++)
		REQUIRE(send_seq(&gen, i, 1, lens[i], 0) == 0, "send");
	REQUIRE(send_seq(&gen, 3, 1, 200, 1) == 0, "send vlan");
	CHECK(wait_received(fd, 4, 5000), "4 frames");
	CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLIN), "poll says readable");
	CHECK(stats(fd).queued == 4, "4 queued");
	for (unsigned i = 0; i < 4; i++) {
		int vlan = i == 3;
		size_t len = vlan ? 200 : lens[i];
		struct fastnet_last_read last;

		make_frame(frame, len, i, vlan);
		memset(buf, 0, sizeof(buf));
		ssize_t n = read(fd, buf, sizeof(buf));
		CHECK(n == (ssize_t)len, "frame %u: read %zd, sent %zu", i, n, len);
		CHECK(n > 0 && memcmp(buf, frame, (size_t)n) == 0, "frame %u differs from what was sent", i);
		CHECK(ioctl(fd, FASTNET_IOC_LAST_READ, &last) == 0 && last.wire_len == len &&
		      last.copied == len && last.flags == (vlan ? FASTNET_FRAME_VLAN : 0),
		      "LAST_READ %u/%u flags %#x", last.wire_len, last.copied, last.flags);
	}
	CHECK(buf[12] == 0x81 && buf[13] == 0x00, "VLAN tag back at bytes 12-13");
	CHECK(read(fd, buf, sizeof(buf)) < 0 && errno == EAGAIN, "queue empty again");
	struct fastnet_stats s = stats(fd);
	CHECK(s.delivered == 4 && s.queued == 0 && s.truncated == 0, "delivered %llu",
	      (unsigned long long)s.delivered);
	check_accounting(fd);
	close(fd);
}

static void t_read_short_buffers(void)
{
	int fd = dev_open(O_NONBLOCK);
	uint8_t frame[256], buf[256];
	struct fastnet_last_read last;

	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_READ, 64) == 0, "bind READ");
	REQUIRE(send_seq(&gen, 10, 1, 100, 0) == 0, "send");
	REQUIRE(wait_received(fd, 1, 5000), "frame");
	CHECK(read(fd, buf, 0) == 0, "0-byte read returns 0");
	CHECK(stats(fd).queued == 1, "0-byte read takes nothing");
	memset(buf, 0xee, sizeof(buf));
	make_frame(frame, 100, 10, 0);
	CHECK(read(fd, buf, 10) == 10, "10-byte read returns 10");
	CHECK(memcmp(buf, frame, 10) == 0 && buf[10] == 0xee, "first 10 bytes, nothing past them");
	CHECK(ioctl(fd, FASTNET_IOC_LAST_READ, &last) == 0 && last.wire_len == 100 &&
	      last.copied == 10 && (last.flags & FASTNET_FRAME_TRUNCATED),
	      "LAST_READ says truncated: %u/%u %#x", last.wire_len, last.copied, last.flags);
	CHECK(read(fd, buf, sizeof(buf)) < 0 && errno == EAGAIN, "the rest was discarded");
	CHECK(stats(fd).truncated == 1, "truncated counted");

	/* A VLAN frame cut inside and around the tag that is put back. */
	static const size_t cuts[] = { 11, 12, 13, 14, 16, 17, 60 };
	for (unsigned i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		REQUIRE(send_seq(&gen, 20 + i, 1, 80, 1) == 0, "send vlan");
		REQUIRE(wait_received(fd, 2 + i, 5000), "vlan frame");
		make_frame(frame, 80, 20 + i, 1);
		memset(buf, 0xee, sizeof(buf));
		ssize_t n = read(fd, buf, cuts[i]);
		CHECK(n == (ssize_t)cuts[i] && memcmp(buf, frame, cuts[i]) == 0 &&
		      buf[cuts[i]] == 0xee, "vlan frame cut at %zu: %zd", cuts[i], n);
	}
	/* readv() split across the tag. */
	REQUIRE(send_seq(&gen, 40, 1, 120, 1) == 0, "send vlan");
	REQUIRE(wait_received(fd, 9, 5000), "vlan frame");
	make_frame(frame, 120, 40, 1);
	memset(buf, 0, sizeof(buf));
	struct iovec iov[3] = { { buf, 13 }, { buf + 13, 2 }, { buf + 15, 200 } };
	CHECK(readv(fd, iov, 3) == 120 && memcmp(buf, frame, 120) == 0, "readv across the tag");
	/* A bad buffer: EFAULT, the frame is dropped and counted. */
	REQUIRE(send_seq(&gen, 41, 1, 60, 0) == 0, "send");
	REQUIRE(wait_received(fd, 10, 5000), "frame");
	long rc = syscall(SYS_read, fd, (void *)8, 60);
	int err = errno;
	CHECK(rc < 0 && err == EFAULT, "read into a bad buffer: %ld %s, queued %llu", rc,
	      strerror(err), (unsigned long long)stats(fd).queued);
	CHECK(stats(fd).queued == 0, "bad-buffer frame gone");
	check_accounting(fd);
	close(fd);
}

static void t_read_bound(void)
{
	int fd = dev_open(O_NONBLOCK);
	uint8_t buf[256];

	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_READ, 8) == 0, "bind READ depth 8");
	REQUIRE(send_seq(&gen, 100, 20, 64, 0) == 0, "send");
	CHECK(wait_received(fd, 20, 5000), "20 frames");
	struct fastnet_stats s = stats(fd);
	CHECK(s.queued == 8 && s.dropped == 12 && s.full == 12, "queued %llu dropped %llu full %llu",
	      (unsigned long long)s.queued, (unsigned long long)s.dropped,
	      (unsigned long long)s.full);
	for (uint32_t i = 0; i < 8; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));

		CHECK(n == 64 && frame_seq(buf) == 100 + i, "frame %u in order: seq %u", i,
		      n > 0 ? frame_seq(buf) : 0);
	}
	uint32_t limit = 30;
	CHECK(ioctl(fd, FASTNET_IOC_SET_LIMIT, &limit) == 0, "SET_LIMIT 30");
	limit = 0;
	CHECK(ioctl(fd, FASTNET_IOC_SET_LIMIT, &limit) != 0 && errno == EINVAL, "SET_LIMIT 0");
	REQUIRE(send_seq(&gen, 200, 20, 64, 0) == 0, "send");
	CHECK(wait_received(fd, 40, 5000), "40 frames");
	CHECK(stats(fd).queued == 20 && stats(fd).full == 12, "all 20 queued under the new bound");
	/* Frames still queued when the mode changes are dropped and counted. */
	CHECK(set_mode(fd, CAP, FASTNET_MODE_DROP, 0) == 0, "READ -> DROP");
	s = stats(fd);
	CHECK(s.queued == 0 && s.dropped == 32, "queued frames counted dropped: %llu",
	      (unsigned long long)s.dropped);
	check_accounting(fd);
	close(fd);
}

struct reader_arg {
	int fd;
	size_t buflen;
	ssize_t n;
	int err;
	uint8_t buf[2048];
	volatile int done;
};

static void *blocking_reader(void *p)
{
	struct reader_arg *a = p;

	a->n = read(a->fd, a->buf, a->buflen);
	a->err = a->n < 0 ? errno : 0;
	a->done = 1;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int wait_done(volatile int *done, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	while (!*done && now_ms() < end)
		sleep_ms(5);
	return *done;
}

static void t_blocking_read_and_poll(void)
{
	int fd = dev_open(0);
	struct reader_arg a = { .fd = fd, .buflen = 2048 };
	pthread_t t;

	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_READ, 64) == 0, "bind READ");
	pthread_create(&t, NULL, blocking_reader, &a);
	sleep_ms(300);
	CHECK(!a.done, "blocking read returned with nothing queued");
	REQUIRE(send_seq(&gen, 7, 1, 90, 0) == 0, "send");
	CHECK(wait_done(&a.done, 5000), "blocking read woke up");
	pthread_join(t, NULL);
	CHECK(a.n == 90 && frame_seq(a.buf) == 7, "blocking read got the frame: %zd", a.n);

	/* A signal interrupts a sleeping read (no SA_RESTART): EINTR, the file still works. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	memset(&a, 0, sizeof(a));
	a.fd = fd;
	a.buflen = 2048;
	pthread_create(&t, NULL, blocking_reader, &a);
	sleep_ms(300);
	pthread_kill(t, SIGUSR1);
	CHECK(wait_done(&a.done, 5000), "signal ended the read");
	pthread_join(t, NULL);
	CHECK(a.n < 0 && a.err == EINTR, "EINTR: %zd %s", a.n, strerror(a.err));

	/* poll() sleeps until a frame comes. */
	int nfd = dev_open(O_NONBLOCK);
	REQUIRE(nfd >= 0, "no device");
	REQUIRE(set_mode(fd, NULL, FASTNET_MODE_OFF, 0) == 0 &&
		set_mode(nfd, CAP, FASTNET_MODE_READ, 64) == 0, "rebind non-blocking");
	struct pollfd p = { .fd = nfd, .events = POLLIN };
	uint64_t t0 = now_ms();
	CHECK(poll(&p, 1, 300) == 0 && now_ms() - t0 >= 250, "poll waits");
	if (fork() == 0) {
		sleep_ms(200);
		send_seq(&gen, 8, 1, 60, 0);
		_exit(0);
	}
	CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "poll woken by a frame");
	CHECK(read(nfd, a.buf, sizeof(a.buf)) == 60, "then read");
	while (wait(NULL) > 0)
		;
	check_accounting(nfd);
	close(nfd);
	close(fd);
}

/* ---- RING ------------------------------------------------------------------------------------ */

struct ring {
	uint8_t *base;
	struct fastnet_ring_info info;
};

static struct fastnet_slot *slot_at(struct ring *r, uint32_t i)
{
	return (struct fastnet_slot *)(r->base + (size_t)i * r->info.slot_size);
}

static int map_ring(int fd, struct ring *r)
{
	if (ioctl(fd, FASTNET_IOC_GET_RING, &r->info) != 0) {
		diag("GET_RING: %s", strerror(errno));
		return -1;
	}
	r->base = mmap(NULL, r->info.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->base == MAP_FAILED) {
		diag("mmap: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static uint32_t status_of(struct fastnet_slot *s)
{
	return __atomic_load_n(&s->status, __ATOMIC_ACQUIRE);
}

static void release(struct fastnet_slot *s)
{
	__atomic_store_n(&s->status, FASTNET_SLOT_FREE, __ATOMIC_RELEASE);
}

/*
 * Waits until `count` slots from `first` on are READY. The module counts a slot delivered just
 * before it publishes it, so a test that looks into slots waits for them, not for the counts.
 */
static int wait_ready(struct ring *r, uint32_t first, uint32_t count, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	for (uint32_t k = 0; k < count; k++) {
		uint32_t i = (first + k) % r->info.slot_count;

		while (status_of(slot_at(r, i)) != FASTNET_SLOT_READY) {
			if (now_ms() > end) {
				diag("slot %u not READY after %u ms: status %u", i, timeout_ms,
				     status_of(slot_at(r, i)));
				return 0;
			}
			sleep_ms(1);
		}
	}
	return 1;
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void t_ring(void)
{
	int fd = dev_open(O_NONBLOCK);
	struct ring r;
	uint8_t frame[2048];

	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_RING, 16) == 0, "bind RING 16");
	REQUIRE(ioctl(fd, FASTNET_IOC_GET_RING, &r.info) == 0, "GET_RING");
	CHECK(r.info.slot_size == FASTNET_SLOT_SIZE && r.info.slot_count == 16 &&
	      r.info.frame_offset == FASTNET_SLOT_FRAME_OFFSET &&
	      r.info.max_frame == FASTNET_SLOT_MAX_FRAME && r.info.mmap_bytes == 16 * 2048,
	      "geometry %u x %u, frame at %u, %llu bytes", r.info.slot_count, r.info.slot_size,
	      r.info.frame_offset, (unsigned long long)r.info.mmap_bytes);
	void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m == MAP_FAILED && errno == EINVAL, "short mmap refused");
	m = mmap(NULL, r.info.mmap_bytes, PROT_READ, MAP_SHARED, fd, 4096);
	CHECK(m == MAP_FAILED && errno == EINVAL, "mmap at an offset refused");
	m = mmap(NULL, r.info.mmap_bytes * 2, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m == MAP_FAILED && errno == EINVAL, "long mmap refused");
	m = mmap(NULL, r.info.mmap_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m == MAP_FAILED && errno == EINVAL, "private mmap refused");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	for (uint32_t i = 0; i < 16; i++)
		CHECK(status_of(slot_at(&r, i)) == FASTNET_SLOT_FREE, "slot %u starts FREE", i);
	CHECK(!readable(fd), "nothing readable yet");
	uint8_t rbuf[64];
	CHECK(read(fd, rbuf, sizeof(rbuf)) < 0 && errno == EINVAL, "read() in RING mode");

	for (uint32_t i = 0; i < 10; i++)
		REQUIRE(send_seq(&gen, 300 + i, 1, 60 + i * 100, i == 4) == 0, "send");
	CHECK(wait_received(fd, 10, 5000), "10 frames");
	CHECK(wait_ready(&r, 0, 10, 5000), "10 slots filled");
	CHECK(readable(fd), "poll says readable");
	for (uint32_t i = 0; i < 10; i++) {
		struct fastnet_slot *s = slot_at(&r, i);
		size_t len = 60 + i * 100;

		make_frame(frame, len, 300 + i, i == 4);
		CHECK(status_of(s) == FASTNET_SLOT_READY, "slot %u READY", i);
		CHECK(s->len == len && s->wire_len == len &&
		      s->flags == (i == 4 ? FASTNET_FRAME_VLAN : 0),
		      "slot %u: len %u wire %u flags %#x", i, s->len, s->wire_len, s->flags);
		CHECK(memcmp((uint8_t *)s + r.info.frame_offset, frame, len) == 0,
		      "slot %u holds what was sent", i);
	}
	uint8_t *vf = (uint8_t *)slot_at(&r, 4) + r.info.frame_offset;
	CHECK(vf[12] == 0x81 && vf[13] == 0x00, "VLAN tag back at bytes 12-13 in the ring");
	CHECK(status_of(slot_at(&r, 10)) == FASTNET_SLOT_FREE, "slot 10 untouched");
	for (uint32_t i = 0; i < 9; i++)
		release(slot_at(&r, i));
	CHECK(readable(fd), "readable while the newest slot is unread");
	release(slot_at(&r, 9));
	CHECK(!readable(fd), "not readable once all are handed back");

	/* 20 more into 16 slots: slots 10..15, 0..9 fill, 4 frames are dropped as full. */
	REQUIRE(send_seq(&gen, 400, 20, 64, 0) == 0, "send");
	CHECK(wait_received(fd, 30, 5000), "30 frames");
	CHECK(wait_ready(&r, 10, 16, 5000), "16 slots filled");
	struct fastnet_stats st = stats(fd);
	CHECK(st.delivered == 26 && st.dropped == 4 && st.full == 4,
	      "delivered %llu dropped %llu full %llu", (unsigned long long)st.delivered,
	      (unsigned long long)st.dropped, (unsigned long long)st.full);
	for (uint32_t k = 0; k < 16; k++) {
		struct fastnet_slot *s = slot_at(&r, (10 + k) % 16);
		uint8_t *f = (uint8_t *)s + r.info.frame_offset;

		CHECK(status_of(s) == FASTNET_SLOT_READY && frame_seq(f) == 400 + k,
		      "slot %u: seq %u", (10 + k) % 16, frame_seq(f));
		release(s);
	}
	CHECK(!readable(fd), "drained");
	/* The kernel trusts only status: a slot the process garbles is simply not FREE. */
	slot_at(&r, 10)->status = 77;
	REQUIRE(send_seq(&gen, 500, 1, 64, 0) == 0, "send");
	CHECK(wait_received(fd, 31, 5000), "31 frames");
	CHECK(stats(fd).full == 5, "a garbled slot counts as full");
	release(slot_at(&r, 10));
	check_accounting(fd);

	/* Mode change while mapped: the old pages stay readable until unmapped. */
	CHECK(set_mode(fd, CAP, FASTNET_MODE_READ, 16) == 0, "RING -> READ while mapped");
	volatile uint32_t touch = slot_at(&r, 3)->len;
	(void)touch;
	CHECK(munmap(r.base, r.info.mmap_bytes) == 0, "unmap old ring");
	CHECK(set_mode(fd, CAP, FASTNET_MODE_RING, 0) == 0, "READ -> RING, default depth");
	CHECK(ioctl(fd, FASTNET_IOC_GET_RING, &r.info) == 0 &&
	      r.info.slot_count == FASTNET_DEFAULT_DEPTH, "default depth %u", r.info.slot_count);
	close(fd);
}

static void t_ring_truncation(void)
{
	int fd = dev_open(O_NONBLOCK);
	struct ring r;
	uint8_t frame[9000], buf[9000];

	REQUIRE(fd >= 0, "no device");
	REQUIRE(sh("ip link set dev " CAP " mtu 9000") == 0 && sh("ip link set dev " GEN " mtu 9000") == 0,
		"jumbo MTU");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_RING, 4) == 0, "bind RING");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	REQUIRE(send_seq(&gen, 600, 1, 3000, 0) == 0, "send 3000");
	REQUIRE(wait_received(fd, 1, 5000), "frame");
	CHECK(wait_ready(&r, 0, 1, 5000), "slot filled");
	struct fastnet_slot *s = slot_at(&r, 0);
	make_frame(frame, 3000, 600, 0);
	CHECK(status_of(s) == FASTNET_SLOT_READY && s->len == FASTNET_SLOT_MAX_FRAME &&
	      s->wire_len == 3000 && (s->flags & FASTNET_FRAME_TRUNCATED),
	      "truncated slot: len %u wire %u flags %#x", s->len, s->wire_len, s->flags);
	CHECK(memcmp((uint8_t *)s + r.info.frame_offset, frame, FASTNET_SLOT_MAX_FRAME) == 0,
	      "the slot holds the frame's start");
	CHECK(stats(fd).truncated == 1, "truncated counted");
	CHECK(status_of(slot_at(&r, 1)) == FASTNET_SLOT_FREE, "next slot untouched");
	munmap(r.base, r.info.mmap_bytes);
	/* READ mode delivers jumbo frames whole. */
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_READ, 4) == 0, "bind READ");
	REQUIRE(send_seq(&gen, 601, 1, 8000, 1) == 0, "send 8000 vlan");
	REQUIRE(wait_received(fd, 2, 5000), "frame");
	make_frame(frame, 8000, 601, 1);
	CHECK(read(fd, buf, sizeof(buf)) == 8000 && memcmp(buf, frame, 8000) == 0, "jumbo read");
	close(fd);
	sh("ip link set dev " CAP " mtu 1500");
	sh("ip link set dev " GEN " mtu 1500");
}

/* The largest ring: FASTNET_MAX_DEPTH slots allocated, mapped, filled at both ends, freed. */
static void t_ring_largest(void)
{
	int fd = dev_open(O_NONBLOCK);
	struct ring r;

	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_RING, FASTNET_MAX_DEPTH) == 0, "bind RING max");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	CHECK(r.info.slot_count == FASTNET_MAX_DEPTH &&
	      r.info.mmap_bytes == (uint64_t)FASTNET_MAX_DEPTH * FASTNET_SLOT_SIZE,
	      "%u slots, %llu bytes", r.info.slot_count, (unsigned long long)r.info.mmap_bytes);
	REQUIRE(send_seq(&gen, 700, 2, 64, 0) == 0, "send");
	CHECK(wait_received(fd, 2, 5000), "2 frames");
	CHECK(wait_ready(&r, 0, 2, 5000), "first slots filled");
	CHECK(status_of(slot_at(&r, FASTNET_MAX_DEPTH - 1)) == FASTNET_SLOT_FREE, "last slot FREE");
	CHECK(set_mode(fd, CAP, FASTNET_MODE_RING, FASTNET_MAX_DEPTH + 1) == EINVAL, "above max");
	munmap(r.base, r.info.mmap_bytes);
	close(fd);
}

/* ---- the interface going away -------------------------------------------------------------- */

static void t_unregister_read(void)
{
	int fd = dev_open(0);
	struct reader_arg a = { .fd = fd, .buflen = 2048 };
	pthread_t t;

	REQUIRE(fd >= 0, "no device");
	REQUIRE(make_veth("cbfn4", "cbfn5") == 0, "veth");
	REQUIRE(set_mode(fd, "cbfn4", FASTNET_MODE_READ, 16) == 0, "bind READ");
	struct sender g5 = { -1, 0 };
	REQUIRE(sender_open(&g5, "cbfn5") == 0, "sender");
	send_seq(&g5, 0, 3, 64, 0);
	CHECK(wait_received(fd, 3, 5000), "3 frames");
	CHECK(read(fd, a.buf, sizeof(a.buf)) == 64, "one read");
	sender_close(&g5);
	pthread_create(&t, NULL, blocking_reader, &a);
	/* Two queued frames are read at once; the third read sleeps. */
	sleep_ms(100);
	CHECK(a.done && a.n == 64, "second frame read");
	pthread_join(t, NULL);
	CHECK(read(fd, a.buf, sizeof(a.buf)) == 64, "third frame read");
	memset(&a, 0, sizeof(a));
	a.fd = fd;
	a.buflen = 2048;
	pthread_create(&t, NULL, blocking_reader, &a);
	sleep_ms(300);
	CHECK(!a.done, "reader sleeps");
	uint64_t t0 = now_ms();
	CHECK(sh("timeout 30 ip link del cbfn4") == 0, "delete the bound interface");
	CHECK(now_ms() - t0 < 5000, "deleting took %llu ms (a held reference waits)",
	      (unsigned long long)(now_ms() - t0));
	CHECK(wait_done(&a.done, 5000), "sleeping reader woken");
	pthread_join(t, NULL);
	CHECK(a.n < 0 && a.err == ENODEV, "reader gets ENODEV: %zd %s", a.n, strerror(a.err));
	struct fastnet_status st = status(fd);
	CHECK(st.mode == FASTNET_MODE_OFF && st.error == ENODEV, "status OFF/ENODEV: %u %d", st.mode,
	      st.error);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLERR), "poll says POLLERR");
	CHECK(read(fd, a.buf, sizeof(a.buf)) < 0 && errno == ENODEV, "read keeps saying ENODEV");
	CHECK(set_mode(fd, CAP, FASTNET_MODE_READ, 4) == 0 && status(fd).error == 0,
	      "a new binding clears the error");
	check_accounting(fd);
	close(fd);
}

struct poller_arg {
	int fd;
	int rc;
	short revents;
	volatile int done;
};

static void *blocking_poller(void *p)
{
	struct poller_arg *a = p;
	struct pollfd pf = { .fd = a->fd, .events = POLLIN };

	a->rc = poll(&pf, 1, 20000);
	a->revents = pf.revents;
	a->done = 1;
	return NULL;
}

static void t_unregister_ring(void)
{
	int fd = dev_open(O_NONBLOCK);
	struct poller_arg a = { .fd = fd };
	struct ring r;
	pthread_t t;

	REQUIRE(fd >= 0, "no device");
	REQUIRE(make_veth("cbfn4", "cbfn5") == 0, "veth");
	REQUIRE(set_mode(fd, "cbfn4", FASTNET_MODE_RING, 8) == 0, "bind RING");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	struct sender g5 = { -1, 0 };
	REQUIRE(sender_open(&g5, "cbfn5") == 0, "sender");
	send_seq(&g5, 50, 2, 64, 0);
	sender_close(&g5);
	CHECK(wait_received(fd, 2, 5000), "2 frames");
	CHECK(wait_ready(&r, 0, 2, 5000), "2 slots filled");
	release(slot_at(&r, 0));
	release(slot_at(&r, 1));
	pthread_create(&t, NULL, blocking_poller, &a);
	sleep_ms(300);
	CHECK(!a.done, "poller sleeps");
	CHECK(sh("timeout 30 ip link del cbfn4") == 0, "delete the bound interface");
	CHECK(wait_done(&a.done, 5000), "poller woken");
	pthread_join(t, NULL);
	CHECK(a.rc == 1 && (a.revents & POLLERR), "POLLERR: rc %d revents %#x", a.rc, a.revents);
	CHECK(frame_seq((uint8_t *)slot_at(&r, 1) + r.info.frame_offset) == 51,
	      "the mapping outlives the binding");
	CHECK(munmap(r.base, r.info.mmap_bytes) == 0, "unmap");
	check_accounting(fd);
	close(fd);
}

static void t_netns_move(void)
{
	int fd = dev_open(0);

	REQUIRE(fd >= 0, "no device");
	REQUIRE(make_veth("cbfn4", "cbfn5") == 0, "veth");
	REQUIRE(sh("ip netns add cbfnns") == 0, "netns");
	REQUIRE(set_mode(fd, "cbfn4", FASTNET_MODE_DROP, 0) == 0, "bind DROP");
	CHECK(sh("ip link set dev cbfn4 netns cbfnns") == 0, "move to another namespace");
	struct fastnet_status st = status(fd);
	CHECK(st.mode == FASTNET_MODE_OFF && st.error == ENODEV, "moved away: OFF/ENODEV");
	sh("ip netns del cbfnns");
	close(fd);
}

/* ---- unloading ------------------------------------------------------------------------------ */

static void t_unload_while_reading(void)
{
	int fd = dev_open(0);
	struct reader_arg a = { .fd = fd, .buflen = 2048 };
	pthread_t t;

	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_READ, 16) == 0, "bind READ");
	pthread_create(&t, NULL, blocking_reader, &a);
	sleep_ms(300);
	CHECK(!a.done, "reader sleeps");
	long rc = syscall(SYS_delete_module, "fastnet", O_NONBLOCK);
	int err = errno;
	CHECK(rc != 0 && (err == EWOULDBLOCK || err == EBUSY), "unload refused: rc %ld %s", rc,
	      strerror(err));
	CHECK(access("/sys/module/fastnet", F_OK) == 0, "module still loaded");
	CHECK(!a.done, "reader still sleeps");
	REQUIRE(send_seq(&gen, 900, 1, 70, 0) == 0, "send");
	CHECK(wait_done(&a.done, 5000), "reader woken by a frame");
	pthread_join(t, NULL);
	CHECK(a.n == 70 && frame_seq(a.buf) == 900, "reader got it: %zd", a.n);
	close(fd);
}

/* ---- soak ----------------------------------------------------------------------------------- */

struct memsnap {
	long mem_available_kb;
	long slab_kb;
	long skbuff_objs;     /* skbuff_head_cache active objects */
	long kmalloc_kb;      /* active bytes over kmalloc-* caches, KiB */
};

static void read_mem(struct memsnap *m)
{
	char line[512];
	FILE *f = fopen("/proc/meminfo", "r");

	memset(m, 0, sizeof(*m));
	m->skbuff_objs = -1;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "MemAvailable: %ld kB", &m->mem_available_kb);
		sscanf(line, "Slab: %ld kB", &m->slab_kb);
	}
	if (f)
		fclose(f);
	f = fopen("/proc/slabinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char name[128];
		long active, total, size;

		if (sscanf(line, "%127s %ld %ld %ld", name, &active, &total, &size) != 4)
			continue;
		if (strcmp(name, "skbuff_head_cache") == 0)
			m->skbuff_objs = active;
		if (strncmp(name, "kmalloc-", 8) == 0)
			m->kmalloc_kb += active * size / 1024;
	}
	if (f)
		fclose(f);
}

static void settle_memory(void)
{
	sync();
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			diag("drop_caches: %s", strerror(errno));
		close(fd);
	}
	sleep_ms(500);
}

static int send_burst(struct sender *s, uint32_t count)
{
	enum { BATCH = 256, LEN = 64 };
	static uint8_t frames[BATCH][LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];

	for (int i = 0; i < BATCH; i++) {
		make_frame(frames[i], LEN, (uint32_t)i, 0);
		iov[i].iov_base = frames[i];
		iov[i].iov_len = LEN;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	uint32_t sent = 0;
	while (sent < count) {
		unsigned n = count - sent < BATCH ? count - sent : BATCH;
		int rc = sendmmsg(s->fd, msgs, n, 0);

		if (rc < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)) {
			sleep_ms(1);
			continue;
		}
		if (rc < 0) {
			diag("sendmmsg: %s", strerror(errno));
			return -1;
		}
		sent += (uint32_t)rc;
	}
	return 0;
}

static uint32_t soak_frames = 1000000;
static uint32_t soak_repeat = 1;
static int soak_only;
static int after_unload;

static void t_soak_drop(void)
{
	struct memsnap before, after;
	int fd;

	/* One warm-up round so caches and per-CPU lists are at their working size. */
	fd = dev_open(0);
	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_DROP, 0) == 0, "bind DROP");
	REQUIRE(send_burst(&gen, 20000) == 0, "warm-up");
	CHECK(wait_received(fd, 20000, 60000), "warm-up frames");
	close(fd);
	settle_memory();
	read_mem(&before);

	fd = dev_open(0);
	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_DROP, 0) == 0, "bind DROP");
	uint64_t t0 = now_ms();
	REQUIRE(send_burst(&gen, soak_frames) == 0, "soak");
	CHECK(wait_received(fd, soak_frames, 120000), "all soak frames taken");
	uint64_t ms = now_ms() - t0;
	struct fastnet_stats st = stats(fd);
	CHECK(st.discarded == soak_frames && st.dropped == 0, "discarded %llu dropped %llu",
	      (unsigned long long)st.discarded, (unsigned long long)st.dropped);
	close(fd);
	settle_memory();
	read_mem(&after);
	diag("soak: %u frames in DROP mode in %llu ms", soak_frames, (unsigned long long)ms);
	diag("soak: MemAvailable %ld -> %ld kB (%+ld), Slab %ld -> %ld kB (%+ld)",
	     before.mem_available_kb, after.mem_available_kb,
	     after.mem_available_kb - before.mem_available_kb, before.slab_kb, after.slab_kb,
	     after.slab_kb - before.slab_kb);
	diag("soak: skbuff_head_cache active %ld -> %ld (%+ld), kmalloc-* active %ld -> %ld kB (%+ld)",
	     before.skbuff_objs, after.skbuff_objs, after.skbuff_objs - before.skbuff_objs,
	     before.kmalloc_kb, after.kmalloc_kb, after.kmalloc_kb - before.kmalloc_kb);
	/* A leak of one skb per frame would be ~1M objects and hundreds of MiB. */
	CHECK(before.skbuff_objs < 0 || after.skbuff_objs - before.skbuff_objs < 2000,
	      "skbuff_head_cache grew by %ld objects", after.skbuff_objs - before.skbuff_objs);
	CHECK(after.slab_kb - before.slab_kb < 8192, "Slab grew by %ld kB",
	      after.slab_kb - before.slab_kb);
	CHECK(after.kmalloc_kb - before.kmalloc_kb < 4096, "kmalloc grew by %ld kB",
	      after.kmalloc_kb - before.kmalloc_kb);
	CHECK(before.mem_available_kb - after.mem_available_kb < 32768,
	      "MemAvailable fell by %ld kB", before.mem_available_kb - after.mem_available_kb);
}

/* READ and RING through a consumer, then memory back where it was: no skb or page kept. */
static void t_soak_read_ring(void)
{
	enum { FRAMES = 100000 };
	struct memsnap before, after;
	uint8_t buf[2048];

	settle_memory();
	read_mem(&before);
	for (int mode = FASTNET_MODE_READ; mode <= FASTNET_MODE_RING; mode++) {
		int fd = dev_open(O_NONBLOCK);
		struct ring r = { 0 };
		uint64_t got = 0, end = now_ms() + 120000;

		REQUIRE(fd >= 0, "no device");
		REQUIRE(set_mode(fd, CAP, (uint32_t)mode, 1024) == 0, "bind");
		if (mode == FASTNET_MODE_RING)
			REQUIRE(map_ring(fd, &r) == 0, "map");
		pid_t child = fork();
		if (child == 0)
			_exit(send_burst(&gen, FRAMES) ? 1 : 0);
		uint32_t tail = 0;
		struct fastnet_stats stop = { 0 };
		while (now_ms() < end) {
			struct fastnet_stats st = stats(fd);
			stop = st;
			if (st.received >= FRAMES && accounted(&st) && st.queued == 0 &&
			    got == st.delivered)
				break;
			if (mode == FASTNET_MODE_READ) {
				if (read(fd, buf, sizeof(buf)) > 0)
					got++;
				else
					sleep_ms(0);
				continue;
			}
			struct fastnet_slot *s = slot_at(&r, tail);
			if (status_of(s) != FASTNET_SLOT_READY) {
				struct pollfd p = { .fd = fd, .events = POLLIN };
				poll(&p, 1, 10);
				continue;
			}
			release(s);
			tail = (tail + 1) % r.info.slot_count;
			got++;
		}
		int wst = 0;
		waitpid(child, &wst, 0);
		struct fastnet_stats st = stats(fd);
		CHECK(st.received == FRAMES && got == st.delivered && got + st.dropped == FRAMES,
		      "%s: received %llu delivered %llu read %llu dropped %llu",
		      mode == FASTNET_MODE_READ ? "READ" : "RING", (unsigned long long)st.received,
		      (unsigned long long)st.delivered, (unsigned long long)got,
		      (unsigned long long)st.dropped);
		if (current_failed)
			diag("%s: the consumer stopped on received %llu delivered %llu dropped %llu "
			     "queued %llu", mode == FASTNET_MODE_READ ? "READ" : "RING",
			     (unsigned long long)stop.received, (unsigned long long)stop.delivered,
			     (unsigned long long)stop.dropped, (unsigned long long)stop.queued);
		diag("%s soak: %llu of %d frames read, %llu dropped (queue/ring full)",
		     mode == FASTNET_MODE_READ ? "READ" : "RING", (unsigned long long)got, FRAMES,
		     (unsigned long long)st.dropped);
		check_accounting(fd);
		if (r.base)
			munmap(r.base, r.info.mmap_bytes);
		close(fd);
	}
	settle_memory();
	read_mem(&after);
	diag("READ/RING soak: Slab %+ld kB, skbuff_head_cache %+ld, MemAvailable %+ld kB",
	     after.slab_kb - before.slab_kb, after.skbuff_objs - before.skbuff_objs,
	     after.mem_available_kb - before.mem_available_kb);
	CHECK(before.skbuff_objs < 0 || after.skbuff_objs - before.skbuff_objs < 2000,
	      "skbuff_head_cache grew by %ld objects", after.skbuff_objs - before.skbuff_objs);
	CHECK(before.mem_available_kb - after.mem_available_kb < 32768,
	      "MemAvailable fell by %ld kB", before.mem_available_kb - after.mem_available_kb);
}

/* ---- INJECT: frames from the process, sent by the module ------------------------------------ */

/* A counter of /sys/class/net/IF/statistics. */
static uint64_t link_stat(const char *ifname, const char *name)
{
	char path[160];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%llu", &v) != 1)
		diag("cannot read %s", path);
	if (f)
		fclose(f);
	return v;
}

/* write() of one frame: 0 when the whole frame was taken, else the errno. */
static int inject_write(int fd, const void *frame, size_t len)
{
	ssize_t n = write(fd, frame, len);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0) {
		diag("write of %zu bytes returned %zd", len, n);
		return EIO;
	}
	return errno;
}

/* FASTNET_IOC_SEND: frames taken, or minus the errno. */
static long inject_send(int fd, const struct fastnet_frame_desc *d, uint32_t count, uint32_t flags)
{
	struct fastnet_send req = { .frames = (uint64_t)(uintptr_t)d, .count = count, .flags = flags };
	int rc = ioctl(fd, FASTNET_IOC_SEND, &req);

	return rc >= 0 ? rc : -errno;
}

static void desc_set(struct fastnet_frame_desc *d, const void *frame, uint32_t len)
{
	d->addr = (uint64_t)(uintptr_t)frame;
	d->len = len;
	d->flags = 0;
}

/*
 * Injects frames first .. first + count - 1 of len bytes in SEND batches of up to `batch`
 * (<= 256), a frame refused for room sent again until taken, as capbench's sender does. 0, or -1.
 * Calls that were refused or cut short go to *refused.
 */
static int inject_seq(int fd, uint32_t first, uint32_t count, size_t len, uint32_t batch,
		      uint64_t *refused)
{
	static uint8_t frames[256][2048];
	struct fastnet_frame_desc d[256];
	uint64_t end = now_ms() + 300000;
	uint32_t done = 0;

	while (done < count) {
		uint32_t n = count - done < batch ? count - done : batch;

		for (uint32_t k = 0; k < n; k++) {
			make_frame(frames[k], len, first + done + k, 0);
			desc_set(&d[k], frames[k], (uint32_t)len);
		}
		long rc = inject_send(fd, d, n, 0);
		if (rc == -ENOBUFS) {
			(*refused)++;
			if (now_ms() > end) {
				diag("still ENOBUFS after 300 s, %u of %u frames taken", done, count);
				return -1;
			}
			sleep_ms(1);
			continue;
		}
		if (rc <= 0 || rc > (long)n) {
			diag("SEND of %u frames: %ld (%s)", n, rc, rc < 0 ? strerror((int)-rc) : "");
			return -1;
		}
		if (rc < (long)n)
			(*refused)++;
		done += (uint32_t)rc;
	}
	return 0;
}

/* Reads `count` frames from a READ file; each must be seq first + i, of lens[i] bytes if given. */
static int read_seq(int fd, uint32_t first, uint32_t count, size_t len)
{
	uint8_t buf[2048];

	for (uint32_t i = 0; i < count; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 || (len && (size_t)n != len) || frame_seq(buf) != first + i) {
			diag("frame %u: read %zd bytes (%s), seq %u; expected %zu bytes, seq %u", i, n,
			     n < 0 ? strerror(errno) : "ok", n > 0 ? frame_seq(buf) : 0, len,
			     first + i);
			return -1;
		}
	}
	return 0;
}

static void t_inject_lengths(void)
{
	static uint8_t frame[9100], buf[2048];
	int fd = dev_open(0), cap = dev_open(O_NONBLOCK);
	struct fastnet_ring_info info;
	uint32_t limit = 8;

	REQUIRE(fd >= 0 && cap >= 0, "no device");
	CHECK(set_mode(fd, GEN, FASTNET_MODE_INJECT, 8) == EINVAL, "a depth for INJECT accepted");
	make_frame(frame, 64, 1, 0);
	CHECK(write(fd, frame, 64) < 0 && errno == EINVAL, "write when OFF: %s", strerror(errno));
	CHECK(mode_ioctl(fd, FASTNET_IOC_CHECK_MODE, "lo", FASTNET_MODE_INJECT, 0) == EINVAL,
	      "CHECK_MODE INJECT on loopback");
	CHECK(mode_ioctl(fd, FASTNET_IOC_CHECK_MODE, "cbfnnothere", FASTNET_MODE_INJECT, 0) == ENODEV,
	      "CHECK_MODE INJECT on a missing interface");
	CHECK(mode_ioctl(fd, FASTNET_IOC_CHECK_MODE, GEN, FASTNET_MODE_INJECT, 0) == 0,
	      "CHECK_MODE INJECT");
	REQUIRE(set_mode(fd, GEN, FASTNET_MODE_INJECT, 0) == 0, "bind INJECT");
	REQUIRE(set_mode(cap, CAP, FASTNET_MODE_READ, 64) == 0, "bind READ on the peer");
	struct fastnet_status st = status(fd);
	CHECK(st.mode == FASTNET_MODE_INJECT && strcmp(st.ifname, GEN) == 0 && st.depth == 0,
	      "status %u %s %u", st.mode, st.ifname, st.depth);
	/* What the receive modes have is refused. */
	CHECK(read(fd, buf, sizeof(buf)) < 0 && errno == EINVAL, "read in INJECT mode");
	void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m == MAP_FAILED && errno == EINVAL, "mmap in INJECT mode");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	CHECK(ioctl(fd, FASTNET_IOC_GET_RING, &info) != 0 && errno == EINVAL, "GET_RING");
	CHECK(ioctl(fd, FASTNET_IOC_SET_LIMIT, &limit) != 0 && errno == EINVAL, "SET_LIMIT");
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "poll says POLLOUT only: %#x", p.revents);
	/* Lengths: 14 .. MTU + 14, 4 more with a tag of the frame's own. */
	CHECK(inject_write(fd, frame, 0) == EINVAL, "0 bytes");
	CHECK(inject_write(fd, frame, 13) == EINVAL, "13 bytes");
	CHECK(inject_write(fd, frame, 1515) == EMSGSIZE, "1515 bytes untagged");
	make_frame(frame, 1519, 2, 1);
	CHECK(inject_write(fd, frame, 1519) == EMSGSIZE, "1519 bytes tagged");
	CHECK(inject_write(fd, frame, 9000) == EMSGSIZE, "9000 bytes");
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(none != MAP_FAILED && inject_write(fd, none, 64) == EFAULT, "an unreadable frame");
	if (none != MAP_FAILED)
		munmap(none, 4096);
	static const size_t lens[] = { 14, 60, 1514, 1518 };
	for (uint32_t i = 0; i < 4; i++) {
		make_frame(frame, lens[i], 100 + i, i == 3);
		CHECK(inject_write(fd, frame, lens[i]) == 0, "%zu bytes%s refused", lens[i],
		      i == 3 ? " tagged" : "");
	}
	CHECK(wait_received(cap, 4, 5000), "4 frames at the peer");
	for (uint32_t i = 0; i < 4; i++) {
		ssize_t n = read(cap, buf, sizeof(buf));

		make_frame(frame, lens[i], 100 + i, i == 3);
		CHECK(n == (ssize_t)lens[i] && memcmp(buf, frame, lens[i]) == 0,
		      "frame %u: %zd bytes, sent %zu, %s", i, n, lens[i],
		      n == (ssize_t)lens[i] ? "bytes differ" : "length differs");
	}
	struct fastnet_stats s = stats(fd);
	CHECK(s.tx_frames == 4 && s.tx_bytes == 14 + 60 + 1514 + 1518 && s.tx_refused == 0 &&
	      s.tx_failed == 0, "tx %llu frames %llu bytes, refused %llu failed %llu",
	      (unsigned long long)s.tx_frames, (unsigned long long)s.tx_bytes,
	      (unsigned long long)s.tx_refused, (unsigned long long)s.tx_failed);
	CHECK(s.received == 0 && s.delivered == 0 && s.dropped == 0, "receive counts stay 0");
	/* A file open for reading only cannot send. */
	int ro = open(FASTNET_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	struct fastnet_frame_desc d;
	desc_set(&d, frame, 64);
	CHECK(ro >= 0 && set_mode(ro, GEN, FASTNET_MODE_INJECT, 0) == 0, "bind a read-only file");
	CHECK(inject_send(ro, &d, 1, 0) == -EBADF, "SEND on a read-only file");
	CHECK(write(ro, frame, 64) < 0 && errno == EBADF, "write on a read-only file");
	if (ro >= 0)
		close(ro);
	check_accounting(cap);
	close(cap);
	close(fd);
}

static void t_inject_batches(void)
{
	enum { MANY = 2000 };
	static uint8_t frames[MANY][64];
	static struct fastnet_frame_desc d[MANY];
	int fd = dev_open(0), cap = dev_open(O_NONBLOCK);
	uint64_t expect = 0;

	REQUIRE(fd >= 0 && cap >= 0, "no device");
	for (uint32_t i = 0; i < MANY; i++) {
		make_frame(frames[i], 64, i, 0);
		desc_set(&d[i], frames[i], 64);
	}
	CHECK(inject_send(fd, d, 1, 0) == -EINVAL, "SEND when OFF");
	REQUIRE(set_mode(fd, GEN, FASTNET_MODE_INJECT, 0) == 0, "bind INJECT");
	REQUIRE(set_mode(cap, CAP, FASTNET_MODE_READ, 4096) == 0, "bind READ on the peer");
	CHECK(inject_send(fd, d, 0, 0) == 0, "count 0");
	CHECK(inject_send(fd, d, 1, 1) == -EINVAL, "flags in the request");
	CHECK(inject_send(fd, (const void *)8, 1, 0) == -EFAULT, "unreadable descriptors");
	/* Frames 0..4, whole. */
	CHECK(inject_send(fd, d, 5, 0) == 5, "5 frames");
	expect += 5;
	/* A bad third frame: two taken, then the next call starting there says why. */
	d[7].len = 13;
	CHECK(inject_send(fd, d + 5, 5, 0) == 2, "stops before a 13-byte frame");
	CHECK(inject_send(fd, d + 7, 3, 0) == -EINVAL, "which the next call refuses");
	d[7].len = 64;
	expect += 2;
	d[8].flags = 1;
	CHECK(inject_send(fd, d + 7, 3, 0) == 1, "stops before a descriptor with flags");
	CHECK(inject_send(fd, d + 8, 2, 0) == -EINVAL, "which the next call refuses");
	d[8].flags = 0;
	expect += 1;
	d[9].addr = 0;
	CHECK(inject_send(fd, d + 8, 2, 0) == 1, "stops before an unreadable frame");
	CHECK(inject_send(fd, d + 9, 1, 0) == -EFAULT, "which the next call refuses");
	desc_set(&d[9], frames[9], 64);
	CHECK(inject_send(fd, d + 9, 1, 0) == 1, "then it goes");
	expect += 2;
	d[10].len = 1600;
	CHECK(inject_send(fd, d + 10, 2, 0) == -EMSGSIZE, "a frame above the MTU first");
	d[10].len = 64;
	/* Frames 10 .. MANY - 1: at most FASTNET_SEND_MAX_BATCH per call. */
	CHECK(inject_send(fd, d + 10, MANY - 10, 0) == FASTNET_SEND_MAX_BATCH,
	      "a call takes at most %d", FASTNET_SEND_MAX_BATCH);
	CHECK(inject_send(fd, d + 10 + FASTNET_SEND_MAX_BATCH, MANY - 10 - FASTNET_SEND_MAX_BATCH,
			  0) == MANY - 10 - FASTNET_SEND_MAX_BATCH, "the rest");
	expect += MANY - 10;
	CHECK(wait_received(cap, expect, 20000), "%llu frames at the peer", (unsigned long long)expect);
	CHECK(read_seq(cap, 0, (uint32_t)expect, 64) == 0, "every frame once, in order");
	struct fastnet_stats s = stats(fd);
	CHECK(s.tx_frames == expect && s.tx_bytes == 64 * expect && s.tx_refused == 0 &&
	      s.tx_failed == 0, "tx %llu frames %llu bytes refused %llu failed %llu",
	      (unsigned long long)s.tx_frames, (unsigned long long)s.tx_bytes,
	      (unsigned long long)s.tx_refused, (unsigned long long)s.tx_failed);
	/* GET_STATS as a program built before the tx fields asks: the first 56 bytes only. */
	uint8_t raw[sizeof(struct fastnet_stats) + 8];
	memset(raw, 0xab, sizeof(raw));
	CHECK(ioctl(fd, FASTNET_IOC_GET_STATS_V1, raw) == 0, "GET_STATS_V1: %s", strerror(errno));
	CHECK(raw[FASTNET_STATS_V1_SIZE] == 0xab && raw[FASTNET_STATS_V1_SIZE - 1] == 0,
	      "GET_STATS_V1 wrote %d bytes", FASTNET_STATS_V1_SIZE);
	CHECK(ioctl(fd, _IOC(_IOC_READ, FASTNET_IOC_MAGIC, 3, 64), raw) == 0, "GET_STATS of 64 bytes");
	CHECK(ioctl(fd, _IOC(_IOC_READ, FASTNET_IOC_MAGIC, 3, 48), raw) != 0 && errno == ENOTTY,
	      "GET_STATS of 48 bytes");
	CHECK(ioctl(fd, _IOC(_IOC_READ, FASTNET_IOC_MAGIC, 3, sizeof(struct fastnet_stats) + 8),
		    raw) != 0 && errno == ENOTTY, "GET_STATS larger than the structure");
	check_accounting(cap);
	close(cap);
	close(fd);
}

/*
 * Thousands of frames by write() and by SEND: the module's count, the veth's own tx counter and
 * its peer's rx counter, and a file receiving at the peer all agree exactly; memory comes back.
 */
static void t_inject_counts(void)
{
	enum { WRITES = 3000, SENDS = 100000, LEN = 64 };
	struct memsnap before, after;
	uint64_t refused = 0;
	uint8_t frame[LEN];

	settle_memory();
	read_mem(&before);
	int fd = dev_open(0), drop = dev_open(0);
	REQUIRE(fd >= 0 && drop >= 0, "no device");
	REQUIRE(set_mode(drop, CAP, FASTNET_MODE_DROP, 0) == 0, "bind DROP on the peer");
	REQUIRE(set_mode(fd, GEN, FASTNET_MODE_INJECT, 0) == 0, "bind INJECT");
	uint64_t tx0 = link_stat(GEN, "tx_packets"), txb0 = link_stat(GEN, "tx_bytes");
	uint64_t txd0 = link_stat(GEN, "tx_dropped"), rx0 = link_stat(CAP, "rx_packets");
	uint64_t t0 = now_ms();
	for (uint32_t i = 0; i < WRITES; i++) {
		int err;

		make_frame(frame, LEN, i, 0);
		while ((err = inject_write(fd, frame, LEN)) == ENOBUFS) {
			refused++;
			sleep_ms(1);
		}
		REQUIRE(err == 0, "write %u: %s", i, strerror(err));
	}
	uint64_t t1 = now_ms();
	REQUIRE(inject_seq(fd, WRITES, SENDS, LEN, 64, &refused) == 0, "SEND batches");
	uint64_t t2 = now_ms();
	const uint64_t total = WRITES + SENDS;
	CHECK(wait_received(drop, total, 60000), "%llu frames at the peer",
	      (unsigned long long)total);
	struct fastnet_stats s = stats(fd);
	uint64_t tx = link_stat(GEN, "tx_packets") - tx0, txb = link_stat(GEN, "tx_bytes") - txb0;
	uint64_t txd = link_stat(GEN, "tx_dropped") - txd0, rx = link_stat(CAP, "rx_packets") - rx0;
	diag("INJECT: %u frames by write() in %llu ms, %u by SEND (64 a call) in %llu ms; "
	     "%llu calls refused or cut short",
	     WRITES, (unsigned long long)(t1 - t0), SENDS, (unsigned long long)(t2 - t1),
	     (unsigned long long)refused);
	diag("module tx %llu frames %llu bytes, refused %llu failed %llu; %s tx_packets %llu "
	     "tx_bytes %llu tx_dropped %llu; %s rx_packets %llu; DROP file received %llu",
	     (unsigned long long)s.tx_frames, (unsigned long long)s.tx_bytes,
	     (unsigned long long)s.tx_refused, (unsigned long long)s.tx_failed, GEN,
	     (unsigned long long)tx, (unsigned long long)txb, (unsigned long long)txd, CAP,
	     (unsigned long long)rx, (unsigned long long)stats(drop).received);
	CHECK(s.tx_frames == total && s.tx_bytes == total * LEN, "module counts");
	CHECK(tx == total && txb == total * LEN, "the veth's tx counters");
	CHECK(rx == total, "the peer's rx counter");
	CHECK(stats(drop).received == total && stats(drop).discarded == total, "the DROP file");
	CHECK(txd == s.tx_refused && s.tx_failed == 0, "refusals are the veth's drops");
	close(fd);
	close(drop);
	settle_memory();
	read_mem(&after);
	diag("INJECT: Slab %+ld kB, skbuff_head_cache %+ld, kmalloc %+ld kB, MemAvailable %+ld kB",
	     after.slab_kb - before.slab_kb, after.skbuff_objs - before.skbuff_objs,
	     after.kmalloc_kb - before.kmalloc_kb, after.mem_available_kb - before.mem_available_kb);
	CHECK(before.skbuff_objs < 0 || after.skbuff_objs - before.skbuff_objs < 2000,
	      "skbuff_head_cache grew by %ld objects", after.skbuff_objs - before.skbuff_objs);
	CHECK(after.kmalloc_kb - before.kmalloc_kb < 4096, "kmalloc grew by %ld kB",
	      after.kmalloc_kb - before.kmalloc_kb);
	CHECK(before.mem_available_kb - after.mem_available_kb < 32768,
	      "MemAvailable fell by %ld kB", before.mem_available_kb - after.mem_available_kb);
}

/* A qdisc that drops everything: ENOBUFS, nothing counted taken, and back once it is gone. */
static void t_inject_refused(void)
{
	uint8_t frame[64];
	struct fastnet_frame_desc d[4];
	int fd = dev_open(0), cap = dev_open(O_NONBLOCK);

	REQUIRE(fd >= 0 && cap >= 0, "no device");
	REQUIRE(set_mode(fd, GEN, FASTNET_MODE_INJECT, 0) == 0, "bind INJECT");
	REQUIRE(set_mode(cap, CAP, FASTNET_MODE_READ, 64) == 0, "bind READ on the peer");
	if (sh("tc qdisc replace dev " GEN " root pfifo limit 0") != 0) {
		current_skip = "tc cannot set a pfifo qdisc here";
		close(cap);
		close(fd);
		return;
	}
	uint64_t tx0 = link_stat(GEN, "tx_packets");
	make_frame(frame, sizeof(frame), 1, 0);
	for (int k = 0; k < 4; k++)
		desc_set(&d[k], frame, sizeof(frame));
	CHECK(inject_write(fd, frame, sizeof(frame)) == ENOBUFS, "write into a full qdisc");
	CHECK(inject_send(fd, d, 4, 0) == -ENOBUFS, "SEND into a full qdisc");
	struct fastnet_stats s = stats(fd);
	CHECK(s.tx_refused == 2 && s.tx_frames == 0 && s.tx_failed == 0,
	      "refused %llu taken %llu failed %llu", (unsigned long long)s.tx_refused,
	      (unsigned long long)s.tx_frames, (unsigned long long)s.tx_failed);
	CHECK(link_stat(GEN, "tx_packets") == tx0, "nothing left the veth");
	sh("tc qdisc del dev " GEN " root");
	CHECK(inject_send(fd, d, 4, 0) == 4, "sent once the qdisc is gone");
	CHECK(wait_received(cap, 4, 5000), "4 frames at the peer, none of the refused ones");
	s = stats(fd);
	CHECK(s.tx_frames == 4 && s.tx_refused == 2, "taken %llu refused %llu",
	      (unsigned long long)s.tx_frames, (unsigned long long)s.tx_refused);
	close(cap);
	close(fd);
	/* The interface down: not handed over, ENETDOWN, counted failed. */
	fd = dev_open(0);
	REQUIRE(fd >= 0 && set_mode(fd, GEN2, FASTNET_MODE_INJECT, 0) == 0, "bind INJECT");
	sh("ip link set dev " GEN2 " down");
	CHECK(inject_write(fd, frame, sizeof(frame)) == ENETDOWN, "write with the interface down");
	sh("ip link set dev " GEN2 " up");
	s = stats(fd);
	CHECK(s.tx_failed == 1 && s.tx_frames == 0, "counted failed: %llu",
	      (unsigned long long)s.tx_failed);
	close(fd);
}

/* INJECT_RX: frames enter as received by the interface; a file capturing there sees them. */
static void t_inject_rx(void)
{
	uint8_t frames[8][200];
	struct fastnet_frame_desc d[5];
	int fd = dev_open(0), cap = dev_open(O_NONBLOCK);
	uint8_t buf[2048];

	REQUIRE(fd >= 0 && cap >= 0, "no device");
	REQUIRE(set_mode(cap, CAP, FASTNET_MODE_READ, 64) == 0, "bind READ");
	REQUIRE(set_mode(fd, CAP, FASTNET_MODE_INJECT_RX, 0) == 0,
		"INJECT_RX on the interface a READ file holds");
	uint64_t rx0 = link_stat(GEN, "rx_packets");
	for (uint32_t i = 0; i < 8; i++)
		make_frame(frames[i], 60 + 10 * i, 300 + i, i == 2);
	for (uint32_t i = 0; i < 3; i++)
		CHECK(inject_write(fd, frames[i], 60 + 10 * i) == 0, "write %u", i);
	for (uint32_t i = 0; i < 5; i++)
		desc_set(&d[i], frames[3 + i], 60 + 10 * (3 + i));
	CHECK(inject_send(fd, d, 5, 0) == 5, "SEND 5");
	CHECK(wait_received(cap, 8, 5000), "the READ file got all 8");
	for (uint32_t i = 0; i < 8; i++) {
		ssize_t n = read(cap, buf, sizeof(buf));

		CHECK(n == 60 + 10 * (ssize_t)i && memcmp(buf, frames[i], (size_t)n) == 0,
		      "frame %u: %zd bytes, or its bytes differ%s", i, n, i == 2 ? " (tagged)" : "");
	}
	struct fastnet_stats s = stats(fd);
	CHECK(s.tx_frames == 8 && s.tx_refused == 0 && s.tx_failed == 0, "taken %llu",
	      (unsigned long long)s.tx_frames);
	CHECK(link_stat(GEN, "rx_packets") == rx0, "nothing went out to the peer");
	check_accounting(cap);
	close(cap);
	close(fd);
}

/* Several INJECT files on one interface beside a receiving file; changes of mode; OFF. */
static void t_inject_sharing(void)
{
	int a = dev_open(0), b = dev_open(0), c = dev_open(0), r = dev_open(O_NONBLOCK);
	uint8_t frame[64];

	REQUIRE(a >= 0 && b >= 0 && c >= 0 && r >= 0, "no device");
	REQUIRE(set_mode(r, CAP, FASTNET_MODE_READ, 64) == 0, "bind READ on the peer");
	CHECK(set_mode(a, GEN, FASTNET_MODE_INJECT, 0) == 0, "a injects");
	CHECK(set_mode(b, GEN, FASTNET_MODE_INJECT_RX, 0) == 0, "b injects too");
	CHECK(set_mode(c, GEN, FASTNET_MODE_DROP, 0) == 0, "c receives there (rx_handler free)");
	CHECK(set_mode(a, GEN, FASTNET_MODE_READ, 0) == EBUSY, "a cannot take c's rx_handler");
	CHECK(status(a).mode == FASTNET_MODE_INJECT, "a still injects");
	make_frame(frame, 64, 7, 0);
	CHECK(inject_write(a, frame, 64) == 0, "a sends");
	CHECK(inject_write(b, frame, 64) == 0, "b hands one to " GEN "'s receive path");
	CHECK(wait_received(c, 1, 5000), "c got b's");
	CHECK(wait_received(r, 1, 5000), "the peer got a's");
	close(c);
	CHECK(set_mode(a, GEN, FASTNET_MODE_READ, 0) == 0, "INJECT -> READ on the same interface");
	CHECK(set_mode(b, GEN, FASTNET_MODE_READ, 0) == EBUSY, "now a holds the rx_handler");
	CHECK(inject_write(b, frame, 64) == 0, "b injects still");
	CHECK(wait_received(a, 1, 5000), "a reads b's frame");
	CHECK(set_mode(a, GEN, FASTNET_MODE_INJECT, 0) == 0, "READ -> INJECT");
	c = dev_open(0);
	CHECK(c >= 0 && set_mode(c, GEN, FASTNET_MODE_DROP, 0) == 0, "the rx_handler is free again");
	close(c);
	CHECK(set_mode(a, CAP, FASTNET_MODE_INJECT, 0) == EBUSY, "a second interface on one file");
	CHECK(set_mode(a, NULL, FASTNET_MODE_OFF, 0) == 0, "a OFF");
	CHECK(inject_write(a, frame, 64) == EINVAL, "write when OFF");
	struct fastnet_status st = status(a);
	CHECK(st.mode == FASTNET_MODE_OFF && st.error == 0, "OFF, no error");
	CHECK(set_mode(a, CAP, FASTNET_MODE_INJECT, 0) == 0, "then another interface");
	close(a);
	close(b);
	close(r);
}

/* The interface deleted or moved away under INJECT files: OFF, ENODEV, and nothing held. */
static void t_inject_unregister(void)
{
	int a = dev_open(0), b = dev_open(0), other = dev_open(0);
	uint8_t frame[64];
	struct fastnet_frame_desc d;

	REQUIRE(a >= 0 && b >= 0 && other >= 0, "no device");
	REQUIRE(make_veth("cbfn4", "cbfn5") == 0, "veth");
	REQUIRE(set_mode(a, "cbfn4", FASTNET_MODE_INJECT, 0) == 0, "a INJECT");
	REQUIRE(set_mode(b, "cbfn4", FASTNET_MODE_INJECT_RX, 0) == 0, "b INJECT_RX");
	REQUIRE(set_mode(other, GEN, FASTNET_MODE_INJECT, 0) == 0, "another interface's");
	make_frame(frame, 64, 1, 0);
	desc_set(&d, frame, 64);
	CHECK(inject_write(a, frame, 64) == 0 && inject_write(b, frame, 64) == 0, "both send");
	uint64_t t0 = now_ms();
	CHECK(sh("timeout 30 ip link del cbfn4") == 0, "delete the bound interface");
	CHECK(now_ms() - t0 < 5000, "deleting took %llu ms (a held reference waits)",
	      (unsigned long long)(now_ms() - t0));
	for (int i = 0; i < 2; i++) {
		int fd = i ? b : a;
		struct fastnet_status st = status(fd);
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		CHECK(st.mode == FASTNET_MODE_OFF && st.error == ENODEV, "%c: OFF/ENODEV: %u %d",
		      'a' + i, st.mode, st.error);
		CHECK(inject_write(fd, frame, 64) == ENODEV, "%c: write says ENODEV", 'a' + i);
		CHECK(inject_send(fd, &d, 1, 0) == -ENODEV, "%c: SEND says ENODEV", 'a' + i);
		CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLERR, "%c: poll says POLLERR: %#x",
		      'a' + i, p.revents);
	}
	CHECK(status(other).mode == FASTNET_MODE_INJECT, "the other interface's file is bound");
	CHECK(inject_write(other, frame, 64) == 0, "and sends");
	/* Moved to another namespace: the same. */
	REQUIRE(make_veth("cbfn4", "cbfn5") == 0, "veth");
	REQUIRE(sh("ip netns add cbfnns") == 0, "netns");
	REQUIRE(set_mode(a, "cbfn4", FASTNET_MODE_INJECT, 0) == 0 && status(a).error == 0,
		"a new binding clears the error");
	CHECK(sh("ip link set dev cbfn4 netns cbfnns") == 0, "move to another namespace");
	struct fastnet_status st = status(a);
	CHECK(st.mode == FASTNET_MODE_OFF && st.error == ENODEV, "moved away: OFF/ENODEV");
	sh("ip netns del cbfnns");
	del_veth("cbfn5");
	close(other);
	close(b);
	close(a);
}

struct ns_bind {
	const char *netns;
	int fd;
	const char *ifname;
	int rc;
};

static void *ns_bind_thread(void *p)
{
	struct ns_bind *b = p;
	int nsfd = open(b->netns, O_RDONLY | O_CLOEXEC);

	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
		b->rc = -errno;
		if (nsfd >= 0)
			close(nsfd);
		return NULL;
	}
	close(nsfd);
	b->rc = set_mode(b->fd, b->ifname, FASTNET_MODE_INJECT, 0);
	return NULL;
}

/* SET_MODE looks the name up where the caller is; the binding sends there for anyone. */
static void t_inject_netns(void)
{
	int fd = dev_open(0), r = dev_open(O_NONBLOCK);
	uint8_t frame[64];
	pthread_t t;

	REQUIRE(fd >= 0 && r >= 0, "no device");
	REQUIRE(make_veth("cbfn4", "cbfn5") == 0, "veth");
	REQUIRE(sh("ip netns add cbfnns") == 0, "netns");
	/* Silent there too: a namespace gives a device arriving in it its own IPv6 defaults. */
	REQUIRE(sh("ip link set dev cbfn5 netns cbfnns") == 0 &&
		sh("ip netns exec cbfnns sysctl -q -w net.ipv6.conf.cbfn5.disable_ipv6=1") == 0 &&
		sh("ip -n cbfnns link set dev cbfn5 addrgenmode none arp off up") == 0,
		"cbfn5 in cbfnns");
	REQUIRE(set_mode(r, "cbfn4", FASTNET_MODE_READ, 64) == 0, "READ on cbfn4, here");
	CHECK(set_mode(fd, "cbfn5", FASTNET_MODE_INJECT, 0) == ENODEV, "cbfn5 is not here");
	struct ns_bind b = { .netns = "/run/netns/cbfnns", .fd = fd, .ifname = "cbfn5" };
	pthread_create(&t, NULL, ns_bind_thread, &b);
	pthread_join(t, NULL);
	CHECK(b.rc == 0, "bound from a thread in cbfnns: %d", b.rc);
	make_frame(frame, 64, 42, 0);
	CHECK(inject_write(fd, frame, 64) == 0, "written from here");
	CHECK(wait_received(r, 1, 5000), "out of cbfn5, into cbfn4");
	CHECK(read_seq(r, 42, 1, 64) == 0, "the frame");
	CHECK(stats(r).received == 1, "only it");
	/* The namespace goes, and the veth with it. */
	sh("ip netns del cbfnns");
	for (uint64_t end = now_ms() + 5000; status(fd).mode != FASTNET_MODE_OFF && now_ms() < end;)
		sleep_ms(20);
	CHECK(status(fd).mode == FASTNET_MODE_OFF && status(fd).error == ENODEV,
	      "the namespace deleted: OFF/ENODEV");
	del_veth("cbfn4");
	close(r);
	close(fd);
}

/* ---- ZC: mode 3, the NIC writes into the slots ------------------------------------------------ */

static const char *zc_cap;    /* --zc-cap: an e1000 driven by capbench's patched driver */
static const char *zc_gen;    /* --zc-gen: the NIC on the same link that sends to it */
static const char *zc_driver; /* --zc-driver: that driver's .ko */
static const char *zc_setup;  /* --zc-setup: names and silences both NICs again */
static struct sender zsend = { -1, 0 };

/* Skips the test where there is no NIC with the hook. */
#define ZC_REQUIRE_NIC()                                                     \
	do {                                                                 \
		if (!zc_cap || zsend.fd < 0) {                               \
			current_skip = "no NIC with fastnet's hook (--zc-cap)"; \
			return;                                              \
		}                                                            \
	} while (0)

static int check_mode(int fd, const char *ifname, uint32_t mode)
{
	return mode_ioctl(fd, FASTNET_IOC_CHECK_MODE, ifname, mode, 0);
}

/* The NIC's own counters since the binding; all ones when they cannot be read. */
static struct fastnet_nic_stats nic_stats(int fd)
{
	struct fastnet_nic_stats st;

	memset(&st, 0xff, sizeof(st));
	if (ioctl(fd, FASTNET_IOC_GET_NIC_STATS, &st) != 0)
		diag("GET_NIC_STATS: %s", strerror(errno));
	return st;
}

static int carrier(const char *ifname)
{
	char path[128], c = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == '1';
}

/* Waits for the link: an e1000 brought down and up (mode 3 in or out) has it again soon. */
static int wait_carrier(const char *ifname, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	while (!carrier(ifname)) {
		if (now_ms() > end) {
			diag("%s: no carrier after %u ms", ifname, timeout_ms);
			return 0;
		}
		sleep_ms(10);
	}
	return 1;
}

/*
 * As send_seq(), but a NIC that cannot take a frame now (ENOBUFS: its queue is stopped because
 * the link holds frames back) is waited for, up to 30 s per frame: nothing is lost.
 */
static int send_seq_wait(struct sender *s, uint32_t first, uint32_t count, size_t len, int vlan)
{
	uint8_t frame[2048];

	for (uint32_t i = 0; i < count; i++) {
		uint64_t end = now_ms() + 30000;

		make_frame(frame, len, first + i, vlan);
		for (;;) {
			ssize_t n = send(s->fd, frame, len, 0);

			if (n == (ssize_t)len)
				break;
			if (n < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) &&
			    now_ms() < end) {
				sleep_ms(1);
				continue;
			}
			diag("send %zu bytes: %s", len, n < 0 ? strerror(errno) : "short");
			return -1;
		}
	}
	return 0;
}

/*
 * A child that sends count frames from first on; its pid, reaped by wait_sender(). It keeps no
 * other file: an inherited /dev/fastnet file would keep the parent's binding alive past close().
 * It does inherit the parent's mappings, and a ring's mapping holds its file too: a test that
 * ends a binding by unmapping forks first.
 */
static pid_t spawn_sender(uint32_t first, uint32_t count, size_t len)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (int fd = 3; fd < 1024; fd++)
			if (fd != zsend.fd)
				close(fd);
		_exit(send_seq_wait(&zsend, first, count, len, 0) ? 1 : 0);
	}
	return pid;
}

static int wait_sender(pid_t pid, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	int st = 0;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (r < 0 || now_ms() > end) {
			diag("sender %d did not finish in %u ms", (int)pid, timeout_ms);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 0;
		}
		sleep_ms(10);
	}
}

/*
 * The interface works with the stack: an AF_PACKET socket on it sees `count` frames sent from
 * the other NIC (frames that are not ours, if any, are skipped).
 */
static int stack_sees_frames(const char *ifname, uint32_t first, uint32_t count)
{
	struct sockaddr_ll sll;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	uint8_t buf[2048];
	uint32_t got = 0;
	uint64_t end;
	int fd;

	if (!wait_carrier(ifname, 10000))
		return 0;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		diag("AF_PACKET socket: %s", strerror(errno));
		return 0;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		diag("bind AF_PACKET to %s: %s", ifname, strerror(errno));
		close(fd);
		return 0;
	}
	if (send_seq_wait(&zsend, first, count, 64, 0)) {
		close(fd);
		return 0;
	}
	end = now_ms() + 10000;
	while (got < count && now_ms() < end) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n >= 18 && buf[6] == 0x02 && buf[7] == 0xcb && buf[12] == 0x08 &&
		    buf[13] == 0x00 && frame_seq(buf) >= first && frame_seq(buf) < first + count)
			got++;
	}
	close(fd);
	if (got != count)
		diag("the stack saw %u of %u frames on %s", got, count, ifname);
	return got == count;
}

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int reload_setup(void)
{
	return zc_setup ? sh("%s", zc_setup) : 0;
}

static void t_zc_refused(void)
{
	int fd = dev_open(0), other = dev_open(0);

	REQUIRE(fd >= 0 && other >= 0, "no device");
	CHECK(check_mode(fd, CAP, FASTNET_MODE_ZC) == EOPNOTSUPP, "CHECK_MODE ZC on a veth: %s",
	      strerror(check_mode(fd, CAP, FASTNET_MODE_ZC)));
	CHECK(set_mode(fd, CAP, FASTNET_MODE_ZC, 64) == EOPNOTSUPP, "ZC on a veth: %s",
	      strerror(set_mode(fd, CAP, FASTNET_MODE_ZC, 64)));
	struct fastnet_status st = status(fd);
	CHECK(st.mode == FASTNET_MODE_OFF && st.error == 0, "still OFF: %u %d", st.mode, st.error);
	CHECK(check_mode(fd, CAP, FASTNET_MODE_RING) == 0, "CHECK_MODE RING on a veth");
	CHECK(check_mode(fd, "cbfnnothere", FASTNET_MODE_ZC) == ENODEV, "CHECK_MODE, no such iface");
	CHECK(check_mode(fd, "lo", FASTNET_MODE_READ) == EINVAL, "CHECK_MODE on loopback");
	CHECK(set_mode(other, CAP, FASTNET_MODE_READ, 0) == 0, "the refusal left the veth free");
	CHECK(check_mode(fd, CAP, FASTNET_MODE_ZC) == EBUSY, "busy comes before the driver");
	CHECK(check_mode(other, CAP, FASTNET_MODE_READ) == 0, "a file is not busy for itself");
	struct fastnet_nic_stats ns;
	CHECK(ioctl(other, FASTNET_IOC_GET_NIC_STATS, &ns) != 0 && errno == EINVAL,
	      "GET_NIC_STATS outside ZC");
	close(other);
	if (!zc_cap) {
		close(fd);
		current_skip = "the veth half only: no NIC with fastnet's hook (--zc-cap)";
		return;
	}
	CHECK(check_mode(fd, zc_cap, FASTNET_MODE_ZC) == 0, "CHECK_MODE ZC on %s: %s", zc_cap,
	      strerror(check_mode(fd, zc_cap, FASTNET_MODE_ZC)));
	/* An MTU mode 3 cannot take: EMSGSIZE, and the NIC is left alone. */
	if (sh("ip link set dev %s mtu 9000", zc_cap) == 0) {
		CHECK(check_mode(fd, zc_cap, FASTNET_MODE_ZC) == EMSGSIZE, "CHECK_MODE, MTU 9000");
		CHECK(set_mode(fd, zc_cap, FASTNET_MODE_ZC, 16) == EMSGSIZE, "ZC with MTU 9000");
		CHECK(status(fd).mode == FASTNET_MODE_OFF, "still OFF");
		sh("ip link set dev %s mtu 1500", zc_cap);
	} else {
		CHECK(0, "cannot set MTU 9000 on %s", zc_cap);
	}
	close(fd);
}

static void t_zc_frames(void)
{
	static const size_t lens[] = { 60, 64, 100, 200, 204, 500, 1000, 1514, 1518, 61 };
	enum { N = sizeof(lens) / sizeof(lens[0]) };
	int fd;
	struct ring r;
	uint8_t frame[2048];

	ZC_REQUIRE_NIC();
	fd = dev_open(O_NONBLOCK);
	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_ZC, 64) == 0, "bind ZC");
	struct fastnet_status st = status(fd);
	CHECK(st.mode == FASTNET_MODE_ZC && strcmp(st.ifname, zc_cap) == 0 && st.depth == 64,
	      "status %u %s %u", st.mode, st.ifname, st.depth);
	REQUIRE(map_ring(fd, &r) == 0, "map");
	CHECK(r.info.slot_size == (uint32_t)page_size() && r.info.slot_count == 64 &&
	      r.info.frame_offset == FASTNET_SLOT_FRAME_OFFSET &&
	      r.info.mmap_bytes == 64 * (uint64_t)page_size() && r.info.max_frame >= 1518,
	      "geometry %u x %u, frame at %u, max %u, %llu bytes", r.info.slot_count,
	      r.info.slot_size, r.info.frame_offset, r.info.max_frame,
	      (unsigned long long)r.info.mmap_bytes);
	for (uint32_t i = 0; i < 64; i++)
		CHECK(status_of(slot_at(&r, i)) == FASTNET_SLOT_FREE, "slot %u starts FREE", i);
	uint8_t rbuf[64];
	CHECK(read(fd, rbuf, sizeof(rbuf)) < 0 && errno == EINVAL, "read() in ZC mode");
	CHECK(!readable(fd), "nothing readable yet");

	/* Frames 4 and 8 are tagged: the NIC takes the tag out, fastnet puts it back. */
	for (uint32_t i = 0; i < N; i++)
		REQUIRE(send_seq_wait(&zsend, 3000 + i, 1, lens[i], i == 4 || i == 8) == 0, "send");
	CHECK(wait_received(fd, N, 10000), "%d frames", N);
	CHECK(wait_ready(&r, 0, N, 5000), "%d slots filled", N);
	CHECK(readable(fd), "poll says readable");
	for (uint32_t i = 0; i < N; i++) {
		struct fastnet_slot *s = slot_at(&r, i);
		int vlan = i == 4 || i == 8;

		make_frame(frame, lens[i], 3000 + i, vlan);
		CHECK(s->len == lens[i] && s->wire_len == lens[i] &&
		      s->flags == (vlan ? FASTNET_FRAME_VLAN : 0),
		      "slot %u: len %u wire %u flags %#x, sent %zu", i, s->len, s->wire_len,
		      s->flags, lens[i]);
		CHECK(memcmp((uint8_t *)s + r.info.frame_offset, frame, lens[i]) == 0,
		      "slot %u holds what was sent", i);
	}
	CHECK(status_of(slot_at(&r, N)) == FASTNET_SLOT_FREE, "slot %d untouched", N);
	for (uint32_t i = 0; i < N; i++)
		release(slot_at(&r, i));
	CHECK(!readable(fd), "not readable once all are handed back");
	struct fastnet_stats s = stats(fd);
	CHECK(s.received == N && s.delivered == N && s.dropped == 0 && s.truncated == 0,
	      "received %llu delivered %llu dropped %llu", (unsigned long long)s.received,
	      (unsigned long long)s.delivered, (unsigned long long)s.dropped);
	struct fastnet_nic_stats ns = nic_stats(fd);
	CHECK(ns.missed == 0, "the NIC missed %llu", (unsigned long long)ns.missed);
	/*
	 * The slots go round: 64 more frames fill 10..63 and 0..8; the NIC holds slot 9 back (e1000
	 * never fills the descriptor its tail points at) until another slot comes back, so the
	 * 64th frame lands once the process has handed some back and poll()ed.
	 */
	REQUIRE(send_seq_wait(&zsend, 4000, 64, 64, 0) == 0, "send");
	CHECK(wait_ready(&r, N, 63, 10000), "all slots but one");
	sleep_ms(200);
	CHECK(status_of(slot_at(&r, N - 1)) == FASTNET_SLOT_FREE, "the last one held back");
	for (uint32_t k = 0; k < 63; k++) {
		struct fastnet_slot *sl = slot_at(&r, (N + k) % 64);

		CHECK(frame_seq((uint8_t *)sl + r.info.frame_offset) == 4000 + k, "slot %u: seq %u",
		      (N + k) % 64, frame_seq((uint8_t *)sl + r.info.frame_offset));
		release(sl);
	}
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	CHECK(poll(&pf, 1, 5000) == 1 && (pf.revents & POLLIN), "poll(): the 64th comes");
	CHECK(wait_ready(&r, N - 1, 1, 5000) &&
	      frame_seq((uint8_t *)slot_at(&r, N - 1) + r.info.frame_offset) == 4063,
	      "slot %d: the 64th frame", N - 1);
	release(slot_at(&r, N - 1));
	check_accounting(fd);
	/* The NIC's buffers were sized for this MTU: no change while bound (EBUSY). */
	static const int mtus[] = { 9000, 1400 };
	for (unsigned i = 0; i < 2; i++) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "ip link set dev %s mtu %d 2>/dev/null", zc_cap, mtus[i]);
		if (system(cmd) == 0) {
			CHECK(0, "MTU %d accepted while in ZC", mtus[i]);
			sh("ip link set dev %s mtu 1500", zc_cap);
		}
	}
	munmap(r.base, r.info.mmap_bytes);
	close(fd);
}

/*
 * A ring the process does not hand back: the NIC gets no more slots. A real NIC then drops what
 * it cannot store and counts it (GET_NIC_STATS); on the VM's link the e1000 takes nothing while
 * it has no descriptor and the sender waits, so here none is lost: every frame sent ends in a
 * slot, in order. poll() hands slots that came back to the NIC at once (kick), not at the
 * driver's next watchdog (2 s). The emulated e1000's drop registers are not cleared when read,
 * as the chip's are, so the driver's totals of them only grow once one is set: printed, not
 * checked.
 */
static void t_zc_full_ring(void)
{
	enum { DEPTH = 16, FRAMES = 100 };
	int fd;
	struct ring r;
	pid_t child;
	uint64_t worst_ms = 0;

	ZC_REQUIRE_NIC();
	fd = dev_open(O_NONBLOCK);
	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_ZC, DEPTH) == 0, "bind ZC");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	child = spawn_sender(5000, FRAMES, 64);
	REQUIRE(child > 0, "fork");
	/* All but one: the NIC never fills the descriptor its tail points at. */
	CHECK(wait_ready(&r, 0, DEPTH - 1, 10000), "the ring fills");
	sleep_ms(500);
	struct fastnet_stats st = stats(fd);
	CHECK(st.received == DEPTH - 1 && st.delivered == DEPTH - 1,
	      "with no slot free the NIC got no more: received %llu delivered %llu",
	      (unsigned long long)st.received, (unsigned long long)st.delivered);

	uint32_t tail = 0, got = 0, expect = 5000, gaps = 0;
	uint64_t idle_since = now_ms();
	struct fastnet_nic_stats ns0 = nic_stats(fd), ns;
	/* Until every frame is read, or nothing came for 5 s (a real NIC would have dropped). */
	while (got < FRAMES && now_ms() - idle_since < 5000) {
		struct fastnet_slot *s = slot_at(&r, tail);

		if (status_of(s) == FASTNET_SLOT_READY) {
			uint32_t seq = frame_seq((uint8_t *)s + r.info.frame_offset);

			if (seq != expect)
				gaps++;
			expect = seq + 1;
			release(s);
			tail = (tail + 1) % DEPTH;
			got++;
			idle_since = now_ms();
			continue;
		}
		/* Nothing to read: poll() gives the handed-back slots to the NIC. */
		uint64_t t0 = now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 3000) == 1 && (p.revents & POLLIN) && now_ms() - t0 > worst_ms)
			worst_ms = now_ms() - t0;
	}
	CHECK(wait_sender(child, 30000), "the sender sent all %d", FRAMES);
	ns = nic_stats(fd);
	st = stats(fd);
	/* The VM's link holds frames back rather than drop them: none lost. */
	CHECK(got == FRAMES && st.received == got && st.delivered == got && st.dropped == 0,
	      "read %u of %d; received %llu delivered %llu dropped %llu", got, FRAMES,
	      (unsigned long long)st.received, (unsigned long long)st.delivered,
	      (unsigned long long)st.dropped);
	CHECK(gaps == 0, "%u frames out of order", gaps);
	CHECK(worst_ms < 1500, "slots handed back reached the NIC after %llu ms (no kick?)",
	      (unsigned long long)worst_ms);
	diag("full ring: %u frames read; the NIC's counters: missed %llu -> %llu, no_buffer %llu -> "
	     "%llu; longest wait after handing slots back %llu ms", got,
	     (unsigned long long)ns0.missed, (unsigned long long)ns.missed,
	     (unsigned long long)ns0.no_buffer, (unsigned long long)ns.no_buffer,
	     (unsigned long long)worst_ms);
	check_accounting(fd);
	munmap(r.base, r.info.mmap_bytes);
	close(fd);
}

/* Back to OFF: the driver's own buffers, the stack sees frames; RING on the same NIC copies. */
static void t_zc_back_to_off(void)
{
	int fd;
	struct ring r;

	ZC_REQUIRE_NIC();
	fd = dev_open(O_NONBLOCK);
	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_ZC, 32) == 0, "bind ZC");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	REQUIRE(send_seq_wait(&zsend, 6000, 5, 64, 0) == 0, "send");
	CHECK(wait_ready(&r, 0, 5, 10000), "5 slots");
	CHECK(set_mode(fd, NULL, FASTNET_MODE_OFF, 0) == 0, "OFF");
	CHECK(status(fd).mode == FASTNET_MODE_OFF, "status OFF");
	CHECK(frame_seq((uint8_t *)slot_at(&r, 4) + r.info.frame_offset) == 6004,
	      "the mapping outlives the binding");
	munmap(r.base, r.info.mmap_bytes);
	CHECK(stack_sees_frames(zc_cap, 6100, 5), "the stack has the NIC back");
	/* RING on the NIC: frames come up the stack and are copied. */
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_RING, 16) == 0, "bind RING");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	CHECK(r.info.slot_size == FASTNET_SLOT_SIZE, "RING geometry");
	REQUIRE(send_seq_wait(&zsend, 6200, 3, 100, 0) == 0, "send");
	CHECK(wait_ready(&r, 0, 3, 10000), "3 slots in RING mode");
	CHECK(frame_seq((uint8_t *)slot_at(&r, 2) + r.info.frame_offset) == 6202, "seq");
	munmap(r.base, r.info.mmap_bytes);
	/* And ZC again on the same file. */
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_ZC, 8) == 0, "RING -> ZC");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	REQUIRE(send_seq_wait(&zsend, 6300, 2, 64, 0) == 0, "send");
	CHECK(wait_ready(&r, 0, 2, 10000), "2 slots in ZC again");
	munmap(r.base, r.info.mmap_bytes);
	check_accounting(fd);
	close(fd);
}

/*
 * close() while the NIC is writing into slots the process is not reading. The mapping holds
 * the file: the binding ends when it goes too (as a process exiting mid-capture does).
 */
static void t_zc_close_in_flight(void)
{
	int fd, probe;
	struct ring r;
	pid_t child;

	ZC_REQUIRE_NIC();
	fd = dev_open(O_NONBLOCK);
	probe = dev_open(0);
	REQUIRE(fd >= 0 && probe >= 0, "no device");
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_ZC, 32) == 0, "bind ZC");
	child = spawn_sender(7000, 3000, 64);
	REQUIRE(child > 0, "fork");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	/* Read some, leave the ring full, close with the sender still going. */
	uint32_t tail = 0, got = 0;
	uint64_t end = now_ms() + 20000;
	while (got < 200 && now_ms() < end) {
		struct fastnet_slot *s = slot_at(&r, tail);

		if (status_of(s) != FASTNET_SLOT_READY) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			poll(&p, 1, 100);
			continue;
		}
		release(s);
		tail = (tail + 1) % 32;
		got++;
	}
	CHECK(got == 200, "read %u of 200 before closing", got);
	close(fd);
	CHECK(check_mode(probe, zc_cap, FASTNET_MODE_READ) == EBUSY,
	      "still bound while the ring is mapped");
	CHECK(wait_ready(&r, tail, 31, 10000), "the NIC filled the ring after close()");
	CHECK(munmap(r.base, r.info.mmap_bytes) == 0, "unmap: the last reference");
	CHECK(check_mode(probe, zc_cap, FASTNET_MODE_READ) == 0, "unbound once unmapped");
	CHECK(wait_sender(child, 60000), "the rest went to the stack: the sender finished");
	CHECK(stack_sees_frames(zc_cap, 7500, 3), "the stack has the NIC back");
	close(probe);
}

/* Mode 3 survives the interface going down and up, a ring resize and a feature change. */
static void t_zc_reconfigure(void)
{
	int fd;
	struct ring r;
	uint8_t frame[256];
	uint32_t next = 0;

	ZC_REQUIRE_NIC();
	fd = dev_open(O_NONBLOCK);
	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_ZC, 64) == 0, "bind ZC");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	REQUIRE(send_seq_wait(&zsend, 8000, 4, 64, 0) == 0, "send");
	CHECK(wait_ready(&r, next, 4, 10000), "4 slots");
	next += 4;

	CHECK(sh("ip link set dev %s down", zc_cap) == 0, "down");
	CHECK(status(fd).mode == FASTNET_MODE_ZC, "still ZC while down");
	CHECK(sh("ip link set dev %s up", zc_cap) == 0 && wait_carrier(zc_cap, 10000), "up");
	REQUIRE(send_seq_wait(&zsend, 8100, 4, 64, 0) == 0, "send");
	CHECK(wait_ready(&r, next, 4, 10000), "after down and up: the next 4 slots");
	CHECK(frame_seq((uint8_t *)slot_at(&r, next) + r.info.frame_offset) == 8100, "in order");
	next += 4;

	if (sh("ethtool -G %s rx 128", zc_cap) == 0) {
		REQUIRE(send_seq_wait(&zsend, 8200, 4, 64, 0) == 0, "send");
		CHECK(wait_ready(&r, next, 4, 10000), "after a ring resize: the next 4 slots");
		next += 4;
		CHECK(sh("ethtool -G %s rx 256", zc_cap) == 0, "resize back");
	} else {
		CHECK(0, "ethtool -G %s rx 128 failed", zc_cap);
	}

	/* With the NIC's tag stripping off, a tagged frame arrives as sent, tag and all. */
	if (sh("ethtool -K %s rxvlan off", zc_cap) == 0) {
		REQUIRE(send_seq_wait(&zsend, 8300, 1, 200, 1) == 0, "send tagged");
		CHECK(wait_ready(&r, next, 1, 10000), "tagged frame");
		struct fastnet_slot *s = slot_at(&r, next);
		make_frame(frame, 200, 8300, 1);
		CHECK(s->len == 200 && s->flags == 0 &&
		      memcmp((uint8_t *)s + r.info.frame_offset, frame, 200) == 0,
		      "tag left in by the NIC: len %u flags %#x", s->len, s->flags);
		next++;
		CHECK(sh("ethtool -K %s rxvlan on", zc_cap) == 0, "rxvlan back on");
	} else {
		CHECK(0, "ethtool -K %s rxvlan off failed", zc_cap);
	}
	struct fastnet_stats st = stats(fd);
	CHECK(st.received == next && st.delivered == next && st.dropped == 0,
	      "received %llu delivered %llu dropped %llu of %u", (unsigned long long)st.received,
	      (unsigned long long)st.delivered, (unsigned long long)st.dropped, next);
	munmap(r.base, r.info.mmap_bytes);
	close(fd);
}

/* Where the NIC sits on the PCI bus: the name its driver's bind/unbind files take. */
static int pci_address(const char *ifname, char *out, size_t n)
{
	char path[128], target[256];
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	len = readlink(path, target, sizeof(target) - 1);
	if (len <= 0)
		return -1;
	target[len] = 0;
	snprintf(out, n, "%s", strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	return 0;
}

/* A poller sleeps on a ZC file; `how` takes the device away; the file is left OFF/ENODEV. */
static void zc_device_goes(const char *how_fmt, const char *arg, const char *what)
{
	int fd;
	struct ring r;
	struct poller_arg a;
	pthread_t t;

	fd = dev_open(O_NONBLOCK);
	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_ZC, 16) == 0, "bind ZC");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	REQUIRE(send_seq_wait(&zsend, 9000, 2, 64, 0) == 0, "send");
	CHECK(wait_ready(&r, 0, 2, 10000), "2 slots");
	release(slot_at(&r, 0));
	release(slot_at(&r, 1));
	memset(&a, 0, sizeof(a));
	a.fd = fd;
	pthread_create(&t, NULL, blocking_poller, &a);
	sleep_ms(300);
	CHECK(!a.done, "poller sleeps");
	uint64_t t0 = now_ms();
	CHECK(sh(how_fmt, arg) == 0, "%s", what);
	CHECK(wait_done(&a.done, 10000), "poller woken");
	pthread_join(t, NULL);
	diag("%s took %llu ms", what, (unsigned long long)(now_ms() - t0));
	CHECK(a.rc == 1 && (a.revents & POLLERR), "POLLERR: rc %d revents %#x", a.rc, a.revents);
	struct fastnet_status st = status(fd);
	CHECK(st.mode == FASTNET_MODE_OFF && st.error == ENODEV, "status OFF/ENODEV: %u %d",
	      st.mode, st.error);
	CHECK(frame_seq((uint8_t *)slot_at(&r, 1) + r.info.frame_offset) == 9001,
	      "the mapping outlives the device");
	CHECK(munmap(r.base, r.info.mmap_bytes) == 0, "unmap");
	check_accounting(fd);
	close(fd);
}

static void t_zc_unbind(void)
{
	char pci[256];

	ZC_REQUIRE_NIC();
	REQUIRE(pci_address(zc_cap, pci, sizeof(pci)) == 0, "no PCI address for %s", zc_cap);
	zc_device_goes("echo %s > /sys/bus/pci/drivers/e1000/unbind", pci,
		       "unbind the NIC from its driver");
	CHECK(sh("echo %s > /sys/bus/pci/drivers/e1000/bind", pci) == 0, "bind it again");
	CHECK(reload_setup() == 0, "the interface is back");
	CHECK(stack_sees_frames(zc_cap, 9100, 3), "the stack has it");
}

static void t_zc_unload_driver(void)
{
	ZC_REQUIRE_NIC();
	REQUIRE(zc_driver, "no --zc-driver to load again");
	/* fastnet's open ZC file keeps fastnet loaded... */
	int fd = dev_open(0);
	REQUIRE(fd >= 0 && set_mode(fd, zc_cap, FASTNET_MODE_ZC, 8) == 0, "bind ZC");
	long rc = syscall(SYS_delete_module, "fastnet", O_NONBLOCK);
	int err = errno;
	CHECK(rc != 0 && (err == EWOULDBLOCK || err == EBUSY), "fastnet unload refused: %ld %s",
	      rc, strerror(err));
	close(fd);
	/* ...but not the driver, which takes the binding down with it. */
	zc_device_goes("rmmod %s", "e1000", "unload the driver");
	CHECK(sh("insmod %s", zc_driver) == 0, "load it again");
	CHECK(reload_setup() == 0, "the interface is back");
	CHECK(stack_sees_frames(zc_cap, 9200, 3), "the stack has it");
}

/* Frames through ZC with a consumer, counts exact, memory back where it was. */
static void t_zc_soak(void)
{
	enum { FRAMES = 20000, DEPTH = 256 };
	struct memsnap before, after;
	struct ring r;
	int fd;

	ZC_REQUIRE_NIC();
	settle_memory();
	read_mem(&before);
	fd = dev_open(O_NONBLOCK);
	REQUIRE(fd >= 0, "no device");
	REQUIRE(set_mode(fd, zc_cap, FASTNET_MODE_ZC, DEPTH) == 0, "bind ZC");
	REQUIRE(map_ring(fd, &r) == 0, "map");
	uint64_t t0 = now_ms(), end = t0 + 120000;
	pid_t child = spawn_sender(0, FRAMES, 64);
	REQUIRE(child > 0, "fork");
	uint32_t tail = 0, gaps = 0, expect = 0;
	uint64_t got = 0, counted = 0, idle_since = now_ms();
	struct fastnet_nic_stats ns;
	while (got < FRAMES && now_ms() < end && now_ms() - idle_since < 5000) {
		struct fastnet_slot *s = slot_at(&r, tail);

		if (status_of(s) != FASTNET_SLOT_READY) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			poll(&p, 1, 100);
			continue;
		}
		idle_since = now_ms();
		const uint8_t *f = (const uint8_t *)s + r.info.frame_offset;
		/* The counter's read: bytes 12-13 of what the NIC wrote. */
		if (s->len >= 14 && f[12] == 0x08 && f[13] == 0x00)
			counted++;
		if (frame_seq(f) != expect)
			gaps++;
		expect = frame_seq(f) + 1;
		release(s);
		tail = (tail + 1) % DEPTH;
		got++;
	}
	uint64_t ms = now_ms() - t0;
	CHECK(wait_sender(child, 30000), "sender");
	ns = nic_stats(fd);
	struct fastnet_stats st = stats(fd);
	CHECK(got == FRAMES && st.received == got && st.delivered == got && st.dropped == 0 &&
	      counted == got,
	      "read %llu (IPv4 %llu) of %d; received %llu delivered %llu dropped %llu",
	      (unsigned long long)got, (unsigned long long)counted, FRAMES,
	      (unsigned long long)st.received, (unsigned long long)st.delivered,
	      (unsigned long long)st.dropped);
	CHECK(gaps == 0, "%u frames out of order", gaps);
	diag("ZC soak: %llu of %d frames in %llu ms (emulated: compare only within this run), NIC "
	     "missed %llu", (unsigned long long)got, FRAMES, (unsigned long long)ms,
	     (unsigned long long)ns.missed);
	check_accounting(fd);
	munmap(r.base, r.info.mmap_bytes);
	close(fd);
	settle_memory();
	read_mem(&after);
	diag("ZC soak: Slab %+ld kB, skbuff_head_cache %+ld, MemAvailable %+ld kB",
	     after.slab_kb - before.slab_kb, after.skbuff_objs - before.skbuff_objs,
	     after.mem_available_kb - before.mem_available_kb);
	CHECK(after.slab_kb - before.slab_kb < 8192, "Slab grew by %ld kB",
	      after.slab_kb - before.slab_kb);
	CHECK(before.mem_available_kb - after.mem_available_kb < 32768,
	      "MemAvailable fell by %ld kB", before.mem_available_kb - after.mem_available_kb);
}

/* After rmmod fastnet: the NIC is the stack's, with its own buffers. */
static void t_zc_after_unload(void)
{
	ZC_REQUIRE_NIC();
	CHECK(access("/sys/module/fastnet", F_OK) != 0, "fastnet is unloaded");
	CHECK(stack_sees_frames(zc_cap, 9300, 5), "the stack sees frames on %s", zc_cap);
}

static void run_zc_checks(void)
{
	run_test("ZC: refused without the driver's hook (veth), CHECK_MODE, MTU", t_zc_refused);
	run_test("ZC: frames whole, in order and in wire layout in the slots the NIC wrote",
		 t_zc_frames);
	run_test("ZC: a full ring stops the NIC; counts close; poll() hands slots back",
		 t_zc_full_ring);
	run_test("ZC: back to OFF gives the stack its NIC; RING and ZC again", t_zc_back_to_off);
	run_test("ZC: close with frames in flight", t_zc_close_in_flight);
	run_test("ZC: interface down and up, ring resized, tag stripping off", t_zc_reconfigure);
	run_test("ZC: the NIC unbound from its driver under a poller", t_zc_unbind);
	run_test("ZC: the driver unloaded under a poller; fastnet's unload refused", t_zc_unload_driver);
}

/* Everything but the READ/RING soak. */
static void run_module_checks(void)
{
	run_test("version and initial state", t_version_and_initial_state);
	run_test("bad requests are refused", t_bad_requests);
	run_test("DROP mode frees every frame", t_drop_mode);
	run_test("EBUSY: one interface per file, one file per interface", t_busy);
	run_test("READ: frames whole and in wire layout, non-blocking, poll", t_read_basics);
	run_test("READ: short buffers truncate and say so", t_read_short_buffers);
	run_test("READ: bounded queue, SET_LIMIT, drops counted", t_read_bound);
	run_test("READ: blocking read, EINTR, poll wake-up", t_blocking_read_and_poll);
	run_test("RING: geometry, mmap, slots, hand-back, full ring", t_ring);
	run_test("RING: frames beyond a slot are truncated and say so", t_ring_truncation);
	run_test("RING: the largest ring", t_ring_largest);
	run_test("interface deleted under a sleeping reader (READ)", t_unregister_read);
	run_test("interface deleted under a poller with the ring mapped (RING)", t_unregister_ring);
	run_test("interface moved to another namespace", t_netns_move);
	run_test("unload refused while a reader sleeps", t_unload_while_reading);
	run_test("DROP soak: no growth of kernel allocations", t_soak_drop);
	run_test("INJECT: frame lengths, wire layout, what the mode refuses", t_inject_lengths);
	run_test("INJECT: SEND batches, partial batches and their errors, GET_STATS sizes",
		 t_inject_batches);
	run_test("INJECT: exact counts against the veth's and its peer's counters; memory back",
		 t_inject_counts);
	run_test("INJECT: a qdisc that drops says ENOBUFS and takes nothing; interface down",
		 t_inject_refused);
	run_test("INJECT_RX: frames enter as received; a READ file there sees them", t_inject_rx);
	run_test("INJECT: files share an interface with a receiving one; mode changes; OFF",
		 t_inject_sharing);
	run_test("INJECT: interface deleted or moved away while bound", t_inject_unregister);
	run_test("INJECT: the interface is looked up in the caller's namespace", t_inject_netns);
}

/* Numbered when repeated, so that a stress run's failures can be told apart and counted. */
static void run_soak(const char *name, void (*fn)(void))
{
	char numbered[128];

	for (uint32_t i = 1; i <= soak_repeat; i++) {
		snprintf(numbered, sizeof(numbered), "%s, run %u of %u", name, i, soak_repeat);
		run_test(soak_repeat > 1 ? numbered : name, fn);
	}
}

static void run_soaks(void)
{
	run_soak("READ and RING soak with a consumer", t_soak_read_ring);
	run_soak("ZC soak with a consumer: counts exact, memory back", t_zc_soak);
}

/* A positive count, or 0 for anything else: a typo must not turn a soak into no soak. */
static uint32_t parse_count(const char *s)
{
	char *end;
	unsigned long v;

	/* strtoul() would take leading blanks and a minus sign. */
	if (s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > UINT32_MAX)
		return 0;
	return (uint32_t)v;
}

/* -------------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--soak-frames") == 0 && i + 1 < argc) {
			soak_frames = parse_count(argv[++i]);
		} else if (strcmp(argv[i], "--soak-repeat") == 0 && i + 1 < argc) {
			soak_repeat = parse_count(argv[++i]);
		} else if (strcmp(argv[i], "--soak-only") == 0) {
			soak_only = 1;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(argv[i], "--zc-cap") == 0 && i + 1 < argc) {
			zc_cap = argv[++i];
		} else if (strcmp(argv[i], "--zc-gen") == 0 && i + 1 < argc) {
			zc_gen = argv[++i];
		} else if (strcmp(argv[i], "--zc-driver") == 0 && i + 1 < argc) {
			zc_driver = argv[++i];
		} else if (strcmp(argv[i], "--zc-setup") == 0 && i + 1 < argc) {
			zc_setup = argv[++i];
		} else if (strcmp(argv[i], "--after-unload") == 0) {
			after_unload = 1;
		} else {
			printf("Bail out! unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (!soak_frames || !soak_repeat) {
		printf("Bail out! --soak-frames and --soak-repeat take a positive count\n");
		return 2;
	}
	if (zc_cap && !zc_gen) {
		printf("Bail out! --zc-cap needs --zc-gen\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (zc_cap && sender_open(&zsend, zc_gen)) {
		printf("Bail out! cannot send from %s\n", zc_gen);
		return 2;
	}
	if (after_unload) {
		run_test("ZC: the NIC works with the stack after rmmod fastnet", t_zc_after_unload);
		sender_close(&zsend);
		printf("1..%d\n", tests_run);
		return tests_failed ? 1 : 0;
	}
	if (make_veth(CAP, GEN) || make_veth(CAP2, GEN2) || sender_open(&gen, GEN)) {
		printf("Bail out! cannot build the veth test bed\n");
		return 2;
	}
	if (!soak_only) {
		run_module_checks();
		run_zc_checks();
	}
	run_soaks();
	sender_close(&gen);
	sender_close(&zsend);
	del_veth(CAP);
	del_veth(CAP2);
	printf("1..%d\n", tests_run);
	printf("# %d passed, %d failed\n", tests_run - tests_failed, tests_failed);
	return tests_failed ? 1 : 0;
}
