// What the capture handles' JS classes (PacketSocket, PcapHandle, PacketMmapRing, AfXdpSocket,
// FastnetHandle) do alike, written once: the options object and its ifname, the error every
// method of a closed handle throws, consumeNative's call and { received, ipv4 } result, stats'
// call and object of numbers, and the { available, reason, version } a probe returns.
#ifndef CAPBENCH_CAPTURE_BINDING_H
#define CAPBENCH_CAPTURE_BINDING_H

#include <napi.h>

#include <cerrno>
#include <cstddef>
#include <string>

#include "counter.h"
#include "js_error.h"
#include "napi_args.h"
#include "native_error.h"

/* What a probe function returns to JS. */
inline Napi::Object ProbeResult(Napi::Env env, bool available, const std::string &reason,
				const std::string &version)
{
	Napi::Object out = Napi::Object::New(env);
	out.Set("available", Napi::Boolean::New(env, available));
	out.Set("reason", Napi::String::New(env, reason));
	out.Set("version", Napi::String::New(env, version));
	return out;
}

/* A stats() result: numbers, in the order JS sees them. */
class StatsFields {
public:
	void Add(const char *name, double value)
	{
		names_[count_] = name;
		values_[count_] = value;
		count_++;
	}

	Napi::Object ToObject(Napi::Env env) const
	{
		Napi::Object out = Napi::Object::New(env);
		for (size_t i = 0; i < count_; i++)
			out.Set(names_[i], Napi::Number::New(env, values_[i]));
		return out;
	}

private:
	static constexpr size_t kMax = 12;
	const char *names_[kMax];
	double values_[kMax];
	size_t count_ = 0;
};

/*
 * The base of a capture handle's JS class. T derives from CaptureBinding<T>, befriends it, and
 * provides:
 *   static constexpr const char *kClassName;  // the JS class name, also in its errors
 *   bool IsOpen() const;
 *   const char *Ifname() const;
 *   int Consume(const Napi::CallbackInfo &info, cb_count *count, cb_error *e);
 *       // reads consumeNative's arguments and runs the C core's native loop; -1 with e filled
 *   int ReadStats(StatsFields &out, cb_error *e);  // -1 with e filled
 * It may also provide DescribeClosed(e, method) for a closed-handle message naming more than the
 * interface. Everything is resolved at compile time: the js tier's per-batch calls pay nothing.
 */
template <typename T> class CaptureBinding : public Napi::ObjectWrap<T> {
public:
	explicit CaptureBinding(const Napi::CallbackInfo &info) : Napi::ObjectWrap<T>(info) {}

protected:
	/* The constructor's first argument: the options object. */
	static Napi::Object OptionsArg(const Napi::CallbackInfo &info)
	{
		if (!info[0].IsObject())
			throw Napi::TypeError::New(info.Env(),
						   std::string(T::kClassName) +
							   ": options must be an object");
		return info[0].As<Napi::Object>();
	}

	static std::string IfnameOption(const Napi::Object &opts)
	{
		Napi::Value ifname = opts.Get("ifname");
		if (!ifname.IsString())
			throw Napi::TypeError::New(opts.Env(),
						   std::string(T::kClassName) +
							   ": options.ifname must be a string");
		return ifname.As<Napi::String>().Utf8Value();
	}

	/* Throws EBADF ("<method> on <class> for <ifname>: already closed") once closed. */
	void RequireOpen(Napi::Env env, const char *method)
	{
		if (Self().IsOpen())
			return;
		cb_error e{};
		Self().DescribeClosed(&e, method);
		throw CbJsError(env, e);
	}

	void DescribeClosed(cb_error *e, const char *method)
	{
		cb_fail(e, EBADF, "%s on %s for %s: already closed", method, T::kClassName,
			Self().Ifname());
	}

	Napi::Value ConsumeNative(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "consumeNative");
		cb_count count{};
		cb_error e{};
		if (Self().Consume(info, &count, &e) < 0)
			throw CbJsError(info.Env(), e);
		return CountObject(info.Env(), count);
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "stats");
		StatsFields fields;
		cb_error e{};
		if (Self().ReadStats(fields, &e) < 0)
			throw CbJsError(info.Env(), e);
		return fields.ToObject(info.Env());
	}

private:
	T &Self() { return static_cast<T &>(*this); }
};

#endif
