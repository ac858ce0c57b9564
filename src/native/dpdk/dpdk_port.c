/*
 * dpdk: DPDK's EAL, once per process, and ports of its poll-mode drivers read through the one
 * native loop. See dpdk_port.h for the shape; the choices below say why.
 */
#include "dpdk_port.h"

#include <string.h>

#if __has_include(<rte_ethdev.h>)

#include <rte_config.h>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include <dirent.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monotonic.h"

#if __has_include(<xdp/xsk.h>)
#include <bpf/libbpf.h>

#include "../af-xdp/af_xdp_internal.h"
#endif

/* Frames one rx burst asks for: DPDK's usual burst, and what its af_xdp PMD peeks at once. */
#define BURST 64u
/* Frames between a prefetch and the count that reads them. */
#define PREFETCH_AHEAD 4u
/* EAL's heap: ethdev's and the PMDs' own structures only, since the mbufs live in our mappings. */
#define EAL_HEAP_MB "128"
/* The per-lcore cache of a pool, DPDK's usual size. */
#define POOL_CACHE 256u
/* af_xdp's PMD fills each queue's fill ring (4096 entries, its size) from the pool. */
#define AF_XDP_FILL 4096u
/* Descriptors of af_xdp's rx and tx rings: no fewer than its fill ring, or frames wait outside. */
#define AF_XDP_RING 4096u
/* af_packet's kernel ring in live mode, and its slack beyond a drain: fewer lose frames silently. */
#define AF_PACKET_LIVE_FRAMES 16384u
#define AF_PACKET_FRAME 2048u
#define AF_PACKET_BLOCK 65536u
/* Descriptors below this are watched for what af_xdp's PMD leaves open (port_free). */
#define FD_WATCH 8192
/* How long an open empties a new port: what arrived before it was bound to the interface. */
#define SETTLE_NS 20000000ull

struct cb_dpdk_port {
	uint16_t id;
	uint16_t queues;
	uint16_t next_queue; /* round robin over the queues, for af_xdp with several */
	int added;	     /* rte_dev_probe succeeded: there is a device to remove */
	/*
	 * The descriptors open before the port was added (fds below FD_WATCH): af_xdp's PMD (DPDK
	 * 22.11 with libxdp) leaves its AF_XDP socket and XDP objects open when it closes, which keeps
	 * the queue bound, so that no later socket, DPDK's or capbench's af-xdp, can bind it.
	 */
	uint64_t fds_before[FD_WATCH / 64];
	int promisc_before; /* the interface's IFF_PROMISC before the PMD set it, or -1 */
	uint32_t prog_id;   /* af_xdp: the XDP program its PMD attached, 0 for none */
	/*
	 * af_packet: the PMD's AF_PACKET socket, for the kernel's own counts. The PMD reports no
	 * drops (its imissed stays 0 when its ring overflows), so they are read here; -1 elsewhere.
	 */
	int packet_fd;
	uint64_t kernel_packets, kernel_drops; /* PACKET_STATISTICS since the port was emptied */
	struct rte_mempool *pool;
	uint8_t *mem;
	size_t mem_len;
	char ifname[IF_NAMESIZE];
	char pmd[16];
	char vdev[48];
	struct cb_dpdk_port *next;
};

/* ---- DPDK's log: kept, not printed -------------------------------------------------------- */

static char last_log[160];

static ssize_t keep_log(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	size_t n = size < sizeof(last_log) - 1 ? size : sizeof(last_log) - 1;
	memcpy(last_log, buf, n);
	while (n > 0 && (last_log[n - 1] == '\n' || last_log[n - 1] == ' '))
		n--;
	last_log[n] = '\0';
	return (ssize_t)size;
}

/* "": nothing logged since the last call. */
static const char *take_log(void)
{
	static char out[sizeof(last_log)];
	memcpy(out, last_log, sizeof(out));
	last_log[0] = '\0';
	return out;
}

/* ---- the EAL ---------------------------------------------------------------------------- */

enum eal_state { EAL_NEVER, EAL_UP, EAL_FAILED, EAL_GONE };

static pthread_mutex_t eal_lock = PTHREAD_MUTEX_INITIALIZER;
static enum eal_state eal_state;
static struct cb_error eal_failure;
static struct cb_dpdk_port *ports; /* every port added, under eal_lock */
static unsigned vdev_serial;

