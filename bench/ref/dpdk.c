/*
 * Reference for capbench's `dpdk` method: one DPDK port on a virtual device over an interface
 * (the net_af_packet or net_af_xdp poll-mode driver), read with rte_eth_rx_burst(), the IPv4
 * counter on every mbuf, the mbufs freed in bulk. DPDK's EAL without hugepages, PCI scan,
 * shared config or telemetry, the reader's CPU as its only lcore. Written from scratch,
 * independent of capbench's addon, so that bench/native-vs-ref can compare capbench's native
 * tier against it.
 *
 *   dpdk IFNAME N [af_packet|af_xdp [BURST]]     (PMD defaults to af_packet, BURST to 64)
 *
 * Protocol as in socket.c: "ready", wait for "go", drain N frames (or stop after 500 ms with
 * nothing), print "frames F ipv4 V ns T cpu_ns C drops D imissed I ierrors E rx_nombuf B":
 * D = I + E + B from rte_eth_stats. DPDK polls: there is no wait, an empty burst is retried.
 *
 * The counter's rule is the other references': an untagged IPv4 frame, EtherType 0x0800 at
 * bytes 12-13 as on the wire. A tag the driver strips into the mbuf (RX_VLAN_STRIPPED) was there
 * on the wire, so that frame does not count (net_af_packet puts a tag the kernel took off back
 * into the frame unless asked to strip it; XDP sees frames as sent).
 *
 * The PMDs' quirks it works around (checked here, DPDK 22.11):
 * - net_af_packet keeps what waits in a TPACKET_V2 ring of `framecnt` frames and drops what does
 *   not fit without counting it (imissed stays 0): the default 512 frames would lose most of a
 *   drain, so the ring is sized for N. It maps a TX ring of the same size with it in one mmap()
 *   sized in 32 bits, which fails past 4 GiB (about 1 M frames of 2 KiB). It opens its socket
 *   before binding it to the interface, so frames from other interfaces can land in the ring in
 *   between: the port is emptied once after it starts, before "ready".
 * - net_af_xdp posts 2048 mbufs to its fill ring when its queue is set up and afterwards one for
 *   each frame it hands over, so at most 2048 frames ever wait: a larger drain loses the rest
 *   (the kernel counts them, and imissed reports them). It uses the mbuf pool's memory as its
 *   UMEM, registered from the page of the pool's first chunk for objects × object size, which
 *   fits only a dense pool starting on a page. Without hugepages objects may not cross 4 KiB
 *   pages: rte_pktmbuf_pool_create()'s 2368-byte objects take a page each (the UMEM then
 *   covers 58 % of them, and reception stops once the driver has posted the mbufs past its end),
 *   and even 4096-byte objects from rte_mempool_populate_default() start a page after its
 *   chunk, leaving the last object outside. The pool here is 4096-byte objects populated from a
 *   page-aligned memzone, checked after populating.
 *
 * EAL gets a heap copy of its arguments (it reorders them); its runtime directory goes to a
 * temporary directory (RUNTIME_DIRECTORY), not /var/run/dpdk, and is removed at exit. The port is
 * stopped and closed (which takes the XDP program off the interface) and EAL cleaned up on
 * every exit path, SIGINT/SIGTERM/SIGHUP included.
 */
#include "ref.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <rte_memzone.h>

#define IDLE_MS 500
#define DEFAULT_BURST 64
#define MAX_BURST 512
/* af_xdp: one pool object per UMEM chunk, a page each (header, mbuf, headroom, data). */
#define XDP_OBJ_SIZE 4096u
/* af_xdp: buffers DPDK 22.11's driver posts to its fill ring (ETH_AF_XDP_DFLT_NUM_DESCS). */
#define XDP_FILL_POSTED 2048u
/* af_packet: mbufs the driver copies frames into; freed after every burst. */
#define PACKET_POOL 8191u
#define PACKET_FRAME 2048u
#define PACKET_BLOCK 65536u
#define PACKET_FRAMES_PER_BLOCK (PACKET_BLOCK / PACKET_FRAME)
#define MAX_EAL_ARGS 24

