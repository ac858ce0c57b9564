/* cb_in_netns, cb_socket_in_netns (see in_netns.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "in_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct netns_job {
	const char *path;
	int (*fn)(void *arg, struct cb_error *e);
	void *arg;
	int rc;
	struct cb_error err;
};

static void *netns_thread(void *arg)
{
	struct netns_job *j = arg;
	/* O_NONBLOCK: a FIFO given by mistake must fail in setns(), not hang the caller. */
	int nsfd = open(j->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	j->rc = -1;
	if (nsfd < 0) {
		cb_fail(&j->err, errno, "open netns %s", j->path);
		return NULL;
	}
	/* CLONE_NEWNET moves only this thread, which ends right after the work is done. */
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		cb_fail(&j->err, errno, "join netns %s (setns; is it a network namespace?)",
			j->path);
		close(nsfd);
		return NULL;
	}
	close(nsfd);
	j->rc = j->fn(j->arg, &j->err);
	return NULL;
}

int cb_in_netns(const char *netns_path, int (*fn)(void *arg, struct cb_error *e), void *arg,
		const char *what, struct cb_error *e)
{
	struct netns_job j;
	sigset_t all, old;
	pthread_t t;
	int err;

	if (!netns_path)
		return fn(arg, e);
	memset(&j, 0, sizeof(j));
	j.path = netns_path;
	j.fn = fn;
	j.arg = arg;
	/* The thread inherits our signal mask: with everything blocked, signals (SIGINT, SIGCHLD)
	 * keep going to Node's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, NULL, netns_thread, &j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return cb_fail(e, err, "create a thread to %s in netns %s", what, netns_path);
	pthread_join(t, NULL);
	if (j.rc < 0 && e)
		*e = j.err;
	return j.rc;
}

struct socket_job {
	const char *path;
	int domain, type, protocol;
	int fd;
};

static int open_socket(void *arg, struct cb_error *e)
{
	struct socket_job *j = arg;

	/* CLOEXEC: the `ip` capbench forks between windows must not inherit it. */
	j->fd = socket(j->domain, j->type | SOCK_CLOEXEC, j->protocol);
	if (j->fd < 0)
		return j->path ? cb_fail(e, errno, "create a socket in netns %s", j->path)
			       : cb_fail(e, errno, "create a socket");
	return 0;
}

int cb_socket_in_netns(const char *netns_path, int domain, int type, int protocol,
		       struct cb_error *e)
{
	struct socket_job j = { netns_path, domain, type, protocol, -1 };

	if (cb_in_netns(netns_path, open_socket, &j, "open a socket", e) < 0)
		return -1;
	return j.fd;
}