struct eal_start {
	int argc;
	char *argv[24];
	int rc;
	int err;
};

/* EAL pins the thread that initialises it to its main lcore: a thread of its own, not Node's. */
static void *eal_thread(void *arg)
{
	struct eal_start *s = arg;
	s->rc = rte_eal_init(s->argc, s->argv);
	s->err = s->rc < 0 ? rte_errno : 0;
	return NULL;
}

/* The first CPU this thread may run on: EAL's main lcore, which nothing here runs on. */
static int first_cpu(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				return c;
	return 0;
}

static int eal_start(const char *pci, struct cb_error *e)
{
	char cpu[16], prefix[48], dir[] = "/tmp/capbench-dpdk-XXXXXX", sub[sizeof(dir) + 64];
	struct eal_start s = { 0 };
	/* EAL keeps pointers into argv and rewrites it: strings that outlive the call. */
	static char args[24][64];

	snprintf(cpu, sizeof(cpu), "%d", first_cpu());
	snprintf(prefix, sizeof(prefix), "capbench-%d", (int)getpid());
	const char *argv[] = { "capbench",
			       "--no-huge",
			       "-m",
			       EAL_HEAP_MB,
			       "--no-shconf",
			       "--no-telemetry",
			       "--file-prefix",
			       prefix,
			       "-l",
			       cpu,
			       pci ? "-a" : "--no-pci",
			       pci ? pci : NULL };
	size_t argc = sizeof(argv) / sizeof(argv[0]) - (pci ? 0 : 1);
	for (size_t i = 0; i < argc; i++) {
		snprintf(args[i], sizeof(args[i]), "%s", argv[i]);
		s.argv[i] = args[i];
	}
	s.argc = (int)argc;

	/*
	 * --in-memory cannot go with --no-huge, and --no-shconf still makes an empty runtime
	 * directory: make it in a directory of our own and remove both once EAL is up.
	 */
	if (!mkdtemp(dir))
		return cb_fail(e, errno, "dpdk: make EAL's runtime directory under /tmp");
	setenv("RUNTIME_DIRECTORY", dir, 1);
	FILE *log = fopencookie(NULL, "w", (cookie_io_functions_t){ .write = keep_log });
	if (log) {
		setvbuf(log, NULL, _IOLBF, 0);
		rte_openlog_stream(log);
	}
#if __has_include(<xdp/xsk.h>)
	cb_xdp_quiet_libraries(); /* af_xdp's PMD creates its socket through libxdp */
#endif

	pthread_t t;
	int rc = pthread_create(&t, NULL, eal_thread, &s);
	if (rc == 0) {
		pthread_setname_np(t, "cb-dpdk-eal");
		pthread_join(t, NULL);
	}
	unsetenv("RUNTIME_DIRECTORY");
	snprintf(sub, sizeof(sub), "%s/dpdk/%s", dir, prefix);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/dpdk", dir);
	rmdir(sub);
	rmdir(dir);
	if (rc != 0)
		return cb_fail(e, rc, "dpdk: start a thread for EAL");
	if (s.rc < 0) {
		const char *why = take_log();
		return cb_fail(e, s.err, "dpdk: rte_eal_init (%s)%s%s",
			       "--no-huge --no-shconf, one lcore", *why ? ": " : "", why);
	}
	return 0;
}

/* Why EAL cannot be used in this process (it failed to start, or was cleaned up), or 0. */
static int eal_unusable(struct cb_error *e)
{
	if (eal_state == EAL_FAILED) {
		*e = eal_failure;
		return -1;
	}
	if (eal_state == EAL_GONE)
		return cb_fail(e, EALREADY,
			       "dpdk: EAL was cleaned up in this process and cannot start again");
	return 0;
}

/* EAL up, or why not; under eal_lock. */
static int eal_ready(const char *pci, struct cb_error *e)
{
	if (eal_state == EAL_UP)
		return 0;
	if (eal_unusable(e) < 0)
		return -1;
	if (eal_start(pci, e) < 0) {
		eal_state = EAL_FAILED;
		eal_failure = *e;
		return -1;
	}
	eal_state = EAL_UP;
	return 0;
}

