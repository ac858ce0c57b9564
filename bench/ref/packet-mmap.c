/*
 * Reference for capbench's `packet-mmap` method: a PACKET_RX_RING with TPACKET_V3, walked block
 * by block in place, the IPv4 counter on every frame, each block handed back to the kernel when
 * done. Written from scratch in the manner of netsniff-ng's ring walk, independent of capbench's
 * addon, so that bench/native-vs-ref can compare capbench's native tier against it.
 *
 *   packet-mmap IFNAME N [BLOCK_KIB [RETIRE_MS [BLOCK_NR]]]
 *
 * BLOCK_KIB: the block size in KiB, a power of two from 4 to 4096 (default 1024); RETIRE_MS: the
 * block retire timeout (default 100); BLOCK_NR: the number of blocks (default 0: enough for N
 * frames, see below). The defaults are capbench's drain layout for a flat-out fill.
 *
 * Protocol as in socket.c: "ready", wait for "go", drain N frames (or stop after 500 ms idle),
 * print "frames F ipv4 V ns T cpu_ns C drops D" (D: PACKET_STATISTICS drops).
 */
#include "ref.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#define IDLE_MS 500
#define BLOCK_KIB 1024u
#define FRAME_SIZE 2048u
/* A block is retired this long after it was opened even if not full (as capbench's drain). */
#define RETIRE_MS 100u
/* A 64-byte frame takes 144 bytes of a block: tpacket3_hdr, sockaddr_ll, frame, aligned. */
#define SLOT 144u
/* The block descriptor ahead of the first frame; a frame must end strictly before the block. */
#define BLOCK_HDR 48u
/* The sender assumed slowest when counting the blocks the retire timer closes part-full. */
#define SLOW_PPS 100000u

static uint32_t arg_u32(int argc, char **argv, int i, uint32_t dflt)
{
	return argc > i ? (uint32_t)strtoul(argv[i], NULL, 10) : dflt;
}

int main(int argc, char **argv)
{
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	struct tpacket_stats_v3 st;
	socklen_t stlen = sizeof(st);
	uint64_t n, frames = 0, ipv4 = 0, t0, t_end, c0, c1;
	uint32_t block_size, retire_ms, blocks, per_block, cur = 0;
	uint8_t *ring;
	int fd, ifindex, v = TPACKET_V3;

	if (argc < 3 || argc > 6) {
		fprintf(stderr, "usage: packet-mmap IFNAME N [BLOCK_KIB [RETIRE_MS [BLOCK_NR]]]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	block_size = arg_u32(argc, argv, 3, BLOCK_KIB) * 1024u;
	retire_ms = arg_u32(argc, argv, 4, RETIRE_MS);
	blocks = arg_u32(argc, argv, 5, 0);
	if (block_size < 4096u || block_size > (4096u << 10) || (block_size & (block_size - 1)))
		die_msg("BLOCK_KIB", "not a power of two from 4 to 4096");
	if (retire_ms < 1)
		die_msg("RETIRE_MS", "not a positive number");
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex)
		die_msg(argv[1], strerror(errno));
	/*
	 * By default enough blocks for N frames, plus one per retire timeout for the time a slow
	 * sender (100 kpps) takes to send them, since a retired block may be part-full, plus two.
	 */
	per_block = (block_size - BLOCK_HDR - 1) / SLOT;
	if (!blocks)
		blocks = (uint32_t)((n + per_block - 1) / per_block +
				    (n * 1000 + (uint64_t)SLOW_PPS * retire_ms - 1) /
					    ((uint64_t)SLOW_PPS * retire_ms) +
				    2);

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die_msg("socket", strerror(errno));
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		die_msg("PACKET_VERSION", strerror(errno));
	memset(&req, 0, sizeof(req));
	req.tp_block_size = block_size;
	req.tp_block_nr = blocks;
	req.tp_frame_size = FRAME_SIZE;
	req.tp_frame_nr = (block_size / FRAME_SIZE) * blocks;
	req.tp_retire_blk_tov = retire_ms;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		die_msg("PACKET_RX_RING", strerror(errno));
	ring = mmap(NULL, (size_t)block_size * blocks, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, fd, 0);
	if (ring == MAP_FAILED)
		die_msg("mmap", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die_msg("bind", strerror(errno));

	ready_then_wait_go();

	c0 = cpu_ns();
	t0 = now_ns();
	t_end = t0;
	while (frames < n) {
		struct tpacket_block_desc *bd =
			(struct tpacket_block_desc *)(ring + (size_t)cur * block_size);

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
			t_end = now_ns();
			struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLERR };
			if (poll(&pfd, 1, IDLE_MS) == 0)
				break;
			continue;
		}
		uint32_t num = bd->hdr.bh1.num_pkts;
		struct tpacket3_hdr *h =
			(struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (uint32_t i = 0; i < num; i++) {
			ipv4 += is_ipv4((uint8_t *)h + h->tp_mac, h->tp_snaplen);
			h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		}
		frames += num;
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		cur = cur + 1 == blocks ? 0 : cur + 1;
	}
	if (frames >= n)
		t_end = now_ns();
	c1 = cpu_ns();

	memset(&st, 0, sizeof(st));
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
	printf("frames %llu ipv4 %llu ns %llu cpu_ns %llu drops %u\n", (unsigned long long)frames,
	       (unsigned long long)ipv4, (unsigned long long)(t_end - t0),
	       (unsigned long long)(c1 - c0), st.tp_drops);
	return 0;
}
