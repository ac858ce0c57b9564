// What the send methods' JS classes (Sender, IoUringSender, AfXdpSender, FastnetInjector) do
// alike, written once: the Sender interface of src/senders/sender-session.ts (data, send,
// sendBatch, wait, runNative, finish, shutdown, stats, close), its arguments' checks, the error every method of a closed
// handle throws, the stats object, the options every mechanism reads alike, and `data`: the
// handle's area as an external ArrayBuffer, detached by close() and the finalizer before the area
// is unmapped, so that no JS view outlives it.
#ifndef CAPBENCH_SENDER_BINDING_H
#define CAPBENCH_SENDER_BINDING_H

#include <napi.h>
#include <net/if.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

#include "capture_binding.h"
#include "external_area.h"
#include "js_error.h"
#include "napi_args.h"
#include "send_loop.h"
#include "sender.h"

/*
 * A mechanism's C calls behind the JS methods, on its own handle type: a constant table, like the
 * C loop's cb_send_step, so that every call is resolved at compile time.
 */
template <typename Core> struct SenderCalls {
	/* send */
	ssize_t (*send_one)(Core *c, uint32_t off, uint32_t len, cb_error *e);
	/* sendBatch */
	int (*send_batch)(Core *c, const uint32_t *table, uint32_t n, cb_error *e);
	/* wait */
	int (*wait)(Core *c, int timeout_ms, cb_error *e);
	/* runNative: cb_send_loop with the mechanism's step */
	int (*loop)(Core *c, const uint32_t *table, uint32_t units, const cb_send_slice *slice,
		    uint64_t *units_out, uint64_t *bytes_out, cb_error *e);
	/* finish */
	int (*finish)(Core *c, int timeout_ms, cb_error *e);
	/* shutdown */
	int (*shutdown)(Core *c, cb_error *e);
	/* stats: what the mechanism does not count stays 0 */
	int (*stats)(Core *c, cb_send_stats *out, cb_error *e);
	/* close, and the destructor: idempotent */
	void (*close)(Core *c);
};

/* SenderCalls' shutdown where there is no stream to end (datagrams, frames). */
template <typename Core> int NothingToEnd(Core *, cb_error *)
{
	return 0;
}

/* Where a handle keeps what the JS class reads of it. */
struct SenderFields {
	bool open;
	const char *ifname;
	uint32_t batch;	 /* the most units one sendBatch takes */
	uint8_t **area;	 /* what `data` shows; set to NULL, close() leaves it mapped */
	size_t area_len; /* its bytes */
};

/*
 * The base of a send method's JS class. T derives from SenderBinding<T, Core>, inherits its
 * constructor, and provides, public:
 *   static constexpr const char *kClassName;          // the JS class name, also in its errors
 *   static constexpr SenderCalls<Core> kCalls;         // its C calls
 *   static SenderFields Fields(Core &c);
 *   static int Open(const Napi::Object &opts, Core &c, cb_error *e);
 *       // reads the options (with the helpers below; a bad one throws) and opens c: the C
 *       // open's 0, or -1 with e filled and nothing left open
 * It may also provide DescribeClosed(c, e, method) for a closed-handle message of its own. The
 * handle lives here, not in T, so that the destructor can close it.
 */
template <typename T, typename Core> class SenderBinding : public Napi::ObjectWrap<T> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		using B = SenderBinding;
		return B::DefineClass(env, T::kClassName,
				      { B::InstanceAccessor("data", &B::Data, nullptr),
					B::InstanceMethod("send", &B::Send),
					B::InstanceMethod("sendBatch", &B::SendBatch),
					B::InstanceMethod("wait", &B::Wait),
					B::InstanceMethod("runNative", &B::RunNative),
					B::InstanceMethod("finish", &B::Finish),
					B::InstanceMethod("shutdown", &B::Shutdown),
					B::InstanceMethod("stats", &B::Stats),
					B::InstanceMethod("close", &B::Close) });
	}

	explicit SenderBinding(const Napi::CallbackInfo &info) : Napi::ObjectWrap<T>(info)
	{
		Napi::Env env = info.Env();
		if (!info[0].IsObject())
			throw Napi::TypeError::New(env, std::string(T::kClassName) +
								": options must be an object");
		cb_error e{};
		if (T::Open(info[0].As<Napi::Object>(), c_, &e) < 0)
			throw CbJsError(env, e);
		SenderFields f = T::Fields(c_);
		try {
			area_.Share(env, *f.area, f.area_len);
		} catch (...) {
			T::kCalls.close(&c_);
			throw;
		}
	}

	// Runs when JS drops the object without close(): detaches, so no view outlives the area.
	void Finalize(Napi::Env env) override { area_.DetachQuietly(env); }

	~SenderBinding() override
	{
		// An area still viewed from JS is left mapped rather than freed under the view; the
		// rest of the handle goes either way.
		if (!area_.Detached())
			*T::Fields(c_).area = nullptr;
		T::kCalls.close(&c_);
	}

