// AfXdpSender: the AF_XDP send method's native handle, with exactly the methods of the send
// methods' Sender (src/senders/sender-session.ts), so that the one SenderSession drives it. Only
// argument checking and conversion live here; the rest is in af_xdp_tx.c. `data` is the UMEM
// (unit i in chunk i) as an external ArrayBuffer: close() and the finalizer detach it before it
// is unmapped, as the Sender class does its area.
#include <climits>
#include <cstdint>
#include <string>

#include "addon.h"
#include "af_xdp_tx.h"
#include "capture_binding.h"
#include "js_error.h"
#include "napi_args.h"

namespace {

constexpr const char *kClassName = "AfXdpSender";

std::string OptionName(const char *name)
{
	return std::string(kClassName) + ": options." + name;
}

class AfXdpSender : public Napi::ObjectWrap<AfXdpSender> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, kClassName,
				   { InstanceAccessor("data", &AfXdpSender::Data, nullptr),
				     InstanceMethod("send", &AfXdpSender::Send),
				     InstanceMethod("sendBatch", &AfXdpSender::SendBatch),
				     InstanceMethod("wait", &AfXdpSender::Wait),
				     InstanceMethod("runNative", &AfXdpSender::RunNative),
				     InstanceMethod("reap", &AfXdpSender::Reap),
				     InstanceMethod("finish", &AfXdpSender::Finish),
				     InstanceMethod("shutdown", &AfXdpSender::Shutdown),
				     InstanceMethod("stats", &AfXdpSender::Stats),
				     InstanceMethod("close", &AfXdpSender::Close) });
	}

	explicit AfXdpSender(const Napi::CallbackInfo &info) : Napi::ObjectWrap<AfXdpSender>(info)
	{
		s_.fd = -1;
		Napi::Env env = info.Env();
		if (!info[0].IsObject())
			throw Napi::TypeError::New(env, std::string(kClassName) +
								": options must be an object");
		Napi::Object opts = info[0].As<Napi::Object>();
		cb_xsk_tx_options o{};

		std::string netns;
		Napi::Value nv = opts.Get("netnsPath");
		if (nv.IsString())
			netns = nv.As<Napi::String>().Utf8Value();
		else if (!nv.IsNull() && !nv.IsUndefined())
			throw Napi::TypeError::New(env, OptionName("netnsPath") +
								" must be a string or null");
		o.netns_path = nv.IsString() ? netns.c_str() : nullptr;

		Napi::Value iv = opts.Get("ifname");
		if (!iv.IsString())
			throw Napi::TypeError::New(env, OptionName("ifname") + " must be a string");
		std::string ifname = iv.As<Napi::String>().Utf8Value();
		if (ifname.empty() || ifname.size() >= IF_NAMESIZE)
			throw Napi::RangeError::New(env, OptionName("ifname") + " must be 1 to " +
								 std::to_string(IF_NAMESIZE - 1) +
								 " characters");
		o.ifname = ifname.c_str();
		o.batch = (uint32_t)IntArg(opts.Get("batch"), OptionName("batch").c_str(), 1,
					   CB_XSK_TX_MAX_BATCH);

		Napi::Value dv = opts.Get("data");
		if (!dv.IsTypedArray() ||
		    dv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
			throw Napi::TypeError::New(env,
						   OptionName("data") + " must be a Uint8Array");
		Napi::Uint8Array data = dv.As<Napi::Uint8Array>();
		if (data.ElementLength() == 0 || data.ElementLength() > UINT32_MAX)
			throw Napi::RangeError::New(env, OptionName("data") +
								 " must be 1 to 4294967295 bytes");
		o.data = data.Data();
		o.data_len = data.ElementLength();

		// The units, known at open: each gets its UMEM chunk now, and sends only point at it.
		uint32_t units = (uint32_t)IntArg(opts.Get("units"), OptionName("units").c_str(), 1,
						  UINT32_MAX / 2);
		Napi::Value tv = opts.Get("table");
		if (!tv.IsTypedArray() ||
		    tv.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
			throw Napi::TypeError::New(env,
						   OptionName("table") + " must be a Uint32Array");
		Napi::Uint32Array table = tv.As<Napi::Uint32Array>();
		if (table.ElementLength() < 2 * (size_t)units)
			throw Napi::RangeError::New(env, OptionName("table") + " needs at least " +
								 std::to_string(2 * (size_t)units) +
								 " entries");
		o.units = table.Data();
		o.nunits = units;

		cb_error e{};
		if (cb_xsk_tx_open(&s_, &o, &e) < 0)
			throw CbJsError(env, e);
		try {
			buffer_ =
				Napi::Persistent(Napi::ArrayBuffer::New(env, s_.umem, s_.umem_len));
		} catch (...) {
			cb_xsk_tx_close(&s_);
			throw;
		}
	}

	// Runs when JS drops the object without close(): detaches, so no view outlives the UMEM.
	void Finalize(Napi::Env env) override
	{
		napi_value ab = nullptr;
		if (!detached_ && napi_get_reference_value(env, buffer_, &ab) == napi_ok && ab &&
		    napi_detach_arraybuffer(env, ab) == napi_ok)
			detached_ = true;
	}

	~AfXdpSender() override
	{
		// A UMEM still viewed from JS is left mapped rather than freed under the view; the
		// socket goes either way.
		if (!detached_)
			s_.umem = nullptr;
		cb_xsk_tx_close(&s_);
	}

private:
	void RequireOpen(Napi::Env env, const char *method)
	{
		if (s_.fd >= 0)
			return;
		cb_error e{};
		cb_fail(&e, EBADF, "%s on AfXdpSender on %s: already closed", method, s_.ifname);
		throw CbJsError(env, e);
	}

	Napi::Value Data(const Napi::CallbackInfo &) { return buffer_.Value(); }

	// send(offset, length): length once its descriptor is on the TX ring, 0 when it had no room.
	Napi::Value Send(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "send");
		uint32_t off = (uint32_t)IntArg(info[0], "send: offset", 0, UINT32_MAX);
		uint32_t len = (uint32_t)IntArg(info[1], "send: length", 0, UINT32_MAX);
		cb_error e{};
		int64_t n = cb_xsk_tx_send_one(&s_, off, len, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), (double)n);
	}

	// sendBatch(table, n): units put on the TX ring in this call (taken counts completions).
	Napi::Value SendBatch(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "sendBatch");
		uint32_t n = (uint32_t)IntArg(info[1], "sendBatch: n", 1, s_.batch);
		ArrayArg<uint32_t> table = TableArg(info, 0, "sendBatch: table", 2 * (size_t)n);
		cb_error e{};
		int got = cb_xsk_tx_send_batch(&s_, table.Data(), n, &e);
		if (got < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), got);
	}

	void Wait(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "wait");
		int timeout = MsArg(info, 0, "wait: timeoutMs");
		cb_error e{};
		if (cb_xsk_tx_wait(&s_, timeout, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	// runNative(table, units, maxUnits, sliceMs): { units, bytes } handed over in this call.
	Napi::Value RunNative(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "runNative");
		uint32_t units = (uint32_t)IntArg(info[1], "runNative: units", 1, UINT32_MAX / 2);
		ArrayArg<uint32_t> table = TableArg(info, 0, "runNative: table", 2 * (size_t)units);
		uint64_t max_units =
			(uint64_t)IntArg(info[2], "runNative: maxUnits", 0, kMaxSafeInteger);
		uint32_t slice_ms = (uint32_t)MsArg(info, 3, "runNative: sliceMs");
		uint64_t got = 0, bytes = 0;
		cb_error e{};
		if (cb_xsk_tx_loop(&s_, table.Data(), units, max_units, slice_ms, &got, &bytes,
				   &e) < 0)
			throw CbJsError(info.Env(), e);
		Napi::Object out = Napi::Object::New(info.Env());
		out.Set("units", Napi::Number::New(info.Env(), (double)got));
		out.Set("bytes", Napi::Number::New(info.Env(), (double)bytes));
		return out;
	}

	// reap(): completions read off the completion ring.
	Napi::Value Reap(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "reap");
		return Napi::Number::New(info.Env(), (double)cb_xsk_tx_reap(&s_));
	}

	void Finish(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "finish");
		int timeout = MsArg(info, 0, "finish: timeoutMs");
		cb_error e{};
		if (cb_xsk_tx_finish(&s_, timeout, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	// Nothing to end: frames have no stream.
	void Shutdown(const Napi::CallbackInfo &info) { RequireOpen(info.Env(), "shutdown"); }

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "stats");
		StatsFields f;
		f.Add("calls", (double)s_.st.calls);
		f.Add("waits", (double)s_.st.waits);
		f.Add("retries", (double)s_.st.retries);
		f.Add("taken", (double)cb_xsk_tx_taken(&s_));
		f.Add("bytes", (double)cb_xsk_tx_bytes(&s_));
		// No MSG_ZEROCOPY here: AF_XDP's zero-copy is the driver reading the UMEM.
		f.Add("zcSends", 0);
		f.Add("zcCompletions", 0);
		f.Add("zcCopied", 0);
		f.Add("zcReaps", 0);
		f.Add("zcReapNs", 0);
		f.Add("segsOut", 0);
		return f.ToObject(info.Env());
	}

	void Close(const Napi::CallbackInfo &)
	{
		if (!detached_) {
			buffer_.Value().Detach(); // throws if it cannot: then nothing is unmapped
			detached_ = true;
		}
		cb_xsk_tx_close(&s_);
	}

	cb_xsk_tx s_{};
	Napi::Reference<Napi::ArrayBuffer> buffer_;
	bool detached_ = false;
};

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("AfXdpSender", AfXdpSender::Define(env));
}

static const AddonPart kPart(Init);
