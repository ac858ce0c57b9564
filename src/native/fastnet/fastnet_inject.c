/* fastnet-inject's sender (see fastnet_inject.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "fastnet_inject.h"
#include "fastnet.h"
#include "monotonic.h"
#include "../send/in_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- probe -------------------------------------------------------------------------------- */

int cb_injector_probe(struct cb_error *e)
{
	struct fastnet_send req;
	int fd, err;

	if (cb_fastnet_probe(e) < 0)
		return -1;
	fd = open(FASTNET_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cb_fail(e, errno, "open %s", FASTNET_DEVICE_PATH);
	/* An unbound file: a module that knows SEND says EINVAL (not in INJECT mode). */
	memset(&req, 0, sizeof(req));
	err = ioctl(fd, FASTNET_IOC_SEND, &req) == 0 ? 0 : errno;
	close(fd);
	if (err == ENOTTY)
		return cb_fail(e, 0,
			       "the fastnet module loaded has no INJECT mode (FASTNET_IOC_SEND): "
			       "rebuild and reload kmod/fastnet");
	if (err != EINVAL)
		return cb_fail(e, err, "FASTNET_IOC_SEND on an unbound %s", FASTNET_DEVICE_PATH);
	return 0;
}

/* ---- open, close -------------------------------------------------------------------------- */

struct bind_job {
	int fd;
	struct fastnet_mode_req req;
	int err; /* SET_MODE's errno */
};

/* The one ioctl that resolves the interface by name: in the sender's namespace (cb_in_netns). */
static int bind_here(void *arg, struct cb_error *e)
{
	struct bind_job *j = arg;

	(void)e;
	j->err = ioctl(j->fd, FASTNET_IOC_SET_MODE, &j->req) == 0 ? 0 : errno;
	return 0;
}

/* SET_MODE INJECT in the namespace at netns_path (ours when NULL). 0, or -1 with e filled. */
static int bind_inject(struct cb_injector *s, const char *netns_path, struct cb_error *e)
{
	const char *in = netns_path ? " in netns " : "";
	const char *ns = netns_path ? netns_path : "";
	struct bind_job j;

	memset(&j, 0, sizeof(j));
	j.fd = s->fd;
	memcpy(j.req.ifname, s->ifname, strlen(s->ifname));
	j.req.mode = FASTNET_MODE_INJECT;
	if (cb_in_netns(netns_path, bind_here, &j, "bind fastnet", e) < 0)
		return -1;
	switch (j.err) {
	case 0:
		return 0;
	case ENODEV:
		return cb_fail(e, j.err, "bind fastnet INJECT to %s%s%s: no such interface",
			       s->ifname, in, ns);
	case EINVAL:
		return cb_fail(e, j.err,
			       "bind fastnet INJECT to %s%s%s (not an Ethernet interface, or a "
			       "module without INJECT mode)",
			       s->ifname, in, ns);
	default:
		return cb_fail(e, j.err, "bind fastnet INJECT to %s%s%s", s->ifname, in, ns);
	}
}

static int check_options(const struct cb_injector_options *o, struct cb_error *e)
{
	size_t namelen = o->ifname ? strlen(o->ifname) : 0;

	if (namelen == 0 || namelen >= IF_NAMESIZE || namelen >= FASTNET_IFNAMSIZ)
		return cb_fail(e, EINVAL,
			       "fastnet injector: interface name '%s' must be 1 to %d "
			       "characters",
			       o->ifname ? o->ifname : "", IF_NAMESIZE - 1);
	if (o->batch == 0 || o->batch > FASTNET_SEND_MAX_BATCH)
		return cb_fail(e, EINVAL, "fastnet injector: batch %u is not in 1..%u", o->batch,
			       FASTNET_SEND_MAX_BATCH);
	if (!o->data || o->data_len == 0 || o->data_len > UINT32_MAX)
		return cb_fail(e, EINVAL, "fastnet injector: data must be 1 to %u bytes",
			       UINT32_MAX);
	return 0;
}

int cb_injector_open(struct cb_injector *s, const struct cb_injector_options *o, struct cb_error *e)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (check_options(o, e) < 0)
		return -1;
	memcpy(s->ifname, o->ifname, strlen(o->ifname) + 1);
	s->batched = o->batched;
	s->batch = o->batched ? o->batch : 1;
	s->backoff_ns = CB_SEND_BACKOFF_MIN_NS;
	s->area_len = o->data_len;
	s->area_map_len = (o->data_len + page - 1) & ~(page - 1);
	s->area = mmap(NULL, s->area_map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (s->area == MAP_FAILED) {
		s->area = NULL;
		cb_fail(e, errno, "fastnet injector: map a %zu-byte data area", s->area_map_len);
		goto fail;
	}
	memcpy(s->area, o->data, o->data_len);
	if (s->batched) {
		s->descs = calloc(s->batch, sizeof(*s->descs));
		if (!s->descs) {
			cb_fail(e, ENOMEM, "fastnet injector: allocate %u descriptors", s->batch);
			goto fail;
		}
	}
	/* The device node is in our mount namespace: only the binding needs the sender's. */
	s->fd = open(FASTNET_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		int err = errno;

		if (err == ENOENT || err == ENXIO || err == ENODEV)
			cb_fastnet_probe(e); /* the capture methods' words for a missing module */
		else
			cb_fail(e, err, "open %s", FASTNET_DEVICE_PATH);
		goto fail;
	}
	if (bind_inject(s, o->netns_path, e) < 0)
		goto fail;
	return 0;
fail:
	cb_injector_close(s);
	return -1;
}

void cb_injector_close(struct cb_injector *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->area) {
		munmap(s->area, s->area_map_len);
		s->area = NULL;
	}
	free(s->descs);
	s->descs = NULL;
}

