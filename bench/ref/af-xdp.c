/*
 * Reference for capbench's `af-xdp` method: an AF_XDP socket on queue 0 of one interface, made
 * with libxdp (which loads its default redirect program), copy mode, XDP in driver mode. The
 * loop is the rx loop of the xdp-tools / kernel samples: peek a batch of rx descriptors, run the
 * IPv4 counter on each frame in the UMEM, put the frames back on the fill ring, release the
 * batch. Written from scratch, independent of capbench's addon, so that bench/native-vs-ref can
 * compare capbench's native tier against it.
 *
 *   af-xdp IFNAME N [BATCH]      (BATCH defaults to 64)
 *
 * Protocol as in socket.c: "ready", wait for "go", drain N frames (or stop after 500 ms idle),
 * print "frames F ipv4 V ns T cpu_ns C drops D" (D: XDP_STATISTICS rx_dropped + rx_ring_full +
 * rx_fill_ring_empty_descs).
 */
#include "ref.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <xdp/xsk.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define IDLE_MS 500
#define FRAME_SIZE 2048u
#define MAX_BATCH 1024

static uint32_t pow2_at_least(uint64_t v)
{
	uint32_t p = 64;

	while (p < v)
		p <<= 1;
	return p;
}

int main(int argc, char **argv)
{
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq, rx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xdp_statistics st;
	socklen_t stlen = sizeof(st);
	uint64_t n, frames = 0, ipv4 = 0, t0, t_end, c0, c1;
	uint32_t ring, batch = 64, idx;
	size_t umem_bytes;
	uint8_t *area;
	int fd, err;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: af-xdp IFNAME N [BATCH]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	if (argc == 4)
		batch = (uint32_t)atoi(argv[3]);
	if (batch < 1 || batch > MAX_BATCH) {
		fprintf(stderr, "af-xdp: batch must be 1..%d\n", MAX_BATCH);
		return 2;
	}
	/* To hold N frames unread: N UMEM frames, all on the fill ring, and an rx ring of N. */
	ring = pow2_at_least(n);
	umem_bytes = (size_t)ring * FRAME_SIZE;
	area = mmap(NULL, umem_bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (area == MAP_FAILED)
		die_msg("mmap UMEM", strerror(errno));

	struct xsk_umem_config ucfg = {
		.fill_size = ring,
		.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	err = xsk_umem__create(&umem, area, umem_bytes, &fq, &cq, &ucfg);
	if (err)
		die_msg("xsk_umem__create", strerror(-err));

	struct xsk_socket_config cfg = {
		.rx_size = ring,
		.tx_size = 0,
		.libxdp_flags = 0,
		.xdp_flags = XDP_FLAGS_DRV_MODE,
		.bind_flags = XDP_COPY,
	};
	err = xsk_socket__create(&xsk, argv[1], 0, umem, &rx, NULL, &cfg);
	if (err)
		die_msg("xsk_socket__create", strerror(-err));
	fd = xsk_socket__fd(xsk);

	if (xsk_ring_prod__reserve(&fq, ring, &idx) != ring)
		die_msg("fill ring reserve", strerror(ENOSPC));
	for (uint32_t i = 0; i < ring; i++)
		*xsk_ring_prod__fill_addr(&fq, idx + i) = (uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&fq, ring);

	ready_then_wait_go();

	c0 = cpu_ns();
	t0 = now_ns();
	t_end = t0;
	while (frames < n) {
		uint32_t rx_idx, fq_idx;
		uint32_t got = xsk_ring_cons__peek(&rx, batch, &rx_idx);

		if (!got) {
			t_end = now_ns();
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			if (poll(&pfd, 1, IDLE_MS) == 0)
				break;
			continue;
		}
		while (xsk_ring_prod__reserve(&fq, got, &fq_idx) != got)
			;
		for (uint32_t i = 0; i < got; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, rx_idx + i);
			uint64_t addr = xsk_umem__extract_addr(d->addr);

			ipv4 += is_ipv4(xsk_umem__get_data(area, d->addr), d->len);
			*xsk_ring_prod__fill_addr(&fq, fq_idx + i) = addr;
		}
		xsk_ring_prod__submit(&fq, got);
		xsk_ring_cons__release(&rx, got);
		frames += got;
	}
	if (frames >= n)
		t_end = now_ns();
	c1 = cpu_ns();

	memset(&st, 0, sizeof(st));
	getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &stlen);
	printf("frames %llu ipv4 %llu ns %llu cpu_ns %llu drops %llu\n", (unsigned long long)frames,
	       (unsigned long long)ipv4, (unsigned long long)(t_end - t0),
	       (unsigned long long)(c1 - c0),
	       (unsigned long long)(st.rx_dropped + st.rx_ring_full + st.rx_fill_ring_empty_descs));
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	return 0;
}
