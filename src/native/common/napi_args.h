// Argument checks shared by the bindings: a wrong type is a TypeError, a value out of range a
// RangeError, each naming the argument, so JS callers see what they got wrong.
#ifndef CAPBENCH_NAPI_ARGS_H
#define CAPBENCH_NAPI_ARGS_H

#include <napi.h>

#include <climits>
#include <string>

#include "counter.h"
#include "slice_loop.h"

// Largest integer a JS number holds exactly; counts beyond it would be silently rounded.
constexpr double kMaxSafeInteger = 9007199254740991.0;

/*
 * A typed-array argument as the C cores take it. One napi_get_typedarray_info call checks the
 * type and gets the data: node-addon-api's checked conversions take four N-API calls, and these
 * run once per batch, where each call is a visible share of what a JS-tier batch costs
 * (bench/README.md, "The ring methods' goals", "Cheaper calls"). A detached array has no data and
 * length 0.
 */
template <typename T> struct ArrayArg {
	T *data;
	size_t length; /* elements */

	T *Data() const { return data; }
	size_t ElementLength() const { return length; }
	size_t ByteLength() const { return length * sizeof(T); }
};

template <typename T>
inline ArrayArg<T> TypedArrayArg(const Napi::CallbackInfo &info, size_t i,
				 napi_typedarray_type want, const char *what, const char *type_name)
{
	napi_typedarray_type type;
	size_t length = 0;
	void *data = nullptr;
	if (napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr,
				     nullptr) != napi_ok ||
	    type != want)
		throw Napi::TypeError::New(info.Env(),
					   std::string(what) + " must be a " + type_name);
	return { static_cast<T *>(data), length };
}

inline ArrayArg<uint8_t> BytesArg(const Napi::CallbackInfo &info, size_t i, const char *what)
{
	return TypedArrayArg<uint8_t>(info, i, napi_uint8_array, what, "Uint8Array");
}

inline ArrayArg<uint32_t> TableArg(const Napi::CallbackInfo &info, size_t i, const char *what,
				   size_t min_len)
{
	ArrayArg<uint32_t> table =
		TypedArrayArg<uint32_t>(info, i, napi_uint32_array, what, "Uint32Array");
	if (table.length < min_len)
		throw Napi::RangeError::New(info.Env(), std::string(what) + " needs at least " +
								std::to_string(min_len) +
								" entries");
	return table;
}

/* One N-API call: napi_get_value_double fails for anything but a number. */
inline double IntArg(const Napi::Value &v, const char *what, double lo, double hi)
{
	double d;
	if (napi_get_value_double(v.Env(), v, &d) != napi_ok)
		throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
	if (!(d >= lo && d <= hi) || d != (double)(long long)d)
		throw Napi::RangeError::New(v.Env(),
					    std::string(what) + " must be an integer from " +
						    std::to_string((long long)lo) + " to " +
						    std::to_string((long long)hi));
	return d;
}

/* A timeout in milliseconds, as poll() takes it. */
inline int MsArg(const Napi::CallbackInfo &info, size_t i, const char *what)
{
	return (int)IntArg(info[i], what, 0, INT_MAX);
}

/* consumeNative(maxFrames, ..., sliceMs, idleMs): maxFrames at info[max_at], the rest from slice_at. */
inline cb_slice ConsumeNativeArgs(const Napi::CallbackInfo &info, size_t max_at, size_t slice_at)
{
	return { (uint64_t)IntArg(info[max_at], "consumeNative: maxFrames", 0, kMaxSafeInteger),
		 (uint32_t)MsArg(info, slice_at, "consumeNative: sliceMs"),
		 (uint32_t)MsArg(info, slice_at + 1, "consumeNative: idleMs") };
}

/* What every consumeNative returns: { received, ipv4 }. */
inline Napi::Object CountObject(Napi::Env env, const cb_count &count)
{
	Napi::Object out = Napi::Object::New(env);
	out.Set("received", Napi::Number::New(env, (double)count.received));
	out.Set("ipv4", Napi::Number::New(env, (double)count.ipv4));
	out.Set("takes", Napi::Number::New(env, (double)count.takes));
	return out;
}

#endif
