#include "pcap_native.h"
#include "slice_loop.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* ---- the part of libpcap's ABI used here (stable since libpcap 1.5) --------------------- */

typedef struct pcap pcap_t;

struct pcap_pkthdr {
	struct timeval ts;
	uint32_t caplen;
	uint32_t len;
};

struct pcap_stat {
	unsigned int ps_recv;
	unsigned int ps_drop;
	unsigned int ps_ifdrop;
	unsigned int spare[8]; /* Windows builds append fields; never let one write past us */
};

typedef void (*pcap_handler)(unsigned char *user, const struct pcap_pkthdr *h,
			     const unsigned char *bytes);

#define PCAP_ERRBUF_SIZE 256
#define PCAP_D_IN 1
#define PCAP_ERROR_BREAK (-2)
#define PCAP_ERROR_NO_SUCH_DEVICE (-5)
#define PCAP_ERROR_PERM_DENIED (-8)
#define PCAP_ERROR_IFACE_NOT_UP (-9)
#define PCAP_ERROR_PROMISC_PERM_DENIED (-11)

struct pcap_api {
	pcap_t *(*create)(const char *, char *);
	int (*set_snaplen)(pcap_t *, int);
	int (*set_promisc)(pcap_t *, int);
	int (*set_timeout)(pcap_t *, int);
	int (*set_immediate_mode)(pcap_t *, int);
	int (*set_buffer_size)(pcap_t *, int);
	int (*activate)(pcap_t *);
	int (*setdirection)(pcap_t *, int);
	int (*setnonblock)(pcap_t *, int, char *);
	int (*get_selectable_fd)(pcap_t *);
	int (*dispatch)(pcap_t *, int, pcap_handler, unsigned char *);
	int (*stats)(pcap_t *, struct pcap_stat *);
	char *(*geterr)(pcap_t *);
	const char *(*statustostr)(int);
	void (*close)(pcap_t *);
	const char *(*lib_version)(void);
};

static struct pcap_api api;
static struct cb_error load_error;
static int load_failed;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* ---- loading ------------------------------------------------------------------------- */

/* The runtime package ships .so.0.8 (Debian) or .so.1; bare .so only comes with -dev. */
static const char *const lib_names[] = { "libpcap.so.0.8", "libpcap.so.1", "libpcap.so" };

static void *open_library(const char **name)
{
	for (size_t i = 0; i < sizeof(lib_names) / sizeof(lib_names[0]); i++) {
		void *lib = dlopen(lib_names[i], RTLD_NOW | RTLD_LOCAL);

		if (lib) {
			*name = lib_names[i];
			return lib;
		}
	}
	return NULL;
}

#define BIND(field, symbol)                                                                    \
	do {                                                                                   \
		*(void **)(&api.field) = dlsym(lib, symbol);                                   \
		if (!api.field) {                                                              \
			cb_fail(&load_error, 0, "%s lacks %s (libpcap older than 1.5?)", name, \
				symbol);                                                       \
			return -1;                                                             \
		}                                                                              \
	} while (0)

static int bind_symbols(void *lib, const char *name)
{
	BIND(create, "pcap_create");
	BIND(set_snaplen, "pcap_set_snaplen");
	BIND(set_promisc, "pcap_set_promisc");
	BIND(set_timeout, "pcap_set_timeout");
	BIND(set_immediate_mode, "pcap_set_immediate_mode");
	BIND(set_buffer_size, "pcap_set_buffer_size");
	BIND(activate, "pcap_activate");
	BIND(setdirection, "pcap_setdirection");
	BIND(setnonblock, "pcap_setnonblock");
	BIND(get_selectable_fd, "pcap_get_selectable_fd");
	BIND(dispatch, "pcap_dispatch");
	BIND(stats, "pcap_stats");
	BIND(geterr, "pcap_geterr");
	BIND(statustostr, "pcap_statustostr");
	BIND(close, "pcap_close");
	BIND(lib_version, "pcap_lib_version");
	return 0;
}

#undef BIND

static void load(void)
{
	const char *name = NULL;
	void *lib = open_library(&name);

	if (!lib) {
		const char *why = dlerror();

		cb_fail(&load_error, 0, "dlopen libpcap.so.0.8, libpcap.so.1, libpcap.so: %s",
			why ? why : "not found");
		load_failed = 1;
		return;
	}
	if (bind_symbols(lib, name) < 0) {
		/* Kept loaded: unloading a library is rarely safe and gains nothing here. */
		memset(&api, 0, sizeof(api));
		load_failed = 1;
	}
}

