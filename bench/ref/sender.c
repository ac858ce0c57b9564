/*
 * An independent sender for bench/deliver-check: one process, one AF_PACKET socket, the first
 * frame of a pcap file sent N times. Written from scratch, independent of capbench's generator,
 * so that its CPU time can check capbench's `deliver` figure.
 *
 *   sender NETNS_PATH IFNAME PCAP N CPU
 *
 * Pins itself to CPU, joins the network namespace, sends the frame N times with sendmmsg()
 * batches of 64 and qdisc bypass, and prints "sent S cpu_ns C": S frames the kernel accepted
 * (always N), C the process's getrusage() user + system time over the sending loop. On veth the
 * receiver's softirq runs inside the sender's send calls, so C includes the kernel's delivery into
 * every tap bound on the peer; this kernel has no IRQ_TIME_ACCOUNTING and charges it to us.
 */
#include "ref.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_FRAME 65535
/* A refused batch (the peer's backlog or our send buffer is full) is retried after this long:
 * sleeping yields the CPU, which lets ksoftirqd drain the backlog. */
#define BACKOFF_NS 20000
/* Nothing accepted for this long is a dead path, not congestion. */
#define STALL_NS 2000000000ull
#define SNDBUF (32 * 1024 * 1024)

static uint32_t rd32(const uint8_t *p, int swapped)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

/* The first frame of a classic pcap file (either byte order, µs or ns timestamps). */
static size_t first_frame(const char *path, uint8_t *buf)
{
	uint8_t gh[24], rh[16];
	uint32_t magic, len;
	int swapped;
	FILE *f = fopen(path, "rb");

	if (!f)
		die_msg(path, strerror(errno));
	if (fread(gh, sizeof(gh), 1, f) != 1 || fread(rh, sizeof(rh), 1, f) != 1)
		die_msg(path, "too short for a pcap file with a frame");
	memcpy(&magic, gh, sizeof(magic));
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		swapped = 0;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		swapped = 1;
	else
		die_msg(path, "not a classic pcap file");
	len = rd32(rh + 8, swapped);
	if (len < 14 || len > MAX_FRAME || fread(buf, len, 1, f) != 1)
		die_msg(path, "bad first record");
	fclose(f);
	return len;
}

static uint64_t rusage_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

int main(int argc, char **argv)
{
	static uint8_t frame[MAX_FRAME];
	struct iovec iov;
	struct mmsghdr hdrs[BATCH];
	struct sockaddr_ll sll;
	struct timespec pause = { .tv_sec = 0, .tv_nsec = BACKOFF_NS };
	cpu_set_t set;
	uint64_t n, sent = 0, stalled_since = 0, c0, c1;
	int fd, nsfd, ifindex, cpu, one = 1, sndbuf = SNDBUF;

	if (argc != 6) {
		fprintf(stderr, "usage: sender NETNS_PATH IFNAME PCAP N CPU\n");
		return 2;
	}
	n = strtoull(argv[4], NULL, 10);
	cpu = atoi(argv[5]);
	iov.iov_base = frame;
	iov.iov_len = first_frame(argv[3], frame);

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die_msg("sched_setaffinity", strerror(errno));
	nsfd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		die_msg(argv[1], strerror(errno));
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die_msg("setns", strerror(errno));
	close(nsfd);
	ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex)
		die_msg(argv[2], strerror(errno));

	/* Protocol 0: never hooked into the receive path, so it is not one of the taps measured. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die_msg("socket", strerror(errno));
	/* Frames in flight on a veth are charged to the send buffer: make it not the limit. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		die_msg("SO_SNDBUFFORCE", strerror(errno));
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		die_msg("PACKET_QDISC_BYPASS", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die_msg("bind", strerror(errno));

	memset(hdrs, 0, sizeof(hdrs));
	for (int i = 0; i < BATCH; i++) {
		hdrs[i].msg_hdr.msg_iov = &iov;
		hdrs[i].msg_hdr.msg_iovlen = 1;
	}

	c0 = rusage_ns();
	while (sent < n) {
		unsigned int want = n - sent < BATCH ? (unsigned int)(n - sent) : BATCH;
		int r = sendmmsg(fd, hdrs, want, MSG_DONTWAIT);

		if (r > 0)
			sent += (uint64_t)r;
		if (r == (int)want) {
			stalled_since = 0;
			continue;
		}
		/* A short count means message r was refused; an error only that the first was. */
		if (r < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			die_msg("sendmmsg", strerror(errno));
		if (r > 0)
			stalled_since = 0;
		else if (!stalled_since)
			stalled_since = now_ns();
		else if (now_ns() - stalled_since > STALL_NS)
			die_msg("sendmmsg", "no frame accepted for 2 s");
		nanosleep(&pause, NULL);
	}
	c1 = rusage_ns();

	printf("sent %llu cpu_ns %llu\n", (unsigned long long)sent, (unsigned long long)(c1 - c0));
	return 0;
}
