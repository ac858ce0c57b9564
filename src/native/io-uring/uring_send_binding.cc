// IoUringSender and ioUringSendProbe: the io-uring send methods' native handle, with exactly the
// Sender interface of src/senders/sender-session.ts, so the one SenderSession drives it as it
// drives the Sender class (send/sender_binding.cc). Only argument checking and conversion live
// here; everything else is in uring_send.c. `data` is the sender's area as an external
// ArrayBuffer; close() (and the finalizer) detach it before unmapping, as Sender does.
#include <climits>
#include <cstdint>
#include <string>

#include "addon.h"
#include "capture_binding.h"
#include "js_error.h"
#include "napi_args.h"
#include "uring_send.h"

namespace {

constexpr const char *kClassName = "IoUringSender";

std::string OptionName(const char *name)
{
	return std::string(kClassName) + ": options." + name;
}

Napi::Value Option(const Napi::Object &o, const char *name, bool (Napi::Value::*is)() const,
		   const char *type)
{
	Napi::Value v = o.Get(name);
	if (!(v.*is)())
		throw Napi::TypeError::New(o.Env(), OptionName(name) + " must be " + type);
	return v;
}

std::string StringOption(const Napi::Object &o, const char *name)
{
	return Option(o, name, &Napi::Value::IsString, "a string").As<Napi::String>().Utf8Value();
}

bool BoolOption(const Napi::Object &o, const char *name)
{
	return Option(o, name, &Napi::Value::IsBoolean, "a boolean").As<Napi::Boolean>().Value();
}

double IntOption(const Napi::Object &o, const char *name, double lo, double hi)
{
	return IntArg(o.Get(name), OptionName(name).c_str(), lo, hi);
}

Napi::RangeError OptionRange(const Napi::Object &o, const char *name, const std::string &why)
{
	return Napi::RangeError::New(o.Env(), OptionName(name) + " " + why);
}

class IoUringSenderWrap : public Napi::ObjectWrap<IoUringSenderWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, kClassName,
				   { InstanceAccessor("data", &IoUringSenderWrap::Data, nullptr),
				     InstanceMethod("send", &IoUringSenderWrap::Send),
				     InstanceMethod("sendBatch", &IoUringSenderWrap::SendBatch),
				     InstanceMethod("wait", &IoUringSenderWrap::Wait),
				     InstanceMethod("runNative", &IoUringSenderWrap::RunNative),
				     InstanceMethod("reap", &IoUringSenderWrap::Reap),
				     InstanceMethod("finish", &IoUringSenderWrap::Finish),
				     InstanceMethod("shutdown", &IoUringSenderWrap::Shutdown),
				     InstanceMethod("stats", &IoUringSenderWrap::Stats),
				     InstanceMethod("close", &IoUringSenderWrap::Close) });
	}

	// The options are SenderOptions: kind 'udp'; call 'send' (one entry per io_uring_enter)
	// or 'sendmmsg' (batches of `batch` entries per enter); zerocopy: IORING_OP_SEND_ZC.
	explicit IoUringSenderWrap(const Napi::CallbackInfo &info)
		: Napi::ObjectWrap<IoUringSenderWrap>(info)
	{
		u_.s.fd = -1;
		u_.ring.fd = -1;
		Napi::Env env = info.Env();
		if (!info[0].IsObject())
			throw Napi::TypeError::New(env, std::string(kClassName) +
								": options must be an object");
		Napi::Object opts = info[0].As<Napi::Object>();

		cb_sender_options o{};
		std::string kind = StringOption(opts, "kind");
		if (kind != "udp")
			throw OptionRange(opts, "kind", "must be 'udp', not '" + kind + "'");
		o.kind = CB_SEND_UDP;
		std::string call = StringOption(opts, "call");
		if (call == "send")
			o.call = CB_CALL_SEND;
		else if (call == "sendmmsg")
			o.call = CB_CALL_SENDMMSG;
		else
			throw OptionRange(opts, "call",
					  "must be 'send' or 'sendmmsg' (batches), not '" + call +
						  "'");

		std::string netns;
		Napi::Value nv = opts.Get("netnsPath");
		if (nv.IsString())
			netns = nv.As<Napi::String>().Utf8Value();
		else if (!nv.IsNull() && !nv.IsUndefined())
			throw Napi::TypeError::New(env, OptionName("netnsPath") +
								" must be a string or null");
		o.netns_path = nv.IsString() ? netns.c_str() : nullptr;

		// The rest is checked where the socket is opened (cb_sender_open), in its words.
		std::string ifname = StringOption(opts, "ifname");
		o.ifname = ifname.c_str();
		if (BoolOption(opts, "qdiscBypass"))
			throw OptionRange(opts, "qdiscBypass", "is for packet senders only");
		std::string src = StringOption(opts, "srcAddr");
		std::string dst = StringOption(opts, "dstAddr");
		o.src_addr = src.c_str();
		o.dst_addr = dst.c_str();
		o.dst_port = (uint16_t)IntOption(opts, "dstPort", 1, 65535);
		o.zerocopy = BoolOption(opts, "zerocopy");
		if (IntOption(opts, "gsoSize", 0, 65535) != 0)
			throw OptionRange(opts, "gsoSize", "must be 0: io_uring sends datagrams");
		o.sndbuf_bytes = (int)IntOption(opts, "sndbufBytes", 0, INT_MAX);
		o.batch = (uint32_t)IntOption(opts, "batch", 1, CB_SEND_MAX_BATCH);
		if (!opts.Get("maxFrameBytes").IsUndefined())
			IntOption(opts, "maxFrameBytes", 0, UINT32_MAX); // checked, not used

		Napi::Value dv = opts.Get("data");
		if (!dv.IsTypedArray() ||
		    dv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
			throw Napi::TypeError::New(env,
						   OptionName("data") + " must be a Uint8Array");
		Napi::Uint8Array bytes = dv.As<Napi::Uint8Array>();
		if (bytes.ElementLength() == 0 || bytes.ElementLength() > UINT32_MAX)
			throw OptionRange(opts, "data", "must be 1 to 4294967295 bytes");
		o.data = bytes.Data();
		o.data_len = bytes.ElementLength();

		cb_error e{};
		if (cb_uring_send_open(&u_, &o, &e) < 0)
			throw CbJsError(env, e);
		try {
			buffer_ = Napi::Persistent(
				Napi::ArrayBuffer::New(env, u_.s.area, u_.s.area_len));
		} catch (...) {
			cb_uring_send_close(&u_);
			throw;
		}
	}

	// Runs when JS drops the object without close(): detaches, so no view outlives the area.
	void Finalize(Napi::Env env) override
	{
		napi_value ab = nullptr;
		if (!detached_ && napi_get_reference_value(env, buffer_, &ab) == napi_ok && ab &&
		    napi_detach_arraybuffer(env, ab) == napi_ok)
			detached_ = true;
	}

	~IoUringSenderWrap() override
	{
		// An area still viewed from JS is left mapped rather than freed under the view; the
		// ring and the socket go either way.
		if (!detached_)
			u_.s.area = nullptr;
		cb_uring_send_close(&u_);
	}

private:
	void RequireOpen(Napi::Env env, const char *method)
	{
		if (u_.s.fd >= 0)
			return;
		cb_error e{};
		cb_fail(&e, EBADF, "%s on the IoUringSender on %s: already closed", method,
			u_.s.ifname);
		throw CbJsError(env, e);
	}

	Napi::Value Data(const Napi::CallbackInfo &) { return buffer_.Value(); }

	// send(offset, length): bytes the kernel took, 0 when it had no room.
	Napi::Value Send(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "send");
		uint32_t off = (uint32_t)IntArg(info[0], "send: offset", 0, UINT32_MAX);
		uint32_t len = (uint32_t)IntArg(info[1], "send: length", 0, UINT32_MAX);
		cb_error e{};
		ssize_t n = cb_uring_send_one(&u_, off, len, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), (double)n);
	}

	// sendBatch(table, n): units taken, the first n's first ones.
	Napi::Value SendBatch(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "sendBatch");
		uint32_t n = (uint32_t)IntArg(info[1], "sendBatch: n", 1, u_.s.batch);
		ArrayArg<uint32_t> table = TableArg(info, 0, "sendBatch: table", 2 * (size_t)n);
		cb_error e{};
		int got = cb_uring_send_batch(&u_, table.Data(), n, &e);
		if (got < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), got);
	}

	void Wait(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "wait");
		int timeout = MsArg(info, 0, "wait: timeoutMs");
		cb_error e{};
		if (cb_uring_send_wait(&u_, timeout, &e) < 0)
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
		if (cb_uring_send_loop(&u_, table.Data(), units, &slice, &got, &bytes, &e) < 0)
			throw CbJsError(info.Env(), e);
		Napi::Object out = Napi::Object::New(info.Env());
		out.Set("units", Napi::Number::New(info.Env(), (double)got));
		out.Set("bytes", Napi::Number::New(info.Env(), (double)bytes));
		return out;
	}

	Napi::Value Reap(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "reap");
		cb_error e{};
		int64_t got = cb_uring_send_reap(&u_, &e);
		if (got < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), (double)got);
	}

	void Finish(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "finish");
		int timeout = MsArg(info, 0, "finish: timeoutMs");
		cb_error e{};
		if (cb_uring_send_finish(&u_, timeout, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	// UDP: nothing to shut down; checked like the others so a closed handle still says so.
	void Shutdown(const Napi::CallbackInfo &info) { RequireOpen(info.Env(), "shutdown"); }

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "stats");
		cb_send_stats st;
		cb_error e{};
		if (cb_sender_stats(&u_.s, &st, &e) < 0)
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
		if (!detached_) {
			buffer_.Value().Detach(); // throws if it cannot: then nothing is unmapped
			detached_ = true;
		}
		cb_uring_send_close(&u_);
	}

	cb_uring_sender u_{};
	Napi::Reference<Napi::ArrayBuffer> buffer_;
	bool detached_ = false;
};

// ioUringSendProbe(zerocopy): whether io_uring (and, zero-copy, SEND_ZC) can send here.
Napi::Value Probe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsBoolean())
		throw Napi::TypeError::New(env, "ioUringSendProbe: zerocopy must be a boolean");
	cb_error e{};
	bool ok = cb_uring_send_probe(info[0].As<Napi::Boolean>().Value(), &e) == 0;
	return ProbeResult(env, ok, ok ? "" : CbErrorText(e), "");
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("IoUringSender", IoUringSenderWrap::Define(env));
	exports.Set("ioUringSendProbe", Napi::Function::New(env, Probe, "ioUringSendProbe"));
}

static const AddonPart kPart(Init);