/*
 * A thread EAL does not know gets no mempool cache: every mbuf it frees or the PMD allocates for
 * it would go through the pool's shared ring. Registering gives it an lcore id, and the cache.
 */
static void register_thread(void)
{
	if (rte_lcore_id() == LCORE_ID_ANY)
		(void)rte_thread_register();
}

/* ---- the mbufs' memory -------------------------------------------------------------------- */

/*
 * n mbufs of `obj` bytes each (header, mbuf, headroom and data), densely in one mapping of
 * ours: af_xdp's PMD takes the pool's memory from its first object for n × obj bytes as UMEM.
 */
static int pool_create(struct cb_dpdk_port *p, unsigned n, unsigned obj, struct cb_error *e)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	size_t len = (size_t)n * obj;

	p->mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return cb_fail(e, errno, "dpdk: map %zu bytes for %u mbufs", len, n);
	}
	p->mem_len = len;
	/* af_xdp pins it; every `ip` capbench forks would copy pinned pages (MACHINE-NOTES.md). */
	(void)madvise(p->mem, len, MADV_DONTFORK);

	snprintf(name, sizeof(name), "cb-mbufs%u", vdev_serial);
	unsigned header = RTE_CACHE_LINE_SIZE; /* the object header, cache-aligned */
	p->pool = rte_mempool_create_empty(name, n, obj - header, POOL_CACHE,
					   sizeof(struct rte_pktmbuf_pool_private), SOCKET_ID_ANY,
					   RTE_MEMPOOL_F_NO_SPREAD);
	if (!p->pool)
		return cb_fail(e, rte_errno, "dpdk: create a pool of %u mbufs", n);
	if (p->pool->header_size + p->pool->elt_size + p->pool->trailer_size != obj)
		return cb_fail(e, EINVAL, "dpdk: a pool object takes %u bytes, not %u",
			       p->pool->header_size + p->pool->elt_size + p->pool->trailer_size,
			       obj);
	int rc = rte_mempool_set_ops_byname(p->pool, "ring_mp_mc", NULL);
	if (rc < 0)
		return cb_fail(e, -rc, "dpdk: pool ring_mp_mc");
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = (uint16_t)(obj - header - sizeof(struct rte_mbuf)),
	};
	rte_pktmbuf_pool_init(p->pool, &priv);
	rc = rte_mempool_populate_virt(p->pool, (char *)p->mem, len, (size_t)getpagesize(), NULL,
				       NULL);
	if (rc < 0 || (unsigned)rc != n)
		return cb_fail(e, rc < 0 ? -rc : ENOMEM,
			       "dpdk: place %u mbufs in %zu bytes (%d placed)", n, len, rc);
	rte_mempool_obj_iter(p->pool, rte_pktmbuf_init, NULL);
	return 0;
}

/* ---- ports ------------------------------------------------------------------------------- */

static int promisc_of(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	close(fd);
	return rc < 0 ? -1 : !!(ifr.ifr_flags & IFF_PROMISC);
}

static int queues_of(const char *ifname)
{
	char path[96];
	int n = 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	DIR *d = opendir(path);
	struct dirent *de;
	if (!d)
		return 1;
	while ((de = readdir(d)))
		n += strncmp(de->d_name, "rx-", 3) == 0;
	closedir(d);
	return n > 0 ? n : 1;
}

/* Marks in `set` every descriptor below FD_WATCH this process has open. */
static void open_fds(uint64_t *set)
{
	memset(set, 0, FD_WATCH / 8);
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		/* Not the directory's own descriptor: it is closed below, and its number reused. */
		if (de->d_name[0] != '.' && fd >= 0 && fd < FD_WATCH && fd != dirfd(d))
			set[fd / 64] |= 1ull << (fd % 64);
	}
	closedir(d);
}

/* The first descriptor from `from` on that is open `now` and was not `before`, or -1. */
static int next_new_fd(const uint64_t *before, const uint64_t *now, int from)
{
	for (int fd = from; fd < FD_WATCH; fd++) {
		uint64_t bit = 1ull << (fd % 64);
		if ((now[fd / 64] & bit) && !(before[fd / 64] & bit))
			return fd;
	}
	return -1;
}

