/*
 * Traffic generator core (see generator.h for the life cycle): the thread, its setup of the socket
 * it sends on, and the public API. The engines that send are generator_sendmmsg.c and
 * generator_tx_ring.c, called through struct gen_engine (generator_internal.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "cpu_placement.h"
#include "generator.h"
#include "generator_internal.h"
#include "monotonic.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Requested SO_SNDBUF (the kernel doubles it). Large, so that the send buffer never is what
 * limits the rate: frames in flight on a veth are charged to it until the peer frees them. */
#define SNDBUF_BYTES (32 * 1024 * 1024)
#define MAX_FRAME_BYTES 65535u

/* ---- thread ------------------------------------------------------------------------------- */

static int frame_limit(const uint8_t *frame, int mtu)
{
	/* The kernel lets an 802.1Q-tagged frame be 4 bytes longer than MTU + Ethernet header. */
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);

	return mtu + ETH_HLEN + (type == ETH_P_8021Q || type == ETH_P_8021AD ? 4 : 0);
}

/*
 * On --gen-cpu, or else anywhere the process may run except the capture CPU: a thread inherits
 * its creator's affinity, and the creator is the capturing thread, pinned there.
 */
static int place_thread(const struct cb_gen *g, struct cb_error *e)
{
	cpu_set_t set;
	int err;

	if (g->cpu < 0) {
		if (cb_unreserved_cpus(&set, e) < 0)
			return -1;
	} else {
		CPU_ZERO(&set);
		CPU_SET(g->cpu, &set);
	}
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err == 0)
		return 0;
	if (g->cpu < 0)
		return cb_fail(e, err, "place generator thread off the capture CPU");
	return cb_fail(e, err, "pin generator thread to CPU %d", g->cpu);
}

