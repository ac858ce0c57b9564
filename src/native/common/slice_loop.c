#include "slice_loop.h"

#include <errno.h>
#include <poll.h>

int cb_wait_readable(int fd, int timeout_ms, const char *kind, const char *ifname,
		     struct cb_calls *calls, struct cb_error *e)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc = poll(&p, 1, timeout_ms);

	calls->syscalls++;
	if (rc < 0 && errno == EINTR)
		return CB_WAIT_NOTHING;
	if (rc < 0)
		return cb_fail(e, errno, "poll %s on %s for %d ms", kind, ifname, timeout_ms);
	if (rc == 0)
		return CB_WAIT_NOTHING;
	if (!(p.revents & POLLIN) && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
		return CB_WAIT_HANGUP;
	calls->wakeups++;
	return CB_WAIT_READABLE;
}