protected:
	static void DescribeClosed(Core &c, cb_error *e, const char *method)
	{
		cb_fail(e, EBADF, "%s on the %s on %s: already closed", method, T::kClassName,
			T::Fields(c).ifname);
	}

	/* Options: their errors name the class and the option ("Sender: options.kind ..."). */
	static std::string OptionName(const char *name)
	{
		return std::string(T::kClassName) + ": options." + name;
	}

	static Napi::RangeError OptionRange(const Napi::Object &o, const char *name,
					    const std::string &why)
	{
		return Napi::RangeError::New(o.Env(), OptionName(name) + " " + why);
	}

	static std::string StringOption(const Napi::Object &o, const char *name)
	{
		Napi::Value v = o.Get(name);
		if (!v.IsString())
			throw Napi::TypeError::New(o.Env(), OptionName(name) + " must be a string");
		return v.As<Napi::String>().Utf8Value();
	}

	static bool BoolOption(const Napi::Object &o, const char *name)
	{
		Napi::Value v = o.Get(name);
		if (!v.IsBoolean())
			throw Napi::TypeError::New(o.Env(),
						   OptionName(name) + " must be a boolean");
		return v.As<Napi::Boolean>().Value();
	}

	static double IntOption(const Napi::Object &o, const char *name, double lo, double hi)
	{
		return IntArg(o.Get(name), OptionName(name).c_str(), lo, hi);
	}

	/* A number the mechanism has no use for: checked when given, so a wrong one still says so. */
	static void UnusedIntOption(const Napi::Object &o, const char *name)
	{
		if (!o.Get(name).IsUndefined())
			IntOption(o, name, 0, UINT32_MAX);
	}

	/* netnsPath: the namespace's path, kept in `path`, or NULL (null, absent) for the caller's. */
	static const char *NetnsOption(const Napi::Object &o, std::string &path)
	{
		Napi::Value v = o.Get("netnsPath");
		if (v.IsString()) {
			path = v.As<Napi::String>().Utf8Value();
			return path.c_str();
		}
		if (!v.IsNull() && !v.IsUndefined())
			throw Napi::TypeError::New(o.Env(), OptionName("netnsPath") +
								    " must be a string or null");
		return nullptr;
	}

	static std::string IfnameOption(const Napi::Object &o)
	{
		std::string ifname = StringOption(o, "ifname");
		if (ifname.empty() || ifname.size() >= IFNAMSIZ)
			throw OptionRange(o, "ifname",
					  "must be 1 to " + std::to_string(IFNAMSIZ - 1) +
						  " characters");
		return ifname;
	}

	/* A typed array of one type (A: Napi::Uint8Array, type napi_uint8_array, "Uint8Array"). */
	template <typename A>
	static A ArrayOption(const Napi::Object &o, const char *name, napi_typedarray_type type,
			     const char *type_name)
	{
		Napi::Value v = o.Get(name);
		if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
			throw Napi::TypeError::New(o.Env(),
						   OptionName(name) + " must be a " + type_name);
		return v.As<A>();
	}

	/* data: the units' bytes, which the handle copies into its area at open. */
	static void DataOption(const Napi::Object &o, const uint8_t **data, size_t *len)
	{
		Napi::Uint8Array a =
			ArrayOption<Napi::Uint8Array>(o, "data", napi_uint8_array, "Uint8Array");
		if (a.ElementLength() == 0 || a.ElementLength() > UINT32_MAX)
			throw OptionRange(o, "data", "must be 1 to 4294967295 bytes");
		*data = a.Data();
		*len = a.ElementLength();
	}