int cb_pcap_load(struct cb_error *e)
{
	pthread_once(&load_once, load);
	if (!load_failed)
		return 0;
	if (e)
		*e = load_error;
	return -1;
}

const char *cb_pcap_version(void)
{
	if (cb_pcap_load(NULL) < 0)
		return "";
	return api.lib_version();
}

/* ---- open / close -------------------------------------------------------------------- */

static int errno_for_status(int status)
{
	switch (status) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return ENODEV;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return EPERM;
	case PCAP_ERROR_IFACE_NOT_UP:
		return ENETDOWN;
	default:
		return 0;
	}
}

/*
 * libpcap's detail text often just repeats the status text, and a mapped errno adds strerror()
 * itself, so only what is new is kept.
 */
static int fail_status(struct cb_pcap *h, int status, const char *what, struct cb_error *e)
{
	int err = errno_for_status(status);
	const char *status_text = api.statustostr(status);
	const char *detail = api.geterr(h->pcap);
	int has_detail = detail && detail[0] && strcmp(detail, status_text) != 0;

	if (err != 0 && has_detail)
		return cb_fail(e, err, "%s on %s: %s", what, h->ifname, detail);
	if (err != 0)
		return cb_fail(e, err, "%s on %s", what, h->ifname);
	if (has_detail)
		return cb_fail(e, 0, "%s on %s: %s (%s)", what, h->ifname, status_text, detail);
	return cb_fail(e, 0, "%s on %s: %s", what, h->ifname, status_text);
}

static int apply_options(struct cb_pcap *h, const struct cb_pcap_options *o, struct cb_error *e)
{
	int rc;

	if ((rc = api.set_snaplen(h->pcap, o->snaplen)) != 0)
		return fail_status(h, rc, "pcap_set_snaplen", e);
	if ((rc = api.set_promisc(h->pcap, 1)) != 0)
		return fail_status(h, rc, "pcap_set_promisc", e);
	if ((rc = api.set_timeout(h->pcap, o->timeout_ms)) != 0)
		return fail_status(h, rc, "pcap_set_timeout", e);
	if ((rc = api.set_immediate_mode(h->pcap, o->immediate ? 1 : 0)) != 0)
		return fail_status(h, rc, "pcap_set_immediate_mode", e);
	if (o->buffer_bytes > 0 && (rc = api.set_buffer_size(h->pcap, o->buffer_bytes)) != 0)
		return fail_status(h, rc, "pcap_set_buffer_size", e);
	return 0;
}

static int activate(struct cb_pcap *h, struct cb_error *e)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	/* Positive statuses are warnings (e.g. promiscuous mode unsupported): capture works. */
	int rc = api.activate(h->pcap);

	if (rc < 0)
		return fail_status(h, rc, "pcap_activate", e);
	if (api.setdirection(h->pcap, PCAP_D_IN) != 0)
		return cb_fail(e, 0, "pcap_setdirection(PCAP_D_IN) on %s: %s", h->ifname,
			       api.geterr(h->pcap));
	if (api.setnonblock(h->pcap, 1, errbuf) != 0)
		return cb_fail(e, 0, "pcap_setnonblock on %s: %s", h->ifname, errbuf);
	h->fd = api.get_selectable_fd(h->pcap);
	if (h->fd < 0)
		return cb_fail(e, 0, "pcap_get_selectable_fd on %s: no selectable descriptor",
			       h->ifname);
	return 0;
}

int cb_pcap_open(struct cb_pcap *h, const struct cb_pcap_options *o, struct cb_error *e)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	if (cb_pcap_load(e) < 0)
		return -1;
	if (strlen(o->ifname) >= sizeof(h->ifname))
		return cb_fail(e, ENODEV, "pcap_create %s: name longer than %zu bytes", o->ifname,
			       sizeof(h->ifname) - 1);
	memcpy(h->ifname, o->ifname, strlen(o->ifname) + 1);
	h->pcap = api.create(o->ifname, errbuf);
	if (!h->pcap)
		return cb_fail(e, 0, "pcap_create %s: %s", o->ifname, errbuf);
	if (apply_options(h, o, e) < 0 || activate(h, e) < 0) {
		cb_pcap_close(h);
		return -1;
	}
	return 0;
}

void cb_pcap_close(struct cb_pcap *h)
{
	if (h->pcap)
		api.close(h->pcap);
	h->pcap = NULL;
	h->fd = -1;
}

/* ---- receiving ----------------------------------------------------------------------- */

/* What the one wait (cb_wait_readable) names in its errors. */
#define KIND "libpcap descriptor"