/* An AF_XDP socket, or a BPF map, program or BTF object: what the PMD leaves behind. */
static int xdp_leftover(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);
	char path[32], target[32];

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0)
		return domain == AF_XDP;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, "anon_inode:bpf-map") == 0 ||
	       strcmp(target, "anon_inode:bpf-prog") == 0 || strcmp(target, "anon_inode:btf") == 0;
}

/*
 * Closes what af_xdp's PMD left open since the port was added. Only descriptors opened since then
 * and of those kinds: nothing else in the process makes AF_XDP sockets or BPF objects while a
 * dpdk session is open (one capture session runs at a time, and dpdk never spreads).
 */
static void close_leftovers(const uint64_t *before)
{
	uint64_t now[FD_WATCH / 64];
	open_fds(now);
	for (int fd = 0; (fd = next_new_fd(before, now, fd)) >= 0; fd++)
		if (xdp_leftover(fd))
			close(fd);
}

/* The one AF_PACKET socket opened since `before`: af_packet's PMD's, with qpairs=1. */
static int new_packet_socket(const uint64_t *before)
{
	uint64_t now[FD_WATCH / 64];
	int found = -1;
	open_fds(now);
	for (int fd = 0; (fd = next_new_fd(before, now, fd)) >= 0; fd++) {
		int domain = 0;
		socklen_t len = sizeof(domain);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
		    domain == AF_PACKET) {
			if (found >= 0)
				return -1; /* more than one: cannot tell which */
			found = fd;
		}
	}
	return found;
}

