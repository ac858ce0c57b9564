/*
 * Work done inside another network namespace without moving the caller there. A socket keeps the
 * namespace it was created in for its whole life (its binds, routes, interface names and
 * SO_BINDTODEVICE all resolve there), and so does what an ioctl bound by interface name: only the
 * thread that creates or binds has to join the namespace.
 */
#ifndef CAPBENCH_IN_NETNS_H
#define CAPBENCH_IN_NETNS_H

#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Runs fn(arg, e) in the network namespace at netns_path (a file such as /run/netns/NAME or
 * /proc/PID/ns/net), or directly in the caller's own when netns_path is NULL. A namespace is
 * joined by a short-lived thread that setns()es first, with every signal blocked, so the calling
 * thread never changes namespace and signals keep going to Node's threads. `what` names the
 * work in errors ("open a socket"). fn's result (0, or -1 with e filled), or -1 with e filled
 * when the namespace cannot be joined.
 */
int cb_in_netns(const char *netns_path, int (*fn)(void *arg, struct cb_error *e), void *arg,
		const char *what, struct cb_error *e);

/*
 * socket(domain, type | SOCK_CLOEXEC, protocol) in the network namespace at netns_path, or in the
 * caller's own when netns_path is NULL. The descriptor, or -1 with e filled.
 */
int cb_socket_in_netns(const char *netns_path, int domain, int type, int protocol,
		       struct cb_error *e);

#ifdef __cplusplus
}
#endif

#endif
