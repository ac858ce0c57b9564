/*
 * Reference for capbench's `socket-mmsg` method: an AF_PACKET SOCK_RAW socket drained with
 * recvmmsg() batches, the IPv4 counter on every frame. Written from scratch, independent of
 * capbench's addon, so that bench/native-vs-ref can compare capbench's native tier against it.
 *
 *   socket-mmsg IFNAME N [BATCH]      (BATCH defaults to 64, capbench's --batch default)
 *
 * Protocol as in socket.c: "ready", wait for "go", drain N frames (or stop after 500 ms idle),
 * print "frames F ipv4 V ns T cpu_ns C drops D".
 */
#define _GNU_SOURCE
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
#include <sys/socket.h>
#include <time.h>

#define IDLE_MS 500
#define SNAP 2048
#define MAX_BATCH 1024

static uint8_t bufs[MAX_BATCH][SNAP];
static struct iovec iovs[MAX_BATCH];
static struct mmsghdr msgs[MAX_BATCH];

int main(int argc, char **argv)
{
	struct tpacket_stats st;
	socklen_t stlen = sizeof(st);
	uint64_t n, frames = 0, ipv4 = 0, t0, t_end, c0, c1;
	unsigned int batch = 64;
	int fd;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: socket-mmsg IFNAME N [BATCH]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	if (argc == 4)
		batch = (unsigned int)atoi(argv[3]);
	if (batch < 1 || batch > MAX_BATCH) {
		fprintf(stderr, "socket-mmsg: batch must be 1..%d\n", MAX_BATCH);
		return 2;
	}
	fd = bound_packet_socket(argv[1], n, 0);

	for (unsigned int i = 0; i < batch; i++) {
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = SNAP;
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	ready_then_wait_go();

	c0 = cpu_ns();
	t0 = now_ns();
	t_end = t0;
	while (frames < n) {
		unsigned int want = n - frames < batch ? (unsigned int)(n - frames) : batch;
		int got = recvmmsg(fd, msgs, want, MSG_DONTWAIT, NULL);

		if (got > 0) {
			for (int i = 0; i < got; i++)
				ipv4 += is_ipv4(bufs[i], msgs[i].msg_len);
			frames += (uint64_t)got;
			continue;
		}
		if (got < 0 && errno != EAGAIN && errno != EINTR)
			die_msg("recvmmsg", strerror(errno));
		t_end = now_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, IDLE_MS) == 0)
			break;
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