/* Adds what the kernel counted since the last call (reading PACKET_STATISTICS resets it). */
static int read_kernel_counts(struct cb_dpdk_port *p)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	if (getsockopt(p->packet_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return -1;
	p->kernel_packets += st.tp_packets; /* drops included */
	p->kernel_drops += st.tp_drops;
	return 0;
}

static void port_free(struct cb_dpdk_port *p)
{
	struct rte_eth_dev_info info;
	int have_dev = p->added && rte_eth_dev_info_get(p->id, &info) == 0;

	if (have_dev) {
		(void)rte_eth_dev_stop(p->id);
		/* The PMD puts the interface in promiscuous mode and leaves it so: put it back. */
		if (p->promisc_before == 0)
			(void)rte_eth_promiscuous_disable(p->id);
		(void)rte_eth_dev_close(p->id);
		(void)rte_dev_remove(info.device);
		if (strcmp(p->pmd, "af_xdp") == 0)
			close_leftovers(p->fds_before);
	}
	if (p->pool)
		rte_mempool_free(p->pool);
	if (p->mem)
		munmap(p->mem, p->mem_len);
	free(p);
}

/* Empties the port of what arrived before it was bound, or before this session. */
static void port_empty(struct cb_dpdk_port *p)
{
	struct rte_mbuf *bufs[BURST];
	uint64_t quiet_until = cb_now_ns() + SETTLE_NS;

	while (cb_now_ns() < quiet_until) {
		for (uint16_t q = 0; q < p->queues; q++) {
			uint16_t n = rte_eth_rx_burst(p->id, q, bufs, BURST);
			if (n > 0) {
				rte_pktmbuf_free_bulk(bufs, n);
				quiet_until = cb_now_ns() + SETTLE_NS;
			}
		}
	}
	(void)rte_eth_stats_reset(p->id);
	if (p->packet_fd >= 0 && read_kernel_counts(p) == 0)
		p->kernel_packets = p->kernel_drops = 0;
}

static int port_add(struct cb_dpdk_port *p, const struct cb_dpdk_options *o, struct cb_error *e)
{
	char devargs[256];
	unsigned pool_n, obj;
	uint16_t desc;
	int xdp = strcmp(o->pmd, "af_xdp") == 0;

	if (o->pci) {
		snprintf(devargs, sizeof(devargs), "%s", o->pci);
		snprintf(p->vdev, sizeof(p->vdev), "%s", o->pci);
		p->queues = 1;
		pool_n = 16384 + o->hold_frames;
		obj = 4096;
		desc = 4096;
	} else if (xdp) {
		snprintf(p->vdev, sizeof(p->vdev), "net_af_xdp_cb%u", ++vdev_serial);
		p->queues = (uint16_t)queues_of(o->ifname);
		snprintf(devargs, sizeof(devargs), "%s,iface=%s,start_queue=0,queue_count=%u",
			 p->vdev, o->ifname, p->queues);
		/* Each queue's fill ring, a burst held by the js tier, and the lcores' caches. */
		pool_n =
			p->queues * (AF_XDP_FILL + AF_XDP_RING) + CB_DPDK_MAX_TAKE + 4 * POOL_CACHE;
		obj = 4096; /* the PMD's own assumption (a page per UMEM frame) */
		desc = AF_XDP_RING;
	} else {
		snprintf(p->vdev, sizeof(p->vdev), "net_af_packet_cb%u", ++vdev_serial);
		/* Frames wait in the kernel's ring, not in mbufs: size it for the drain. */
		unsigned per_block = AF_PACKET_BLOCK / AF_PACKET_FRAME;
		unsigned frames = o->hold_frames + AF_PACKET_LIVE_FRAMES;
		frames = (frames + per_block - 1) / per_block * per_block;
		p->queues = 1;
		snprintf(devargs, sizeof(devargs),
			 "%s,iface=%s,qpairs=1,blocksz=%u,framesz=%u,framecnt=%u", p->vdev,
			 o->ifname, AF_PACKET_BLOCK, AF_PACKET_FRAME, frames);
		pool_n = 8192;
		/* The PMD wants a whole ring frame (framesz less its header) to fit in an mbuf. */
		obj = 4096;
		desc = 1024;
	}
	snprintf(p->ifname, sizeof(p->ifname), "%s", o->pci ? o->pci : o->ifname);
	snprintf(p->pmd, sizeof(p->pmd), "%s", o->pci ? "pci" : o->pmd);
	p->promisc_before = o->pci ? -1 : promisc_of(o->ifname);

	if (pool_create(p, pool_n, obj, e) < 0)
		return -1;
	open_fds(p->fds_before);
	int rc = rte_dev_probe(devargs);
	if (rc < 0) {
		const char *why = take_log();
		return cb_fail(e, -rc, "dpdk: add %s%s%s", devargs, *why ? ": " : "", why);
	}
	if (rte_eth_dev_get_port_by_name(p->vdev, &p->id) != 0)
		return cb_fail(e, ENODEV, "dpdk: %s was added but has no port", p->vdev);
	p->added = 1;
	if (!o->pci && !xdp) {
		p->packet_fd = new_packet_socket(p->fds_before);
		if (p->packet_fd < 0)
			return cb_fail(e, ENOENT, "dpdk: %s: cannot find its AF_PACKET socket",
				       p->vdev);
	}
	struct rte_eth_conf conf = { 0 };
	rc = rte_eth_dev_configure(p->id, p->queues, p->queues, &conf);
	if (rc < 0)
		return cb_fail(e, -rc, "dpdk: configure %s with %u queues", p->vdev, p->queues);
	for (uint16_t q = 0; q < p->queues; q++) {
		rc = rte_eth_rx_queue_setup(p->id, q, desc, SOCKET_ID_ANY, NULL, p->pool);
		if (rc < 0) {
			const char *why = take_log();
			return cb_fail(e, -rc, "dpdk: %s rx queue %u%s%s", p->vdev, q,
				       *why ? ": " : "", why);
		}
		rc = rte_eth_tx_queue_setup(p->id, q, desc, SOCKET_ID_ANY, NULL);
		if (rc < 0)
			return cb_fail(e, -rc, "dpdk: %s tx queue %u", p->vdev, q);
	}
#if __has_include(<xdp/xsk.h>)
	/* Attached by netlink, so it outlives a crash: the caller records it (xdp-leftovers.ts). */
	if (xdp && bpf_xdp_query_id((int)if_nametoindex(o->ifname), 0, &p->prog_id) < 0)
		p->prog_id = 0;
#endif
	return 0;
}

static void unlink_port(struct cb_dpdk_port *gone)
{
	for (struct cb_dpdk_port **pp = &ports; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			return;
		}
}

int cb_dpdk_probe(struct cb_error *e)
{
	pthread_mutex_lock(&eal_lock);
	int rc = eal_unusable(e);
	pthread_mutex_unlock(&eal_lock);
	return rc;
}

int cb_dpdk_open(struct cb_dpdk *d, const struct cb_dpdk_options *o, struct cb_error *e)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->ifname, sizeof(d->ifname), "%s", o->pci ? o->pci : o->ifname);
	if (!o->pci && strcmp(o->pmd, "af_packet") != 0 && strcmp(o->pmd, "af_xdp") != 0)
		return cb_fail(e, EINVAL, "dpdk: no PMD '%s' (af_packet or af_xdp)", o->pmd);

	pthread_mutex_lock(&eal_lock);
	if (eal_ready(o->pci, e) < 0) {
		pthread_mutex_unlock(&eal_lock);
		return -1;
	}
	struct cb_dpdk_port *p = calloc(1, sizeof(*p));
	if (p)
		p->packet_fd = -1;
	if (!p) {
		pthread_mutex_unlock(&eal_lock);
		return cb_fail(e, ENOMEM, "dpdk: a port on %s", d->ifname);
	}
	if (port_add(p, o, e) < 0) {
		port_free(p);
		pthread_mutex_unlock(&eal_lock);
		return -1;
	}
	p->next = ports;
	ports = p;
	pthread_mutex_unlock(&eal_lock);

	register_thread();
	int rc = rte_eth_dev_start(p->id);
	if (rc < 0) {
		const char *why = take_log();
		d->port = p;
		cb_dpdk_close(d);
		return cb_fail(e, -rc, "dpdk: start %s on %s%s%s", p->pmd, d->ifname,
			       *why ? ": " : "", why);
	}
	port_empty(p);
	d->port = p;
	d->prog_id = p->prog_id;
	d->mem = p->mem;
	d->mem_len = p->mem_len;
	return 0;
}

