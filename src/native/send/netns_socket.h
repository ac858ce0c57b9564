/*
 * A socket created inside another network namespace without moving the caller there: a socket
 * keeps the namespace it was created in for its whole life (its binds, routes, interface names
 * and SO_BINDTODEVICE all resolve there), so only the thread that calls socket() has to join it.
 */
#ifndef CAPBENCH_NETNS_SOCKET_H
#define CAPBENCH_NETNS_SOCKET_H

#include "native_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * socket(domain, type | SOCK_CLOEXEC, protocol) in the network namespace at netns_path (a file
 * such as /run/netns/NAME or /proc/PID/ns/net), or in the caller's own when netns_path is NULL.
 * Runs socket() in a short-lived thread that setns()es first; the calling thread never changes
 * namespace. The descriptor, or -1 with e filled.
 */
int cb_socket_in_netns(const char *netns_path, int domain, int type, int protocol,
		       struct cb_error *e);

#ifdef __cplusplus
}
#endif

#endif