/* pcap_dispatch(); breakloop counts as "nothing more now", errors carry pcap_geterr(). */
static int dispatch(struct cb_pcap *h, int cnt, pcap_handler cb, void *user, struct cb_error *e)
{
	int n = api.dispatch(h->pcap, cnt, cb, (unsigned char *)user);

	h->calls.syscalls++;
	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (n < 0)
		return cb_fail(e, 0, "pcap_dispatch on %s: %s", h->ifname, api.geterr(h->pcap));
	return n;
}

struct copy_ctx {
	uint8_t *buf;
	uint32_t slot;
	uint32_t *table;
	uint32_t n;
	uint32_t max;
};

/* The frame lives in libpcap's ring only for this callback, so it is copied out. */
static void copy_frame(unsigned char *user, const struct pcap_pkthdr *hdr,
		       const unsigned char *bytes)
{
	struct copy_ctx *c = (struct copy_ctx *)user;
	uint32_t len = hdr->caplen < c->slot ? hdr->caplen : c->slot;

	if (c->n >= c->max)
		return;
	memcpy(c->buf + (size_t)c->n * c->slot, bytes, len);
	c->table[2 * c->n] = c->n * c->slot;
	c->table[2 * c->n + 1] = len;
	c->n++;
}

int cb_pcap_dispatch_copy(struct cb_pcap *h, uint8_t *buf, size_t buflen, uint32_t max_frames,
			  uint32_t *table, int timeout_ms, struct cb_error *e)
{
	/* Offsets in a table are 32-bit, so only the first 4 GiB of a buffer is usable. */
	uint32_t usable = buflen > UINT32_MAX ? UINT32_MAX : (uint32_t)buflen;
	struct copy_ctx c = { .buf = buf, .table = table, .max = max_frames };

	if (max_frames < 1 || max_frames > CB_PCAP_MAX_DISPATCH)
		return cb_fail(e, EINVAL, "dispatch on %s: maxFrames %u outside 1..%u", h->ifname,
			       max_frames, CB_PCAP_MAX_DISPATCH);
	c.slot = usable / max_frames;
	if (c.slot < CB_PCAP_MIN_SLOT)
		return cb_fail(e, EINVAL, "dispatch on %s: slot of %u bytes is below %u", h->ifname,
			       c.slot, CB_PCAP_MIN_SLOT);
	if (dispatch(h, (int)max_frames, copy_frame, &c, e) < 0)
		return -1;
	if (c.n > 0)
		return (int)c.n;
	int w = cb_wait_readable(h->fd, timeout_ms, KIND, h->ifname, &h->calls, e);
	if (w <= 0)
		return w;
	if (dispatch(h, (int)max_frames, copy_frame, &c, e) < 0)
		return -1;
	return (int)c.n;
}

/* ---- native tier --------------------------------------------------------------------- */

/* Bounds one pcap_dispatch() so a busy ring cannot keep the loop past its slice. */
#define CONSUME_CHUNK 4096u

static void count_frame(unsigned char *user, const struct pcap_pkthdr *hdr,
			const unsigned char *bytes)
{
	struct cb_count *c = (struct cb_count *)user;

	c->received++;
	c->ipv4 += (uint64_t)cb_do_something(bytes, hdr->caplen);
}

/* The native step: one pcap_dispatch() of up to want frames, counted in libpcap's buffer. */
static int take(void *self, uint32_t want, struct cb_count *out, struct cb_error *e)
{
	struct cb_pcap *h = self;

	return dispatch(h, (int)want, count_frame, out, e);
}

/* A take is a whole pcap_dispatch() of a block or more: a clock read after each is rare already. */
static const struct cb_step STEP = {
	.take = take,
	.kind = KIND,
	.frames_per_clock = CB_FRAMES_PER_CLOCK_SYSCALL,
};

int cb_pcap_consume(struct cb_pcap *h, const struct cb_slice *slice, struct cb_count *out,
		    struct cb_error *e)
{
	return cb_slice_loop(&STEP, h, (struct cb_waitable){ h->fd, h->ifname, &h->calls },
			     CONSUME_CHUNK, slice, out, e);
}

int cb_pcap_stats(struct cb_pcap *h, uint32_t *received, uint32_t *dropped, uint32_t *if_dropped,
		  struct cb_error *e)
{
	struct pcap_stat st;

	memset(&st, 0, sizeof(st));
	if (api.stats(h->pcap, &st) != 0)
		return cb_fail(e, 0, "pcap_stats on %s: %s", h->ifname, api.geterr(h->pcap));
	*received = st.ps_recv;
	*dropped = st.ps_drop;
	*if_dropped = st.ps_ifdrop;
	return 0;
}