/* Frames from the next queue with any, into bufs; the queues in turn. */
static inline uint16_t rx(struct cb_dpdk_port *p, struct rte_mbuf **bufs, uint16_t want)
{
	if (p->queues == 1)
		return rte_eth_rx_burst(p->id, 0, bufs, want);
	for (uint16_t tried = 0; tried < p->queues; tried++) {
		uint16_t q = p->next_queue;
		p->next_queue = (uint16_t)((q + 1) % p->queues);
		uint16_t n = rte_eth_rx_burst(p->id, q, bufs, want);
		if (n > 0)
			return n;
	}
	return 0;
}

static void free_held(struct cb_dpdk *d)
{
	if (d->nheld > 0)
		rte_pktmbuf_free_bulk((struct rte_mbuf **)d->held, d->nheld);
	d->nheld = 0;
}

int cb_dpdk_next(struct cb_dpdk *d, uint32_t max, uint32_t *table, int timeout_ms,
		 struct cb_error *e)
{
	(void)e;
	struct rte_mbuf **bufs = (struct rte_mbuf **)d->held;
	uint64_t until = cb_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	uint32_t n = 0;

	free_held(d);
	if (max > CB_DPDK_MAX_TAKE)
		max = CB_DPDK_MAX_TAKE;
	/* A poll-mode driver has nothing to sleep on: waiting is polling. */
	for (;;) {
		while (n < max) {
			uint32_t want = max - n < BURST ? max - n : BURST;
			uint16_t got = rx(d->port, bufs + n, (uint16_t)want);
			n += got;
			if (got < want)
				break;
		}
		if (n > 0 || cb_now_ns() >= until)
			break;
		rte_pause();
	}
	for (uint32_t i = 0; i < n; i++) {
		table[2 * i] = (uint32_t)(rte_pktmbuf_mtod(bufs[i], uint8_t *) - d->mem);
		table[2 * i + 1] = bufs[i]->data_len;
	}
	d->nheld = n;
	return (int)n;
}

static int take(void *self, uint32_t want, struct cb_count *out, struct cb_error *e)
{
	(void)e;
	struct cb_dpdk *d = self;
	struct rte_mbuf *bufs[BURST];
	uint16_t n = rx(d->port, bufs, (uint16_t)(want < BURST ? want : BURST));
	uint64_t ipv4 = 0;

	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(bufs[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(bufs[i + PREFETCH_AHEAD], void *));
		ipv4 += (uint64_t)cb_do_something(rte_pktmbuf_mtod(bufs[i], const uint8_t *),
						  bufs[i]->data_len);
	}
	if (n > 0)
		rte_pktmbuf_free_bulk(bufs, n);
	out->received += n;
	out->ipv4 += ipv4;
	return n;
}

