/* cb_socket_in_netns (see netns_socket.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "netns_socket.h"

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
	int domain, type, protocol;
	int fd;
	struct cb_error err;
};

static void *netns_thread(void *arg)
{
	struct netns_job *j = arg;
	/* O_NONBLOCK: a FIFO given by mistake must fail in setns(), not hang the caller. */
	int nsfd = open(j->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (nsfd < 0) {
		cb_fail(&j->err, errno, "open netns %s", j->path);
		return NULL;
	}
	/* CLONE_NEWNET moves only this thread, which ends right after the socket exists. */
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		cb_fail(&j->err, errno, "join netns %s (setns; is it a network namespace?)",
			j->path);
		close(nsfd);
		return NULL;
	}
	close(nsfd);
	j->fd = socket(j->domain, j->type | SOCK_CLOEXEC, j->protocol);
	if (j->fd < 0)
		cb_fail(&j->err, errno, "create a socket in netns %s", j->path);
	return NULL;
}

int cb_socket_in_netns(const char *netns_path, int domain, int type, int protocol,
		       struct cb_error *e)
{
	struct netns_job j;
	sigset_t all, old;
	pthread_t t;
	int fd, err;

	if (!netns_path) {
		/* CLOEXEC: the `ip` capbench forks between windows must not inherit it. */
		fd = socket(domain, type | SOCK_CLOEXEC, protocol);
		if (fd < 0)
			return cb_fail(e, errno, "create a socket");
		return fd;
	}
	memset(&j, 0, sizeof(j));
	j.path = netns_path;
	j.domain = domain;
	j.type = type;
	j.protocol = protocol;
	j.fd = -1;
	/* The thread inherits our signal mask: with everything blocked, signals (SIGINT, SIGCHLD)
	 * keep going to Node's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, NULL, netns_thread, &j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return cb_fail(e, err, "create a thread to open a socket in netns %s", netns_path);
	pthread_join(t, NULL);
	if (j.fd < 0) {
		if (e)
			*e = j.err;
		return -1;
	}
	return j.fd;
}
