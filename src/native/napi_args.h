// Argument checks shared by the bindings: a wrong type is a TypeError, a value out of range a
// RangeError, each naming the argument, so JS callers see what they got wrong.
#ifndef CAPBENCH_NAPI_ARGS_H
#define CAPBENCH_NAPI_ARGS_H

#include <napi.h>

#include <climits>
#include <string>

#include "counter.h"

// Largest integer a JS number holds exactly; counts beyond it would be silently rounded.
constexpr double kMaxSafeInteger = 9007199254740991.0;

inline Napi::Uint8Array BytesArg(const Napi::CallbackInfo &info, size_t i, const char *what)
{
	Napi::Value v = info[i];
	if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
		throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Uint8Array");
	return v.As<Napi::Uint8Array>();
}

inline Napi::Uint32Array TableArg(const Napi::CallbackInfo &info, size_t i, const char *what, size_t min_len)
{
	Napi::Value v = info[i];
	if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
		throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Uint32Array");
	Napi::Uint32Array table = v.As<Napi::Uint32Array>();
	if (table.ElementLength() < min_len)
		throw Napi::RangeError::New(info.Env(), std::string(what) + " needs at least " +
						       std::to_string(min_len) + " entries");
	return table;
}

inline double IntArg(const Napi::Value &v, const char *what, double lo, double hi)
{
	if (!v.IsNumber())
		throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
	double d = v.As<Napi::Number>().DoubleValue();
	if (!(d >= lo && d <= hi) || d != (double)(long long)d)
		throw Napi::RangeError::New(v.Env(), std::string(what) + " must be an integer from " +
						     std::to_string((long long)lo) + " to " +
						     std::to_string((long long)hi));
	return d;
}

/* A timeout in milliseconds, as poll() takes it. */
inline int MsArg(const Napi::CallbackInfo &info, size_t i, const char *what)
{
	return (int)IntArg(info[i], what, 0, INT_MAX);
}

/* consumeNative(maxFrames, sliceMs, idleMs) from info[first], info[first + 1], info[first + 2]. */
struct ConsumeArgs {
	uint64_t max_frames;
	uint32_t slice_ms;
	uint32_t idle_ms;
};

inline ConsumeArgs ConsumeNativeArgs(const Napi::CallbackInfo &info, size_t max_at, size_t slice_at)
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
	return out;
}

#endif
