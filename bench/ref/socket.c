/*
 * Reference for capbench's `socket` method: an AF_PACKET SOCK_RAW socket on one interface,
 * one recvmsg() per frame with PACKET_AUXDATA (to tell 802.1Q-tagged frames, as capbench must),
 * the IPv4 counter on every frame. Written from scratch, independent of
 * capbench's addon, so that bench/native-vs-ref can compare capbench's native tier against it.
 *
 *   socket IFNAME N
 *
 * Opens and sizes the socket to hold N frames, prints "ready", waits for "go" on stdin, then
 * drains until it has N frames or nothing arrives for 500 ms, and prints
 * "frames F ipv4 V ns T cpu_ns C drops D": T is CLOCK_MONOTONIC around the loop (up to the last
 * frame), C the thread's CPU time in it, D the socket's PACKET_STATISTICS drops.
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
#include <sys/socket.h>
#include <time.h>

#define IDLE_MS 500
#define SNAP 2048

/* A frame that carried an 802.1Q tag on the wire: bytes 12-13 were the TPID, not IPv4. */
static int vlan_tagged(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
			struct tpacket_auxdata aux;

			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
			return (aux.tp_status & TP_STATUS_VLAN_VALID) || aux.tp_vlan_tci;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[SNAP];
	struct tpacket_stats st;
	socklen_t stlen = sizeof(st);
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cbuf,
			      .msg_controllen = sizeof(cbuf) };
	uint64_t n, frames = 0, ipv4 = 0, t0, t_end, c0, c1;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: socket IFNAME N\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	fd = bound_packet_socket(argv[1], n, 1);

	ready_then_wait_go();

	c0 = cpu_ns();
	t0 = now_ns();
	t_end = t0;
	while (frames < n) {
		ssize_t len = recvmsg(fd, &msg, MSG_DONTWAIT);

		if (len >= 0) {
			frames++;
			ipv4 += is_ipv4(buf, (size_t)len) && !vlan_tagged(&msg);
			msg.msg_controllen = sizeof(cbuf);
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			die_msg("recv", strerror(errno));
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