private:
	/* Throws EBADF ("<method> on the <class> on <ifname>: already closed") once closed. */
	void RequireOpen(Napi::Env env, const char *method)
	{
		if (T::Fields(c_).open)
			return;
		cb_error e{};
		T::DescribeClosed(c_, &e, method);
		throw CbJsError(env, e);
	}

	Napi::Value Data(const Napi::CallbackInfo &) { return area_.Value(); }

	// send(offset, length): bytes taken (tcp may take part), 0 when there was no room.
	Napi::Value Send(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "send");
		uint32_t off = (uint32_t)IntArg(info[0], "send: offset", 0, UINT32_MAX);
		uint32_t len = (uint32_t)IntArg(info[1], "send: length", 0, UINT32_MAX);
		cb_error e{};
		ssize_t n = T::kCalls.send_one(&c_, off, len, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), (double)n);
	}

	// sendBatch(table, n): units taken (a ring's: handed over), the first of the n.
	Napi::Value SendBatch(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "sendBatch");
		uint32_t n = (uint32_t)IntArg(info[1], "sendBatch: n", 1, T::Fields(c_).batch);
		ArrayArg<uint32_t> table = TableArg(info, 0, "sendBatch: table", 2 * (size_t)n);
		cb_error e{};
		int got = T::kCalls.send_batch(&c_, table.Data(), n, &e);
		if (got < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), got);
	}

	void Wait(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "wait");
		int timeout = MsArg(info, 0, "wait: timeoutMs");
		cb_error e{};
		if (T::kCalls.wait(&c_, timeout, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	// runNative(table, units, maxUnits, sliceMs): { units, bytes } taken in this call.
	Napi::Value RunNative(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "runNative");
		uint32_t units = (uint32_t)IntArg(info[1], "runNative: units", 1, UINT32_MAX / 2);
		ArrayArg<uint32_t> table = TableArg(info, 0, "runNative: table", 2 * (size_t)units);
		cb_send_slice slice = { (uint64_t)IntArg(info[2], "runNative: maxUnits", 0,
							 kMaxSafeInteger),
					(uint32_t)MsArg(info, 3, "runNative: sliceMs") };
		uint64_t got = 0, bytes = 0;
		cb_error e{};
		if (T::kCalls.loop(&c_, table.Data(), units, &slice, &got, &bytes, &e) < 0)
			throw CbJsError(info.Env(), e);
		Napi::Object out = Napi::Object::New(info.Env());
		out.Set("units", Napi::Number::New(info.Env(), (double)got));
		out.Set("bytes", Napi::Number::New(info.Env(), (double)bytes));
		return out;
	}

	void Finish(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "finish");
		int timeout = MsArg(info, 0, "finish: timeoutMs");
		cb_error e{};
		if (T::kCalls.finish(&c_, timeout, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	// Checked like the others where there is nothing to end, so a closed handle still says so.
	void Shutdown(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "shutdown");
		cb_error e{};
		if (T::kCalls.shutdown(&c_, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "stats");
		cb_send_stats st{};
		cb_error e{};
		if (T::kCalls.stats(&c_, &st, &e) < 0)
			throw CbJsError(info.Env(), e);
		StatsFields f;
		f.Add("calls", (double)st.calls);
		f.Add("waits", (double)st.waits);
		f.Add("retries", (double)st.retries);
		f.Add("taken", (double)st.taken);
		f.Add("bytes", (double)st.bytes);
		f.Add("zcSends", (double)st.zc_sends);
		f.Add("zcCompletions", (double)st.zc_completions);
		f.Add("zcCopied", (double)st.zc_copied);
		f.Add("zcReaps", (double)st.zc_reaps);
		f.Add("zcReapNs", (double)st.zc_reap_ns);
		f.Add("segsOut", (double)st.segs_out);
		return f.ToObject(info.Env());
	}

	void Close(const Napi::CallbackInfo &)
	{
		area_.Detach(); // throws if it cannot: then nothing is unmapped
		T::kCalls.close(&c_);
	}

	Core c_{};
	ExternalArea area_;
};

#endif
