/*
 * The ring (see uring_ring.h): io_uring_setup, its queues mapped, io_uring_enter, and the
 * probes that say whether io_uring and one of its opcodes can be used here.
 */
#include "uring_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef CB_RING_SUPPORTED

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

int cb_ring_register(int fd, unsigned op, void *arg, unsigned nr)
{
	return (int)syscall(__NR_io_uring_register, fd, op, arg, nr);
}

static const char *setup_hint(int err)
{
	if (err == EPERM)
		return " (io_uring is disabled: sysctl kernel.io_uring_disabled)";
	if (err == ENOSYS)
		return " (this kernel was built without io_uring)";
	return "";
}

int cb_ring_probe(struct cb_error *e)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = sys_setup(1, &p);
	if (fd < 0)
		return cb_fail(e, errno, "io_uring_setup%s", setup_hint(errno));
	close(fd);
	return 0;
}

int cb_ring_probe_op(unsigned op, const char *name, struct cb_error *e)
{
	/* The kernel fills at most the ops the array has room for: all 256 an opcode byte names. */
	size_t len = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
	struct io_uring_probe *probe;
	struct io_uring_params p;
	int fd, rc, err;

	memset(&p, 0, sizeof(p));
	fd = sys_setup(1, &p);
	if (fd < 0)
		return cb_fail(e, errno, "io_uring_setup%s", setup_hint(errno));
	probe = calloc(1, len);
	if (!probe) {
		close(fd);
		return cb_fail(e, ENOMEM, "allocate an io_uring opcode probe");
	}
	rc = cb_ring_register(fd, IORING_REGISTER_PROBE, probe, 256);
	err = errno;
	close(fd);
	if (rc < 0) {
		free(probe);
		return cb_fail(e, err, "io_uring_register(IORING_REGISTER_PROBE) (Linux 5.6)");
	}
	rc = op <= probe->last_op && (probe->ops[op].flags & IO_URING_OP_SUPPORTED);
	free(probe);
	if (!rc)
		return cb_fail(e, EOPNOTSUPP, "this kernel's io_uring has no %s", name);
	return 0;
}

static void *map_queues(int fd, size_t len, off_t offset)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);

	return p == MAP_FAILED ? NULL : p;
}

static int map_ring(struct cb_ring *r, const struct io_uring_params *p, const char *what,
		    struct cb_error *e)
{
	size_t sq_len = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
	size_t cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);

	if (!(p->features & IORING_FEAT_SINGLE_MMAP))
		return cb_fail(e, ENOSYS,
			       "io_uring for %s: the kernel maps its queues apart "
			       "(IORING_FEAT_SINGLE_MMAP, Linux 5.4)",
			       what);
	r->rings_len = sq_len > cq_len ? sq_len : cq_len;
	r->rings = map_queues(r->fd, r->rings_len, IORING_OFF_SQ_RING);
	if (!r->rings)
		return cb_fail(e, errno, "mmap io_uring queues for %s", what);
	r->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = map_queues(r->fd, r->sqes_len, IORING_OFF_SQES);
	if (!r->sqes)
		return cb_fail(e, errno, "mmap io_uring submission entries for %s", what);
	r->sq_entries = p->sq_entries;
	r->sq_tail = (uint32_t *)(r->rings + p->sq_off.tail);
	r->sq_mask = *(uint32_t *)(r->rings + p->sq_off.ring_mask);
	r->sq_array = (uint32_t *)(r->rings + p->sq_off.array);
	r->cq_head = (uint32_t *)(r->rings + p->cq_off.head);
	r->cq_tail = (uint32_t *)(r->rings + p->cq_off.tail);
	r->cq_mask = *(uint32_t *)(r->rings + p->cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(r->rings + p->cq_off.cqes);
	return 0;
}

int cb_ring_open(struct cb_ring *r, unsigned sq_entries, unsigned cq_entries, const char *what,
		 struct cb_error *e)
{
	struct io_uring_params p;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	/* DEFER_TASKRUN (see uring_ring.h) asks for SINGLE_ISSUER. */
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = cq_entries;
	r->fd = sys_setup(sq_entries, &p);
	if (r->fd < 0 && errno == EINVAL)
		return cb_fail(e, errno, "io_uring_setup for %s (DEFER_TASKRUN: Linux 6.1)", what);
	if (r->fd < 0)
		return cb_fail(e, errno, "io_uring_setup for %s%s", what, setup_hint(errno));
	if (map_ring(r, &p, what, e) < 0) {
		cb_ring_close(r);
		return -1;
	}
	return 0;
}

void cb_ring_close(struct cb_ring *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->sqes)
		munmap(r->sqes, r->sqes_len);
	if (r->rings)
		munmap(r->rings, r->rings_len);
	r->sqes = NULL;
	r->rings = NULL;
}

int cb_ring_submit(int fd, unsigned n)
{
	return (int)syscall(__NR_io_uring_enter, fd, n, 0, 0, NULL, 0);
}

int cb_ring_enter(int fd, unsigned to_submit, unsigned min_complete, int timeout_ms)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_ms / 1000,
					.tv_nsec = (long long)(timeout_ms % 1000) * 1000000 };
	/* ts 0: no timeout. */
	struct io_uring_getevents_arg arg = { .ts = timeout_ms < 0 ? 0 : (uint64_t)(uintptr_t)&ts };

	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			    IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
}

#else /* no DEFER_TASKRUN in this system's linux/io_uring.h */

#define NO_HEADERS "capbench was built without io_uring's DEFER_TASKRUN (linux-libc-dev >= 6.1)"

int cb_ring_probe(struct cb_error *e)
{
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_ring_probe_op(unsigned op, const char *name, struct cb_error *e)
{
	(void)op, (void)name;
	return cb_fail(e, ENOSYS, NO_HEADERS);
}

int cb_ring_open(struct cb_ring *r, unsigned sq_entries, unsigned cq_entries, const char *what,
		 struct cb_error *e)
{
	(void)sq_entries, (void)cq_entries;
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	return cb_fail(e, ENOSYS, "io_uring for %s: %s", what, NO_HEADERS);
}

void cb_ring_close(struct cb_ring *r)
{
	r->fd = -1;
}

int cb_ring_register(int fd, unsigned op, void *arg, unsigned nr)
{
	(void)fd, (void)op, (void)arg, (void)nr;
	errno = ENOSYS;
	return -1;
}

int cb_ring_submit(int fd, unsigned n)
{
	(void)fd, (void)n;
	errno = ENOSYS;
	return -1;
}

int cb_ring_enter(int fd, unsigned to_submit, unsigned min_complete, int timeout_ms)
{
	(void)fd, (void)to_submit, (void)min_complete, (void)timeout_ms;
	errno = ENOSYS;
	return -1;
}

#endif
