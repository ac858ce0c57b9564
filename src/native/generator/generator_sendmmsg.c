/*
 * The generator's sendmmsg engine: one sendmmsg() per batch, iovecs pointing into the generator's
 * copy of the frames, so nothing is copied or rewritten between calls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "generator_internal.h"
#include "generator_pacing.h"
#include "monotonic.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

static int prepare_sendmmsg(struct cb_gen *g, struct gen_run *r, struct cb_error *e)
{
	struct gen_mmsg *m = &r->mmsg;
	uint32_t n = g->nframes;
	uint64_t nhdrs = (uint64_t)n + g->batch;

	/* Stamping sends each frame as two pieces, the fixture's bytes less the last 8 and the
	 * header's own stamp, so no frame is copied to give it a time of its own. */
	m->iov = calloc(g->stamp ? 2 * nhdrs : n, sizeof(*m->iov));
	m->hdrs = calloc(nhdrs, sizeof(*m->hdrs));
	m->stamps = g->stamp ? calloc(nhdrs, sizeof(*m->stamps)) : NULL;
	if (!m->iov || !m->hdrs || (g->stamp && !m->stamps))
		return cb_fail(e, ENOMEM, "allocate %llu sendmmsg headers",
			       (unsigned long long)nhdrs);
	/* nframes + batch headers, header j sending frame j % nframes: a batch starting at any
	 * frame is one contiguous run of headers, so nothing is rewritten between calls. */
	for (uint64_t j = 0; j < nhdrs; j++) {
		uint32_t f = (uint32_t)(j % n);

		if (g->stamp) {
			m->iov[2 * j].iov_base = g->frames + g->offs[f];
			m->iov[2 * j].iov_len = g->lens[f] - CB_GEN_STAMP_BYTES;
			m->iov[2 * j + 1].iov_base = &m->stamps[j];
			m->iov[2 * j + 1].iov_len = CB_GEN_STAMP_BYTES;
			m->hdrs[j].msg_hdr.msg_iov = &m->iov[2 * j];
			m->hdrs[j].msg_hdr.msg_iovlen = 2;
		} else {
			if (j < n) {
				m->iov[j].iov_base = g->frames + g->offs[f];
				m->iov[j].iov_len = g->lens[f];
			}
			m->hdrs[j].msg_hdr.msg_iov = &m->iov[f];
			m->hdrs[j].msg_hdr.msg_iovlen = 1;
		}
	}
	return 0;
}

static int run_sendmmsg(struct cb_gen *g, struct gen_run *r, struct cb_error *e)
{
	const uint64_t t0 = cb_now_ns();
	const uint64_t deadline = g->duration_ns ? t0 + g->duration_ns : UINT64_MAX;
	uint64_t sent = 0;
	uint32_t pos = 0; /* fixture frame the next batch starts at */
	struct backoff bo;

	backoff_reset(&bo);
	for (;;) {
		uint64_t now, want, after;
		int n, err;

		if (atomic_load_explicit(&g->stop_req, memory_order_relaxed))
			return 0;
		now = cb_now_ns();
		if (now >= deadline)
			return 0;
		want = g->batch;
		if (g->count) {
			if (sent >= g->count)
				return 0;
			want = min_u64(want, g->count - sent);
		}
		if (g->rate_pps > 0) {
			uint64_t due = frames_due(g->rate_pps, t0, now);

			uint64_t burst = min_u64(want, pacing_burst(g->rate_pps, g->batch));

			/* Paced in bursts: sending each frame the moment it is due would keep this
			 * CPU spinning between frames, and the kernel's delivery work on it (veth
			 * runs the receive path on the sender's CPU) would hide in that time. */
			if (due < sent + burst) {
				cb_gen_pace_wait(due_time(g->rate_pps, t0, sent + burst - 1),
						 deadline);
				continue;
			}
			want = min_u64(want, due - sent);
		}

		note_first_send(g, now);
		if (g->stamp) {
			uint64_t t = cb_now_ns();

			for (uint64_t k = 0; k < want; k++)
				put_stamp(&r->mmsg.stamps[pos + k], t);
		}
		/* MSG_DONTWAIT: a full send buffer must come back as EAGAIN, not block, or stop()
		 * could wait on a stuck device forever. */
		n = sendmmsg(r->fd, &r->mmsg.hdrs[pos], (unsigned int)want, MSG_DONTWAIT);
		err = errno;
		after = cb_now_ns();
		if (n > 0) {
			sent += (uint64_t)n;
			pos = (uint32_t)(((uint64_t)pos + (uint64_t)n) % g->nframes);
			atomic_store_explicit(&g->sent, sent, memory_order_relaxed);
			atomic_store_explicit(&g->last_ns, after, memory_order_relaxed);
		}
		if (n == (int)want) {
			backoff_reset(&bo);
			continue;
		}
		/* sendmmsg reports an error only when the first message failed; a short count means
		 * message n failed, and retrying from it either succeeds or shows the error. */
		if (n < 0 && !transient(err))
			return cb_fail(e, err, "sendmmsg on %s", g->ifname);
		if (cb_gen_backoff_wait(&bo, n > 0, n < 0 ? err : ENOBUFS, deadline, "sendmmsg",
					g->ifname, e) < 0)
			return -1;
	}
}

static void release_sendmmsg(struct gen_run *r)
{
	free(r->mmsg.iov);
	free(r->mmsg.hdrs);
	free(r->mmsg.stamps);
}

const struct gen_engine cb_gen_sendmmsg_engine = {
	.prepare = prepare_sendmmsg,
	.run = run_sendmmsg,
	.release = release_sendmmsg,
};
