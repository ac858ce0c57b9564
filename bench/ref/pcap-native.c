/*
 * Reference for capbench's `pcap-native` method: libpcap on one interface, pcap_dispatch() with
 * a callback that runs the IPv4 counter on every frame, in libpcap's own buffer. Written from
 * scratch, independent of capbench's addon, so that bench/native-vs-ref can compare capbench's
 * native tier against it.
 *
 *   pcap-native IFNAME N
 *
 * Protocol as in socket.c: "ready", wait for "go", drain N frames (or stop after 500 ms idle),
 * print "frames F ipv4 V ns T cpu_ns C drops D" (D: pcap_stats ps_drop + ps_ifdrop).
 */
#include "ref.h"

#include <pcap/pcap.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDLE_MS 500
#define SNAP 2048
/* Blocks are retired this long after their first frame even if not full (as capbench's drain). */
#define TIMEOUT_MS 100

struct counter {
	uint64_t frames;
	uint64_t ipv4;
};

static pcap_t *p;

/* The counter: an untagged IPv4 frame has EtherType 0x0800 at bytes 12-13. */
static void count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct counter *c = (struct counter *)user;

	c->frames++;
	c->ipv4 += h->caplen >= 14 && bytes[12] == 0x08 && bytes[13] == 0x00;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct counter c = { 0, 0 };
	struct pcap_stat st;
	uint64_t n, t0, t_end, c0, c1;
	long long bytes;
	int fd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: pcap-native IFNAME N\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);

	p = pcap_create(argv[1], err);
	if (!p)
		die_msg("pcap_create", err);
	/*
	 * A 64-byte frame takes a 160-byte slot of libpcap's TPACKET_V3 ring (header, sockaddr_ll,
	 * frame, aligned); 25 fit a 4 KiB block. A quarter more for blocks retired part-full.
	 */
	bytes = (long long)n * (4096 / 25 + 1) * 5 / 4 + (1 << 20);
	if (bytes > (1 << 30))
		bytes = 1 << 30;
	pcap_set_snaplen(p, SNAP);
	pcap_set_promisc(p, 1);
	pcap_set_timeout(p, TIMEOUT_MS);
	pcap_set_buffer_size(p, (int)bytes);
	rc = pcap_activate(p);
	if (rc < 0)
		die_msg("pcap_activate", pcap_geterr(p));
	if (pcap_setnonblock(p, 1, err) < 0)
		die_msg("pcap_setnonblock", err);
	fd = pcap_get_selectable_fd(p);

	ready_then_wait_go();

	c0 = cpu_ns();
	t0 = now_ns();
	t_end = t0;
	while (c.frames < n) {
		rc = pcap_dispatch(p, -1, count, (u_char *)&c);
		if (rc > 0)
			continue;
		if (rc < 0)
			die_msg("pcap_dispatch", pcap_geterr(p));
		t_end = now_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, IDLE_MS) == 0)
			break;
	}
	if (c.frames >= n)
		t_end = now_ns();
	c1 = cpu_ns();

	memset(&st, 0, sizeof(st));
	pcap_stats(p, &st);
	printf("frames %llu ipv4 %llu ns %llu cpu_ns %llu drops %u\n", (unsigned long long)c.frames,
	       (unsigned long long)c.ipv4, (unsigned long long)(t_end - t0),
	       (unsigned long long)(c1 - c0),
	       st.ps_drop + st.ps_ifdrop);
	pcap_close(p);
	return 0;
}
