/*
 * AF_XDP without libxdp: what the calls do where libxdp's headers are missing (af_xdp.c,
 * af_xdp_xskmap.c, af_xdp_program.c and af_xdp_tx.c then compile to nothing). Every call says how
 * to get it; nothing here may use a libxdp or libbpf type.
 */
#include "af_xdp.h"
#include "af_xdp_tx.h"
#ifndef CB_HAVE_LIBXDP

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NO_LIBXDP \
	"capbench was built without libxdp (apt-get install libxdp-dev libbpf-dev, then npm ci)"

int cb_xsk_probe(char *why, size_t why_len, char *version, size_t version_len)
{
	snprintf(why, why_len, "%s", NO_LIBXDP);
	if (version_len)
		version[0] = '\0';
	return 0;
}

int cb_xsk_open(struct cb_xsk *s, const struct cb_xsk_options *o, struct cb_error *e)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	return cb_fail(e, ENOSYS, "open AF_XDP socket on %s: %s", o->ifname, NO_LIBXDP);
}

int cb_xsk_receive(struct cb_xsk *s, uint32_t *table, uint32_t max_frames, int timeout_ms,
		   struct cb_error *e)
{
	(void)s, (void)table, (void)max_frames, (void)timeout_ms;
	return cb_fail(e, ENOSYS, "%s", NO_LIBXDP);
}

int cb_xsk_consume(struct cb_xsk *s, const struct cb_slice *slice, struct cb_count *out,
		   struct cb_error *e)
{
	(void)s, (void)slice, (void)out;
	return cb_fail(e, ENOSYS, "%s", NO_LIBXDP);
}

int cb_xsk_read_stats(struct cb_xsk *s, struct cb_xsk_stats *st, struct cb_error *e)
{
	(void)s;
	memset(st, 0, sizeof(*st));
	return cb_fail(e, ENOSYS, "%s", NO_LIBXDP);
}

uint64_t cb_xsk_produced(struct cb_xsk *s)
{
	return s->produced;
}

void cb_xsk_close(struct cb_xsk *s)
{
	s->fd = -1;
}

/* ---- sending (af_xdp_tx.h): open fails, so the others are never reached on an open socket ---- */

int cb_xsk_tx_open(struct cb_xsk_tx *s, const struct cb_xsk_tx_options *o, struct cb_error *e)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	return cb_fail(e, ENOSYS, "open AF_XDP socket to send on %s: %s", o->ifname, NO_LIBXDP);
}

void cb_xsk_tx_close(struct cb_xsk_tx *s)
{
	s->fd = -1;
}

int64_t cb_xsk_tx_send_one(struct cb_xsk_tx *s, uint32_t off, uint32_t len, struct cb_error *e)
{
	(void)s, (void)off, (void)len;
	return cb_fail(e, ENOSYS, "%s", NO_LIBXDP);
}

int cb_xsk_tx_send_from(struct cb_xsk_tx *s, const uint32_t *table, uint32_t units, uint32_t first,
			uint32_t n, uint64_t *bytes, struct cb_error *e)
{
	(void)s, (void)table, (void)units, (void)first, (void)n;
	*bytes = 0;
	return cb_fail(e, ENOSYS, "%s", NO_LIBXDP);
}

int cb_xsk_tx_wait(struct cb_xsk_tx *s, int timeout_ms, struct cb_error *e)
{
	(void)s, (void)timeout_ms;
	return cb_fail(e, ENOSYS, "%s", NO_LIBXDP);
}

int cb_xsk_tx_loop(struct cb_xsk_tx *s, const uint32_t *table, uint32_t units,
		   const struct cb_send_slice *slice, uint64_t *units_out, uint64_t *bytes_out,
		   struct cb_error *e)
{
	(void)s, (void)table, (void)units, (void)slice;
	*units_out = 0;
	*bytes_out = 0;
	return cb_fail(e, ENOSYS, "%s", NO_LIBXDP);
}

int64_t cb_xsk_tx_reap(struct cb_xsk_tx *s)
{
	(void)s;
	return 0;
}

int cb_xsk_tx_finish(struct cb_xsk_tx *s, int timeout_ms, struct cb_error *e)
{
	(void)s, (void)timeout_ms;
	return cb_fail(e, ENOSYS, "%s", NO_LIBXDP);
}

#endif /* !CB_HAVE_LIBXDP */