static int setup(struct cb_gen *g, struct gen_run *r, struct cb_error *e)
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int one = 1, sndbuf = SNDBUF_BYTES, ifindex;
	const char *in = g->netns_path ? " in netns " : "";
	const char *ns = g->netns_path ? g->netns_path : "";

	/* Default timer slack is 50 us: a paced sleep would wake that late on top of the wake-up
	 * latency. 1 ns makes clock_nanosleep as punctual as the machine allows. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	pthread_setname_np(pthread_self(), "cb-generator");

	if (g->netns_path) {
		/* O_NONBLOCK: a FIFO given by mistake must fail in setns(), not hang start(). */
		int nsfd = open(g->netns_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

		if (nsfd < 0)
			return cb_fail(e, errno, "open netns %s", g->netns_path);
		/* CLONE_NEWNET on one thread moves only that thread: the JS thread and every socket
		 * it opens stay where they were. */
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			int err = errno;

			close(nsfd);
			return cb_fail(e, err, "join netns %s (setns; is it a network namespace?)",
				       g->netns_path);
		}
		close(nsfd);
	}
	if (place_thread(g, e) < 0)
		return -1;

	/* Protocol 0: the socket is never hooked into the receive path, so it costs nothing per
	 * received frame and never sees its own traffic. */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return cb_fail(e, errno, "open AF_PACKET socket");

	/* Resolved through our own socket, which lives in the namespace this thread joined. */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, g->ifname, strlen(g->ifname));
	if (ioctl(r->fd, SIOCGIFINDEX, &ifr) < 0)
		return cb_fail(e, errno, "find interface %s%s%s", g->ifname, in, ns);
	ifindex = ifr.ifr_ifindex;
	if (ioctl(r->fd, SIOCGIFFLAGS, &ifr) < 0)
		return cb_fail(e, errno, "get flags of %s", g->ifname);
	if (!(ifr.ifr_flags & IFF_UP))
		return cb_fail(e, ENETDOWN, "interface %s%s%s is down", g->ifname, in, ns);
	if (ioctl(r->fd, SIOCGIFMTU, &ifr) < 0)
		return cb_fail(e, errno, "get MTU of %s", g->ifname);
	/* Checked here so that a frame the kernel would refuse is a setup error, not an endless
	 * retry or a WRONG_FORMAT slot half-way through a run. */
	for (uint32_t f = 0; f < g->nframes; f++) {
		int limit = frame_limit(g->frames + g->offs[f], ifr.ifr_mtu);

		if ((int64_t)g->lens[f] > limit)
			return cb_fail(e, EMSGSIZE,
				       "frame %u is %u bytes; %s (MTU %d) takes at most %d", f,
				       g->lens[f], g->ifname, ifr.ifr_mtu, limit);
	}

	if (setsockopt(r->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0) {
		/* FORCE needs CAP_NET_ADMIN; without it take what wmem_max allows. */
		if (errno != EPERM ||
		    setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)
			return cb_fail(e, errno, "set SO_SNDBUFFORCE on the %s socket", g->ifname);
	}
	/* Straight to the driver: no qdisc enqueue/dequeue per frame, which is what a generator
	 * measuring the receive side wants (the same choice trafgen makes by default). */
	if (setsockopt(r->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		return cb_fail(e, errno, "set PACKET_QDISC_BYPASS on the %s socket", g->ifname);

	if (g->ops->prepare(g, r, e) < 0)
		return -1;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = 0;
	sll.sll_ifindex = ifindex;
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return cb_fail(e, errno, "bind AF_PACKET to %s", g->ifname);
	return 0;
}

static void teardown(struct cb_gen *g, struct gen_run *r)
{
	g->ops->release(r);
	if (r->fd >= 0)
		close(r->fd);
}

/* CLOCK_THREAD_CPUTIME_ID cannot fail for the calling thread; 0 if it somehow does. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *gen_thread(void *arg)
{
	struct cb_gen *g = arg;
	struct gen_run r;
	struct cb_error err;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	r.fd = -1;
	rc = setup(g, &r, &err);

	pthread_mutex_lock(&g->lock);
	if (rc < 0) {
		g->setup_err = err;
		g->setup_failed = true;
	} else {
		atomic_store_explicit(&g->running, true, memory_order_release);
	}
	g->setup_done = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);

	if (rc == 0) {
		uint64_t cpu0 = thread_cpu_ns();

		rc = g->ops->run(g, &r, &err);
		atomic_store_explicit(&g->cpu_ns, thread_cpu_ns() - cpu0, memory_order_relaxed);
		if (rc < 0) {
			pthread_mutex_lock(&g->lock);
			g->run_err = err;
			g->has_run_err = true;
			pthread_mutex_unlock(&g->lock);
		}
	}
	/* Not running any more as soon as the counts are final: closing a packet socket waits for
	 * RCU grace periods (tens of ms, more with a ring), and a caller polling for the end of a
	 * counted run should not wait for that. stop() still joins, so nothing outlives it. */
	atomic_store_explicit(&g->running, false, memory_order_release);
	teardown(g, &r);
	return NULL;
}

/* ---- public API --------------------------------------------------------------------------- */

struct cb_gen *cb_gen_create(const struct cb_gen_options *o, struct cb_error *e)
{
	struct cb_gen *g;
	uint64_t total = 0;
	size_t namelen;

	if (!o->ifname || (namelen = strlen(o->ifname)) == 0 || namelen >= IFNAMSIZ) {
		cb_fail(e, EINVAL, "generator: interface name '%s' must be 1 to %d characters",
			o->ifname ? o->ifname : "", IFNAMSIZ - 1);
		return NULL;
	}
	if (o->nframes == 0) {
		cb_fail(e, EINVAL, "generator: the fixture has no frames");
		return NULL;
	}
	for (uint32_t f = 0; f < o->nframes; f++) {
		if (o->frame_lengths[f] < ETH_HLEN || o->frame_lengths[f] > MAX_FRAME_BYTES) {
			cb_fail(e, EINVAL,
				"generator: frame %u is %u bytes; frames must be %d to %u bytes", f,
				o->frame_lengths[f], ETH_HLEN, MAX_FRAME_BYTES);
			return NULL;
		}
		total += o->frame_lengths[f];
	}
	if (total > o->frames_bytes) {
		cb_fail(e, EINVAL,
			"generator: frame lengths add up to %llu bytes but frames holds %zu",
			(unsigned long long)total, o->frames_bytes);
		return NULL;
	}
	if (o->batch == 0 || o->batch > CB_GEN_MAX_BATCH) {
		cb_fail(e, EINVAL, "generator: batch %u is not in 1..%u", o->batch,
			CB_GEN_MAX_BATCH);
		return NULL;
	}
	if (o->cpu < -1 || o->cpu >= CPU_SETSIZE) {
		cb_fail(e, EINVAL, "generator: cpu %d is not -1 or a CPU number", o->cpu);
		return NULL;
	}
	if (!(o->rate_pps >= 0) || isinf(o->rate_pps)) {
		cb_fail(e, EINVAL, "generator: rate must be a finite number >= 0");
		return NULL;
	}
	if (o->duration_ms > UINT64_MAX / 1000000ull) {
		cb_fail(e, EINVAL, "generator: duration too long");
		return NULL;
	}
	if (o->engine != CB_GEN_SENDMMSG && o->engine != CB_GEN_TX_RING) {
		cb_fail(e, EINVAL, "generator: unknown engine %d", (int)o->engine);
		return NULL;
	}
	for (uint32_t f = 0; o->stamp && f < o->nframes; f++) {
		if (o->frame_lengths[f] < CB_GEN_MIN_STAMPED_FRAME) {
			cb_fail(e, EINVAL,
				"generator: frame %u is %u bytes; stamping needs at least %u", f,
				o->frame_lengths[f], CB_GEN_MIN_STAMPED_FRAME);
			return NULL;
		}
	}

	g = calloc(1, sizeof(*g));
	if (!g) {
		cb_fail(e, ENOMEM, "generator: allocate state");
		return NULL;
	}
	g->frames = malloc(total);
	g->lens = malloc((size_t)o->nframes * sizeof(*g->lens));
	g->offs = malloc((size_t)o->nframes * sizeof(*g->offs));
	g->netns_path = o->netns_path ? strdup(o->netns_path) : NULL;
	if (!g->frames || !g->lens || !g->offs || (o->netns_path && !g->netns_path)) {
		cb_fail(e, ENOMEM, "generator: copy %llu bytes of frames",
			(unsigned long long)total);
		free(g->frames);
		free(g->lens);
		free(g->offs);
		free(g->netns_path);
		free(g);
		return NULL;
	}
	memcpy(g->frames, o->frames, total);
	memcpy(g->lens, o->frame_lengths, (size_t)o->nframes * sizeof(*g->lens));
	total = 0;
	for (uint32_t f = 0; f < o->nframes; f++) {
		g->offs[f] = total;
		total += g->lens[f];
		if (g->lens[f] > g->max_len)
			g->max_len = g->lens[f];
	}
	memcpy(g->ifname, o->ifname, namelen + 1);
	g->nframes = o->nframes;
	g->count = o->count;
	g->duration_ns = o->duration_ms * 1000000ull;
	g->rate_pps = o->rate_pps;
	g->batch = o->batch;
	g->cpu = o->cpu;
	g->ops = o->engine == CB_GEN_TX_RING ? &cb_gen_tx_ring_engine : &cb_gen_sendmmsg_engine;
	g->stamp = o->stamp;

	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	atomic_init(&g->stop_req, false);
	atomic_init(&g->running, false);
	atomic_init(&g->sent, 0);
	atomic_init(&g->first_ns, 0);
	atomic_init(&g->last_ns, 0);
	atomic_init(&g->cpu_ns, 0);
	return g;
}

int cb_gen_start(struct cb_gen *g, struct cb_error *e)
{
	sigset_t all, old;
	int err;

	pthread_mutex_lock(&g->lock);
	if (g->started) {
		pthread_mutex_unlock(&g->lock);
		return cb_fail(e, EALREADY, "generator: start() may only be called once");
	}
	if (atomic_load(&g->stop_req)) {
		pthread_mutex_unlock(&g->lock);
		return cb_fail(e, EINVAL, "generator: already stopped; create a new one");
	}
	g->started = true;
	pthread_mutex_unlock(&g->lock);

	/* The thread inherits our signal mask: block everything while creating it so that signals
	 * (SIGINT, SIGCHLD, ...) keep going to Node's threads and never interrupt the generator. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&g->thread, NULL, gen_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		g->joined = true; /* nothing to join */
		return cb_fail(e, err, "generator: create thread");
	}

	pthread_mutex_lock(&g->lock);
	while (!g->setup_done)
		pthread_cond_wait(&g->cond, &g->lock);
	if (g->setup_failed) {
		*e = g->setup_err;
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->thread, NULL);
		g->joined = true;
		return -1;
	}
	pthread_mutex_unlock(&g->lock);
	return 0;
}

