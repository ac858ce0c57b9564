// Turns a cb_error into a thrown JS Error carrying `errno`, `code` and `syscall`-style context.
#ifndef CAPBENCH_JS_ERROR_H
#define CAPBENCH_JS_ERROR_H

#include <napi.h>
#include <string.h>
#include <string>

#include "native_error.h"

/* "context: strerror", the message every native failure carries. */
inline std::string CbErrorText(const cb_error &e)
{
	std::string msg = e.context;
	if (e.err != 0) {
		msg += ": ";
		msg += strerror(e.err);
	}
	return msg;
}

inline Napi::Error CbJsError(Napi::Env env, const cb_error &e)
{
	Napi::Error error = Napi::Error::New(env, CbErrorText(e));
	error.Set("errno", Napi::Number::New(env, e.err));
	error.Set("context", Napi::String::New(env, e.context));
	return error;
}

#endif