/* ---- sending ------------------------------------------------------------------------------ */

static inline bool unit_ok(const struct cb_injector *s, uint32_t off, uint32_t len)
{
	return len >= ETH_HLEN && (uint64_t)off + len <= s->area_len;
}

/* Why a unit is refused; i is its place in the table, or -1 for write()'s own range. */
static int bad_unit(const struct cb_injector *s, int64_t i, uint32_t off, uint32_t len,
		    struct cb_error *e)
{
	char what[32];

	if (i < 0)
		snprintf(what, sizeof(what), "write()");
	else
		snprintf(what, sizeof(what), "unit %lld", (long long)i);
	if (len < ETH_HLEN)
		return cb_fail(e, EINVAL, "fastnet injector on %s: %s of %u bytes; at least %d",
			       s->ifname, what, len, ETH_HLEN);
	return cb_fail(e, ERANGE,
		       "fastnet injector on %s: %s at offset %u, %u bytes, is outside the %zu-byte "
		       "data",
		       s->ifname, what, off, len, s->area_len);
}

/* The interface took something: the next refusal backs off from the start again. */
static inline void took(struct cb_injector *s)
{
	s->refused = false;
	s->backoff_ns = CB_SEND_BACKOFF_MIN_NS;
}

/* A call that took nothing: 0 for a refusal for room (retried after a wait), -1 otherwise. */
static int refusal(struct cb_injector *s, int err, const char *what, struct cb_error *e)
{
	if (err != ENOBUFS && err != EAGAIN && err != EINTR) {
		if (err == ENODEV)
			return cb_fail(e, err, "%s on fastnet INJECT: interface %s went away", what,
				       s->ifname);
		return cb_fail(e, err, "%s on fastnet INJECT on %s", what, s->ifname);
	}
	s->refused = true;
	s->st.retries++;
	return 0;
}

ssize_t cb_injector_send_one(struct cb_injector *s, uint32_t off, uint32_t len, struct cb_error *e)
{
	ssize_t n;

	if (s->batched)
		return cb_fail(e, EINVAL,
			       "write() on the fastnet injector on %s, which sends "
			       "in batches",
			       s->ifname);
	if (!unit_ok(s, off, len))
		return bad_unit(s, -1, off, len, e);
	s->st.calls++;
	n = write(s->fd, s->area + off, len);
	if (n < 0)
		return refusal(s, errno, "write", e);
	if ((size_t)n != len)
		return cb_fail(e, EPROTO, "write of a %u-byte frame to fastnet on %s took %zd", len,
			       s->ifname, n);
	took(s);
	s->st.taken++;
	s->st.bytes += len;
	return n;
}

