/*
 * What every reference program shares: the clocks, the counter, and the ready/go handshake with
 * bench/native-vs-ref. Each program stays one file of its own mechanism; only this is common.
 */
#ifndef CAPBENCH_REF_H
#define CAPBENCH_REF_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Reference programs are tools run by the bench: on failure they say why and exit. */
static inline void die_msg(const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, detail);
	exit(1);
}

static inline uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time this thread has used: the loop's cost without the time others ran on its CPU. */
static inline uint64_t cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* The counter: an untagged IPv4 frame has EtherType 0x0800 at bytes 12-13. */
static inline int is_ipv4(const uint8_t *p, size_t len)
{
	return len >= 14 && p[12] == 0x08 && p[13] == 0x00;
}

static inline void ready_then_wait_go(void)
{
	char line[16];

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || strncmp(line, "go", 2) != 0)
		exit(1);
}

/*
 * The sockets' references (socket, socket-mmsg, io-uring): an AF_PACKET SOCK_RAW socket bound to
 * ifname for every protocol, with room to queue `frames` small frames unread (each is charged
 * about 1 KiB of skb truesize). Protocol 0 until bind(), so nothing is queued before it is set
 * up. With auxdata, PACKET_AUXDATA: the kernel moves an 802.1Q tag into metadata before taps see
 * the frame, and without it a tagged IPv4 frame would be counted (capbench's loop asks for it).
 */
static inline int bound_packet_socket(const char *ifname, uint64_t frames, int auxdata)
{
	struct sockaddr_ll sll;
	long long rcvbuf = (long long)frames * 1024 + (1 << 20);
	int val = rcvbuf > (1 << 30) - 1 ? (1 << 30) - 1 : (int)rcvbuf;
	int one = 1;
	int ifindex = (int)if_nametoindex(ifname);
	int fd;

	if (!ifindex)
		die_msg(ifname, strerror(errno));
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die_msg("socket", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val)) < 0)
		die_msg("SO_RCVBUFFORCE", strerror(errno));
	if (auxdata && setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		die_msg("PACKET_AUXDATA", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die_msg("bind", strerror(errno));
	return fd;
}

#endif