void cb_gen_status(struct cb_gen *g, struct cb_gen_status *st)
{
	/* running first, with acquire: if the thread has finished, the counters read after it are
	 * its final values. */
	bool running = atomic_load_explicit(&g->running, memory_order_acquire);
	uint64_t first = atomic_load_explicit(&g->first_ns, memory_order_relaxed);
	uint64_t last = atomic_load_explicit(&g->last_ns, memory_order_relaxed);

	memset(st, 0, sizeof(*st));
	st->running = running;
	st->sent = atomic_load_explicit(&g->sent, memory_order_relaxed);
	st->cpu_ns = running ? 0 : atomic_load_explicit(&g->cpu_ns, memory_order_relaxed);
	if (first == 0)
		st->elapsed_ns = 0;
	else if (running)
		st->elapsed_ns = cb_now_ns() - first;
	else
		st->elapsed_ns = last > first ? last - first : 0;
	pthread_mutex_lock(&g->lock);
	if (g->has_run_err) {
		st->has_error = true;
		st->error = g->run_err;
	}
	pthread_mutex_unlock(&g->lock);
}

void cb_gen_stop(struct cb_gen *g, struct cb_gen_status *st)
{
	atomic_store(&g->stop_req, true);
	if (g->started && !g->joined) {
		pthread_join(g->thread, NULL);
		g->joined = true;
	}
	if (st)
		cb_gen_status(g, st);
}

void cb_gen_destroy(struct cb_gen *g)
{
	if (!g)
		return;
	cb_gen_stop(g, NULL);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g->frames);
	free(g->lens);
	free(g->offs);
	free(g->netns_path);
	free(g);
}