int cb_injector_send_from(struct cb_injector *s, const uint32_t *table, uint32_t units,
			  uint32_t first, uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	struct fastnet_send req;
	uint32_t u = first;
	uint64_t b = 0;
	int got;

	*bytes = 0;
	if (!s->batched)
		return cb_fail(e, EINVAL,
			       "sendBatch on the fastnet injector on %s, which sends with write()",
			       s->ifname);
	if (n == 0 || n > s->batch || first >= units)
		return cb_fail(e, EINVAL,
			       "a batch of %u units from unit %u of %u on %s: batch is 1 to %u", n,
			       first, units, s->ifname, s->batch);
	/* Each pair as it is used, in both tiers alike, as a socket sender checks its own. */
	for (uint32_t k = 0; k < n; k++) {
		uint32_t off = table[2 * (size_t)u], len = table[2 * (size_t)u + 1];

		if (!unit_ok(s, off, len))
			return bad_unit(s, u, off, len, e);
		s->descs[k].addr = (uint64_t)(uintptr_t)(s->area + off);
		s->descs[k].len = len;
		s->descs[k].flags = 0;
		if (++u == units)
			u = 0;
	}
	memset(&req, 0, sizeof(req));
	req.frames = (uint64_t)(uintptr_t)s->descs;
	req.count = n;
	s->st.calls++;
	got = ioctl(s->fd, FASTNET_IOC_SEND, &req);
	if (got < 0)
		return refusal(s, errno, "FASTNET_IOC_SEND", e);
	if (got == 0 || (uint32_t)got > n)
		return cb_fail(e, EPROTO, "FASTNET_IOC_SEND of %u frames on %s returned %d", n,
			       s->ifname, got);
	took(s);
	for (int k = 0; k < got; k++)
		b += s->descs[k].len;
	/* Stopped at a frame the interface refused: it goes first next time. */
	if ((uint32_t)got < n)
		s->st.retries++;
	s->st.taken += (uint64_t)got;
	s->st.bytes += b;
	*bytes = b;
	return got;
}

int cb_injector_send_batch(struct cb_injector *s, const uint32_t *table, uint32_t n,
			   struct cb_error *e)
{
	uint64_t bytes;

	return cb_injector_send_from(s, table, n, 0, n, &bytes, e);
}

int cb_injector_wait(struct cb_injector *s, int timeout_ms, struct cb_error *e)
{
	(void)e;
	s->st.waits++;
	/* Longer each time the interface refuses again, as a socket sender backs off ENOBUFS. */
	cb_send_back_off(&s->backoff_ns, timeout_ms, s->refused);
	return 0;
}

static ssize_t step_one(void *self, uint32_t off, uint32_t len, struct cb_error *e)
{
	return cb_injector_send_one(self, off, len, e);
}

static int step_from(void *self, const uint32_t *table, uint32_t units, uint32_t first, uint32_t n,
		     uint64_t *bytes, struct cb_error *e)
{
	return cb_injector_send_from(self, table, units, first, n, bytes, e);
}

static int step_wait(void *self, int timeout_ms, struct cb_error *e)
{
	return cb_injector_wait(self, timeout_ms, e);
}

/* A write() per frame (taken whole or refused), or FASTNET_IOC_SEND batches. */
static const struct cb_send_step STEP = {
	.send_one = step_one,
	.send_from = step_from,
	.wait = step_wait,
};

int cb_injector_loop(struct cb_injector *s, const uint32_t *table, uint32_t units,
		     const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		     struct cb_error *e)
{
	struct cb_send_handle h = { &s->at, !s->batched, s->batch, s->ifname };

	return cb_send_loop(&STEP, s, h, table, units, slice, units_out, bytes_out, e);
}

int cb_injector_finish(struct cb_injector *s, struct cb_error *e)
{
	struct fastnet_stats st;

	memset(&st, 0, sizeof(st));
	if (ioctl(s->fd, FASTNET_IOC_GET_STATS, &st) != 0)
		return cb_fail(e, errno, "read fastnet statistics for the injector on %s",
			       s->ifname);
	if (st.tx_frames != s->st.taken || st.tx_bytes != s->st.bytes)
		return cb_fail(e, EPROTO,
			       "fastnet INJECT on %s: the module counts %llu frames (%llu bytes) "
			       "sent, the sender %llu (%llu bytes)",
			       s->ifname, (unsigned long long)st.tx_frames,
			       (unsigned long long)st.tx_bytes, (unsigned long long)s->st.taken,
			       (unsigned long long)s->st.bytes);
	return 0;
}
