// Turns a cb_error into a thrown JS Error carrying `errno`, `code` and `syscall`-style context.
#ifndef CAPBENCH_JS_ERROR_H
#define CAPBENCH_JS_ERROR_H

#include <napi.h>
#include <string.h>
#include <string>

#include "native_error.h"

inline Napi::Error CbJsError(Napi::Env env, const cb_error &e)
{
	std::string msg = e.context;
	if (e.err != 0) {
		msg += ": ";
		msg += strerror(e.err);
	}
	Napi::Error error = Napi::Error::New(env, msg);
	error.Set("errno", Napi::Number::New(env, e.err));
	error.Set("context", Napi::String::New(env, e.context));
	return error;
}

#endif