/* Nothing to sleep on: the loop polls again at once, the way a PMD is meant to be read. */
static int spin(void *self, int timeout_ms, struct cb_error *e)
{
	(void)self, (void)timeout_ms, (void)e;
	rte_pause();
	return CB_WAIT_READABLE;
}

static const struct cb_step STEP = {
	.take = take,
	.kind = "DPDK port",
	.wait = spin,
	.frames_per_clock = CB_FRAMES_PER_CLOCK_RING,
};

int cb_dpdk_consume(struct cb_dpdk *d, const struct cb_slice *slice, struct cb_count *out,
		    struct cb_error *e)
{
	free_held(d);
	return cb_slice_loop(&STEP, d, (struct cb_waitable){ -1, d->ifname, NULL }, BURST, slice,
			     out, e);
}

int cb_dpdk_stats(struct cb_dpdk *d, int64_t *seen, uint64_t *drops, struct cb_error *e)
{
	struct cb_dpdk_port *p = d->port;
	struct rte_eth_stats s;
	int rc = rte_eth_stats_get(p->id, &s);
	if (rc < 0)
		return cb_fail(e, -rc, "dpdk: stats of %s on %s", p->pmd, d->ifname);
	*seen = -1;
	*drops = s.imissed + s.ierrors + s.rx_nombuf;
	if (p->packet_fd >= 0) {
		if (read_kernel_counts(p) < 0)
			return cb_fail(e, errno, "dpdk: PACKET_STATISTICS of %s's socket on %s",
				       p->vdev, d->ifname);
		*seen = (int64_t)p->kernel_packets;
		*drops += p->kernel_drops;
	}
	return 0;
}

void cb_dpdk_close(struct cb_dpdk *d)
{
	struct cb_dpdk_port *p = d->port;
	if (!p)
		return;
	free_held(d);
	d->port = NULL;
	pthread_mutex_lock(&eal_lock);
	unlink_port(p);
	port_free(p);
	pthread_mutex_unlock(&eal_lock);
}

void cb_dpdk_release(void)
{
	pthread_mutex_lock(&eal_lock);
	if (eal_state == EAL_UP) {
		while (ports) {
			struct cb_dpdk_port *p = ports;
			ports = p->next;
			port_free(p);
		}
		(void)rte_eal_cleanup();
		eal_state = EAL_GONE;
	}
	pthread_mutex_unlock(&eal_lock);
}

#else /* no DPDK headers: libdpdk-dev was not installed when the addon was built */

#define NO_DPDK "capbench was built without DPDK (install libdpdk-dev and rebuild: npm rebuild)"

int cb_dpdk_probe(struct cb_error *e)
{
	return cb_fail(e, ENOSYS, NO_DPDK);
}

int cb_dpdk_open(struct cb_dpdk *d, const struct cb_dpdk_options *o, struct cb_error *e)
{
	(void)o;
	memset(d, 0, sizeof(*d));
	return cb_fail(e, ENOSYS, NO_DPDK);
}

int cb_dpdk_next(struct cb_dpdk *d, uint32_t max, uint32_t *table, int timeout_ms,
		 struct cb_error *e)
{
	(void)d, (void)max, (void)table, (void)timeout_ms;
	return cb_fail(e, ENOSYS, NO_DPDK);
}

int cb_dpdk_consume(struct cb_dpdk *d, const struct cb_slice *slice, struct cb_count *out,
		    struct cb_error *e)
{
	(void)d, (void)slice, (void)out;
	return cb_fail(e, ENOSYS, NO_DPDK);
}

int cb_dpdk_stats(struct cb_dpdk *d, int64_t *seen, uint64_t *drops, struct cb_error *e)
{
	(void)d, (void)seen, (void)drops;
	return cb_fail(e, ENOSYS, NO_DPDK);
}

void cb_dpdk_close(struct cb_dpdk *d)
{
	d->port = NULL;
}

void cb_dpdk_release(void) {}

#endif