static volatile sig_atomic_t stop;
static char run_dir[PATH_MAX];
static int eal_up, port_up;
static uint16_t port;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup(void)
{
	if (port_up) {
		port_up = 0;
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	if (eal_up) {
		eal_up = 0;
		rte_eal_cleanup();
	}
	if (run_dir[0]) {
		nftw(run_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		run_dir[0] = '\0';
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void exit_if_stopped(void)
{
	if (stop)
		exit(1);
}

/* The first CPU this process may run on (taskset's): EAL's one lcore. */
static int first_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		die_msg("sched_getaffinity", strerror(errno));
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			return c;
	die_msg("sched_getaffinity", "no CPU");
	return 0;
}

struct bounds {
	uintptr_t lo, hi;
};

static void obj_bounds(struct rte_mempool *mp, void *arg, void *obj, unsigned int i)
{
	struct bounds *b = arg;
	uintptr_t start = (uintptr_t)obj - mp->header_size;

	(void)i;
	if (start < b->lo)
		b->lo = start;
	if (start + XDP_OBJ_SIZE > b->hi)
		b->hi = start + XDP_OBJ_SIZE;
}

/*
 * An mbuf pool of `n` objects of exactly XDP_OBJ_SIZE bytes, back to back from a page boundary,
 * as net_af_xdp's UMEM needs: it registers the pool's first chunk from its page's start, for
 * populated × object size (plus the chunk's offset into that page). rte_mempool_populate_default()
 * hands back a chunk that does not start on a page, and since objects may not cross pages here,
 * the first one starts on the next page and the last lies past the UMEM's end. So the memory is
 * a page-aligned memzone of its own, populated page by page.
 */
static struct rte_mempool *dense_pool(unsigned int n)
{
	const size_t bytes = (size_t)n * XDP_OBJ_SIZE;
	const struct rte_memzone *mz;
	struct rte_mempool_objsz sz;
	struct rte_pktmbuf_pool_private priv;
	struct rte_mempool *mp;
	struct bounds b = { UINTPTR_MAX, 0 };
	uint32_t elt;
	int ret;

	/* The object header's size does not depend on the element's: ask for it, then fill the page. */
	rte_mempool_calc_obj_size(64, RTE_MEMPOOL_F_NO_SPREAD, &sz);
	elt = XDP_OBJ_SIZE - sz.header_size;
	if (rte_mempool_calc_obj_size(elt, RTE_MEMPOOL_F_NO_SPREAD, &sz) != XDP_OBJ_SIZE)
		die_msg("mempool", "objects are not 4096 bytes");
	mp = rte_mempool_create_empty("capbench_ref_rx", n, elt, 256, sizeof(priv), rte_socket_id(),
				      RTE_MEMPOOL_F_NO_SPREAD);
	if (!mp)
		die_msg("rte_mempool_create_empty", rte_strerror(rte_errno));
	ret = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (ret)
		die_msg("rte_mempool_set_ops_byname", rte_strerror(-ret));
	memset(&priv, 0, sizeof(priv));
	priv.mbuf_data_room_size = (uint16_t)(elt - sizeof(struct rte_mbuf));
	priv.mbuf_priv_size = 0;
	rte_pktmbuf_pool_init(mp, &priv);
	mz = rte_memzone_reserve_aligned("capbench_ref_umem", bytes, rte_socket_id(), 0,
					 XDP_OBJ_SIZE);
	if (!mz)
		die_msg("rte_memzone_reserve_aligned", rte_strerror(rte_errno));
	ret = rte_mempool_populate_virt(mp, mz->addr, bytes, XDP_OBJ_SIZE, NULL, NULL);
	if (ret < 0 || (unsigned int)ret != n)
		die_msg("rte_mempool_populate_virt",
			ret < 0 ? rte_strerror(-ret) : "fewer objects than asked");
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);

	/* What the driver assumes: every object inside [first chunk, + n × object size). */
	rte_mempool_obj_iter(mp, obj_bounds, &b);
	if (b.lo != (uintptr_t)STAILQ_FIRST(&mp->mem_list)->addr || b.hi - b.lo != bytes)
		die_msg("mempool", "objects are not dense: the UMEM would not cover them");
	return mp;
}

int main(int argc, char **argv)
{
	static struct rte_mbuf *bufs[MAX_BURST];
	struct rte_eth_conf conf;
	struct rte_eth_stats st;
	struct rte_mempool *pool;
	struct sigaction sa;
	const char *ifname, *pmd = "af_packet";
	char *eal_argv[MAX_EAL_ARGS];
	char vdev[256], cpu[16], mem[16], prefix[64];
	uint64_t n, frames = 0, ipv4 = 0, stray = 0, t0, t_end, c0, c1, idle_since = 0;
	unsigned int burst = DEFAULT_BURST, pool_n, mem_mb;
	uint32_t rx_desc = 1024;
	int is_xdp, eal_argc = 0, ret;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: dpdk IFNAME N [af_packet|af_xdp [BURST]]\n");
		return 2;
	}
	ifname = argv[1];
	n = strtoull(argv[2], NULL, 10);
	if (argc >= 4)
		pmd = argv[3];
	if (argc == 5)
		burst = (unsigned int)atoi(argv[4]);
	if (strcmp(pmd, "af_packet") != 0 && strcmp(pmd, "af_xdp") != 0) {
		fprintf(stderr, "dpdk: PMD must be af_packet or af_xdp, got \"%s\"\n", pmd);
		return 2;
	}
	if (n < 1 || burst < 1 || burst > MAX_BURST) {
		fprintf(stderr, "dpdk: N must be positive, BURST 1..%d\n", MAX_BURST);
		return 2;
	}
	is_xdp = strcmp(pmd, "af_xdp") == 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends the wait for "go" */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup);

	/* EAL's runtime directory ($RUNTIME_DIRECTORY/dpdk/PREFIX) in a directory of our own. */
	snprintf(run_dir, sizeof(run_dir), "%s/capbench-dpdk-ref-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(run_dir)) {
		run_dir[0] = '\0';
		die_msg("mkdtemp", strerror(errno));
	}
	setenv("RUNTIME_DIRECTORY", run_dir, 1);

	if (is_xdp) {
		/*
		 * The driver posts XDP_FILL_POSTED mbufs to its fill ring when the queue is set up and
		 * afterwards one for every frame it hands over, so no more than that many frames are
		 * ever in the kernel's hands: the rx ring needs no more room, and the pool only that,
		 * a burst the driver allocates ahead of each call, the burst in our hands and the
		 * pool's cache.
		 */
		rx_desc = 2 * XDP_FILL_POSTED;
		pool_n = 4 * XDP_FILL_POSTED;
		mem_mb = (unsigned int)(((uint64_t)pool_n * XDP_OBJ_SIZE >> 20) + 96);
		if (n > XDP_FILL_POSTED)
			fprintf(stderr,
				"dpdk: net_af_xdp holds at most %u frames unread; a drain of %llu loses "
				"the rest (imissed)\n",
				XDP_FILL_POSTED, (unsigned long long)n);
		snprintf(vdev, sizeof(vdev),
			 "--vdev=net_af_xdp0,iface=%s,start_queue=0,queue_count=1", ifname);
	} else {
		/*
		 * A ring of N frames and some: 2 KiB frames (the driver's default) in 64 KiB blocks,
		 * since the kernel keeps one pointer per block in one allocation of at most 4 MiB
		 * (with 4 KiB blocks, about 1 M frames at most).
		 */
		uint64_t framecnt = (n + n / 16 + 1024 + PACKET_FRAMES_PER_BLOCK - 1) &
				    ~(uint64_t)(PACKET_FRAMES_PER_BLOCK - 1);

		/* The driver maps its RX and TX rings (the same size) in one call, sized in 32 bits. */
		if (framecnt * PACKET_FRAME * 2 > UINT32_MAX)
			die_msg("net_af_packet", "N too large: RX and TX rings past 4 GiB");
		pool_n = PACKET_POOL;
		mem_mb = 128;
		snprintf(
			vdev, sizeof(vdev),
			"--vdev=net_af_packet0,iface=%s,qpairs=1,blocksz=%u,framesz=%u,framecnt=%llu",
			ifname, PACKET_BLOCK, PACKET_FRAME, (unsigned long long)framecnt);
	}
	snprintf(cpu, sizeof(cpu), "%d", first_cpu());
	snprintf(mem, sizeof(mem), "%u", mem_mb);
	snprintf(prefix, sizeof(prefix), "--file-prefix=capbench-ref-%d", (int)getpid());
	const char *args[] = { argv[0],
			       "--no-huge",
			       "-m",
			       mem,
			       "--no-pci",
			       "--no-shconf",
			       "--no-telemetry",
			       "-l",
			       cpu,
			       prefix,
			       "--log-level=warning",
			       vdev };
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		eal_argv[eal_argc++] = strdup(args[i]);
	eal_argv[eal_argc] = NULL;

	/* EAL logs to stdout by default: keep stdout for the protocol. */
	rte_openlog_stream(stderr);
	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0)
		die_msg("rte_eal_init", rte_strerror(rte_errno));
	eal_up = 1;
	exit_if_stopped();
	if (rte_eth_dev_count_avail() != 1)
		die_msg(vdev, "no port");
	port = rte_eth_find_next(0);

	if (is_xdp)
		pool = dense_pool(pool_n);
	else
		pool = rte_pktmbuf_pool_create("capbench_ref_rx", pool_n, 256, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!pool)
		die_msg("mbuf pool", rte_strerror(rte_errno));

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret < 0)
		die_msg("rte_eth_dev_configure", rte_strerror(-ret));
	ret = rte_eth_rx_queue_setup(port, 0, (uint16_t)rx_desc, rte_eth_dev_socket_id(port), NULL,
				     pool);
	if (ret < 0)
		die_msg("rte_eth_rx_queue_setup", rte_strerror(-ret));
	ret = rte_eth_tx_queue_setup(port, 0, 512, rte_eth_dev_socket_id(port), NULL);
	if (ret < 0)
		die_msg("rte_eth_tx_queue_setup", rte_strerror(-ret));
	port_up = 1;
	ret = rte_eth_dev_start(port);
	if (ret < 0)
		die_msg("rte_eth_dev_start", rte_strerror(-ret));
	exit_if_stopped();

	/* Whatever came in before "ready" (af_packet: other interfaces' frames before its bind). */
	for (uint16_t got; (got = rte_eth_rx_burst(port, 0, bufs, MAX_BURST)) > 0;) {
		rte_pktmbuf_free_bulk(bufs, got);
		stray += got;
	}
	if (stray)
		fprintf(stderr, "dpdk: %llu frames before ready, not counted\n",
			(unsigned long long)stray);
	rte_eth_stats_reset(port);

	ready_then_wait_go();

	c0 = cpu_ns();
	t0 = now_ns();
	while (frames < n && !stop) {
		uint16_t got = rte_eth_rx_burst(port, 0, bufs, (uint16_t)burst);

		if (!got) {
			uint64_t now = now_ns();

			if (!idle_since)
				idle_since = now;
			else if (now - idle_since >= IDLE_MS * 1000000ull)
				break;
			continue;
		}
		idle_since = 0;
		for (uint16_t i = 0; i < got; i++) {
			const struct rte_mbuf *m = bufs[i];

			/* A tag the driver took off (RX_VLAN_STRIPPED) was at bytes 12-13 on the wire. */
			ipv4 += is_ipv4(rte_pktmbuf_mtod(m, const uint8_t *),
					rte_pktmbuf_data_len(m)) &&
				!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED);
		}
		rte_pktmbuf_free_bulk(bufs, got);
		frames += got;
	}
	t_end = frames >= n || !idle_since ? now_ns() : idle_since;
	c1 = cpu_ns();
	exit_if_stopped();

	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(port, &st);
	printf("frames %llu ipv4 %llu ns %llu cpu_ns %llu drops %llu imissed %llu ierrors %llu "
	       "rx_nombuf %llu\n",
	       (unsigned long long)frames, (unsigned long long)ipv4,
	       (unsigned long long)(t_end - t0), (unsigned long long)(c1 - c0),
	       (unsigned long long)(st.imissed + st.ierrors + st.rx_nombuf),
	       (unsigned long long)st.imissed, (unsigned long long)st.ierrors,
	       (unsigned long long)st.rx_nombuf);
	fflush(stdout);
	cleanup();
	return 0;
}
