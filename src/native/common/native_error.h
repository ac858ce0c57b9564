/*
 * Errors from native code: an errno and a line of context, filled in by the C cores and turned
 * into a JS exception by the bindings. Native code never prints and never exits the process.
 */
#ifndef CAPBENCH_NATIVE_ERROR_H
#define CAPBENCH_NATIVE_ERROR_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cb_error {
	int err;	   /* errno value, 0 when the failure has none */
	char context[192]; /* what was being done, e.g. "bind AF_PACKET socket to veth0" */
};

/* Records err and a formatted context; returns -1 so callers can `return cb_fail(...)`. */
static inline int cb_fail(struct cb_error *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline int cb_fail(struct cb_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->context, sizeof(e->context), fmt, ap);
	va_end(ap);
	return -1;
}

#ifdef __cplusplus
}
#endif

#endif
