/*
 * Reference for capbench's `io-uring` method: an AF_PACKET SOCK_RAW socket read through io_uring,
 * one multishot recvmsg into a ring of provided buffers, the IPv4 counter on every frame. Written
 * from scratch with liburing 2.3's API, independent of capbench's addon, so that
 * bench/native-vs-ref can compare capbench's native tier against it.
 *
 *   io-uring IFNAME N [BUFS]      (BUFS buffers in the ring: a power of two, at most and by
 *                                  default 4096, as capbench's io-uring method)
 *
 * Protocol as in socket.c: "ready", wait for "go", drain N frames (or stop after 500 ms idle),
 * print "frames F ipv4 V ns T cpu_ns C drops D". The multishot is armed only after "go". The
 * kernel ends it (a completion without IORING_CQE_F_MORE, -ENOBUFS) once every buffer holds a
 * frame not yet counted; the loop gives the buffers back and arms it again.
 */
#define _GNU_SOURCE
#include "ref.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#define IDLE_MS 500
/* One buffer: struct io_uring_recvmsg_out (16 bytes), then the frame. */
#define SNAP 2048
#define MAX_BUFS 4096
#define BGID 0

static uint8_t bufs[MAX_BUFS][SNAP];
static struct io_uring ring;
/* No name, no control data: a buffer holds the recvmsg header and the frame. */
static struct msghdr msg;

/* Queues the multishot recvmsg; the next io_uring_submit_and_wait_timeout() submits it. */
static void arm(int fd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe)
		die_msg("io_uring_get_sqe", "submission queue full");
	io_uring_prep_recvmsg_multishot(sqe, fd, &msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
}

int main(int argc, char **argv)
{
	struct tpacket_stats st;
	socklen_t stlen = sizeof(st);
	struct io_uring_buf_reg reg;
	struct io_uring_buf_ring *br;
	struct __kernel_timespec idle = { .tv_sec = IDLE_MS / 1000,
					  .tv_nsec = (IDLE_MS % 1000) * 1000000ll };
	uint64_t n, frames = 0, ipv4 = 0, t0, t_end, c0, c1;
	unsigned int nbufs = MAX_BUFS;
	int fd, ret, mask, armed;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: io-uring IFNAME N [BUFS]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	if (argc == 4)
		nbufs = (unsigned int)atoi(argv[3]);
	if (nbufs < 1 || nbufs > MAX_BUFS || (nbufs & (nbufs - 1))) {
		fprintf(stderr, "io-uring: BUFS must be a power of two, 1..%d\n", MAX_BUFS);
		return 2;
	}
	fd = bound_packet_socket(argv[1], n, 0);

	/*
	 * The completion queue (2 x entries) holds a completion for every buffer plus the last one.
	 * As capbench's ring: receives finished when this thread enters it, not by task work that
	 * interrupts it at each arrival.
	 */
	ret = io_uring_queue_init(nbufs, &ring,
				  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
	if (ret < 0)
		die_msg("io_uring_queue_init", strerror(-ret));
	/* liburing 2.3 has no io_uring_setup_buf_ring(): the ring is our own page-aligned memory. */
	br = mmap(NULL, nbufs * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED)
		die_msg("mmap", strerror(errno));
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)br;
	reg.ring_entries = nbufs;
	reg.bgid = BGID;
	ret = io_uring_register_buf_ring(&ring, &reg, 0);
	if (ret < 0)
		die_msg("io_uring_register_buf_ring", strerror(-ret));
	io_uring_buf_ring_init(br);
	mask = io_uring_buf_ring_mask(nbufs);
	for (unsigned int i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(br, bufs[i], SNAP, (unsigned short)i, mask, (int)i);
	io_uring_buf_ring_advance(br, (int)nbufs);

	ready_then_wait_go();

	c0 = cpu_ns();
	t0 = now_ns();
	t_end = t0;
	arm(fd);
	armed = 1;
	while (frames < n) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0, given = 0;

		io_uring_for_each_cqe(&ring, head, cqe) {
			seen++;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				armed = 0;
			if (cqe->res == -ENOBUFS)
				continue;
			if (cqe->res < 0)
				die_msg("recvmsg", strerror(-cqe->res));
			if (!(cqe->flags & IORING_CQE_F_BUFFER))
				die_msg("recvmsg", "completion without a buffer");
			unsigned int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			struct io_uring_recvmsg_out *o =
				io_uring_recvmsg_validate(bufs[bid], cqe->res, &msg);

			if (!o)
				die_msg("recvmsg", "buffer shorter than its header");
			if (frames < n) {
				frames++;
				ipv4 += is_ipv4(io_uring_recvmsg_payload(o, &msg),
						io_uring_recvmsg_payload_length(o, cqe->res, &msg));
			}
			io_uring_buf_ring_add(br, bufs[bid], SNAP, (unsigned short)bid, mask,
					      (int)given++);
		}
		io_uring_buf_ring_advance(br, (int)given);
		io_uring_cq_advance(&ring, seen);
		if (frames >= n)
			break;
		if (!armed) {
			arm(fd);
			armed = 1;
		}
		t_end = now_ns();
		/* Submits a re-arm if there is one; in liburing 2.3, >= 0 (what it submitted) on success. */
		ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &idle, NULL);
		if (ret == -ETIME)
			break;
		if (ret < 0 && ret != -EINTR)
			die_msg("io_uring_submit_and_wait_timeout", strerror(-ret));
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
