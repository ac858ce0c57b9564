// Sender and senderProbe: the sending side of `capbench send` as a JS class. Only argument
// checking and conversion live here; everything else is in sender.c and send_loop.h. Each method
// the js tier calls per unit or batch (send, sendBatch, wait) is one call into the C core, with
// as few N-API calls around it as its arguments allow. `data` is the sender's area as an external
// ArrayBuffer; close() (and the finalizer) detach it before unmapping, as IoUringSocket does its
// buffers.
#include <arpa/inet.h>
#include <sys/utsname.h>

#include <climits>
#include <cstdint>
#include <string>

#include "addon.h"
#include "capture_binding.h"
#include "js_error.h"
#include "napi_args.h"
#include "send_loop.h"
#include "sender.h"

namespace {

constexpr const char *kClassName = "Sender";

std::string OptionName(const char *name)
{
	return std::string(kClassName) + ": options." + name;
}

std::string StringOption(const Napi::Object &o, const char *name)
{
	Napi::Value v = o.Get(name);
	if (!v.IsString())
		throw Napi::TypeError::New(o.Env(), OptionName(name) + " must be a string");
	return v.As<Napi::String>().Utf8Value();
}

bool BoolOption(const Napi::Object &o, const char *name)
{
	Napi::Value v = o.Get(name);
	if (!v.IsBoolean())
		throw Napi::TypeError::New(o.Env(), OptionName(name) + " must be a boolean");
	return v.As<Napi::Boolean>().Value();
}

double IntOption(const Napi::Object &o, const char *name, double lo, double hi)
{
	return IntArg(o.Get(name), OptionName(name).c_str(), lo, hi);
}

Napi::RangeError OptionRange(const Napi::Object &o, const char *name, const std::string &why)
{
	return Napi::RangeError::New(o.Env(), OptionName(name) + " " + why);
}

cb_send_kind KindOption(const Napi::Object &o)
{
	std::string kind = StringOption(o, "kind");
	if (kind == "packet")
		return CB_SEND_PACKET;
	if (kind == "udp")
		return CB_SEND_UDP;
	if (kind == "tcp")
		return CB_SEND_TCP;
	throw OptionRange(o, "kind", "must be 'packet', 'udp' or 'tcp', not '" + kind + "'");
}

cb_send_call CallOption(const Napi::Object &o)
{
	std::string call = StringOption(o, "call");
	if (call == "send")
		return CB_CALL_SEND;
	if (call == "sendmmsg")
		return CB_CALL_SENDMMSG;
	if (call == "tx-ring")
		return CB_CALL_TX_RING;
	throw OptionRange(o, "call", "must be 'send', 'sendmmsg' or 'tx-ring', not '" + call + "'");
}

void CheckIpv4(const Napi::Object &o, const char *name, const std::string &text)
{
	in_addr a;
	if (inet_pton(AF_INET, text.c_str(), &a) != 1)
		throw OptionRange(o, name, "must be a dotted IPv4 address, not '" + text + "'");
}

const char *KindName(cb_send_kind kind)
{
	return kind == CB_SEND_PACKET ? "packet" : kind == CB_SEND_UDP ? "udp" : "tcp";
}

class SenderWrap : public Napi::ObjectWrap<SenderWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, kClassName,
				   { InstanceAccessor("data", &SenderWrap::Data, nullptr),
				     InstanceMethod("send", &SenderWrap::Send),
				     InstanceMethod("sendBatch", &SenderWrap::SendBatch),
				     InstanceMethod("wait", &SenderWrap::Wait),
				     InstanceMethod("runNative", &SenderWrap::RunNative),
				     InstanceMethod("reap", &SenderWrap::Reap),
				     InstanceMethod("finish", &SenderWrap::Finish),
				     InstanceMethod("shutdown", &SenderWrap::Shutdown),
				     InstanceMethod("stats", &SenderWrap::Stats),
				     InstanceMethod("close", &SenderWrap::Close) });
	}

	explicit SenderWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<SenderWrap>(info)
	{
		s_.fd = -1;
		Napi::Env env = info.Env();
		if (!info[0].IsObject())
			throw Napi::TypeError::New(env, std::string(kClassName) +
								": options must be an object");
		Napi::Object opts = info[0].As<Napi::Object>();

		cb_sender_options o{};
		o.kind = KindOption(opts);
		o.call = CallOption(opts);
		bool inet = o.kind != CB_SEND_PACKET;

		std::string netns;
		Napi::Value nv = opts.Get("netnsPath");
		if (nv.IsString())
			netns = nv.As<Napi::String>().Utf8Value();
		else if (!nv.IsNull() && !nv.IsUndefined())
			throw Napi::TypeError::New(env, OptionName("netnsPath") +
								" must be a string or null");
		o.netns_path = nv.IsString() ? netns.c_str() : nullptr;

		std::string ifname = StringOption(opts, "ifname");
		if (ifname.empty() || ifname.size() >= IFNAMSIZ)
			throw OptionRange(opts, "ifname",
					  "must be 1 to " + std::to_string(IFNAMSIZ - 1) +
						  " characters");
		o.ifname = ifname.c_str();
		if (o.kind == CB_SEND_TCP && o.call != CB_CALL_SEND)
			throw OptionRange(opts, "call", "must be 'send' for a tcp sender");
		if (o.call == CB_CALL_TX_RING && o.kind != CB_SEND_PACKET)
			throw OptionRange(opts, "call", "'tx-ring' is for packet senders only");

		o.qdisc_bypass = BoolOption(opts, "qdiscBypass");
		if (o.qdisc_bypass && inet)
			throw OptionRange(opts, "qdiscBypass", "is for packet senders only");

		std::string src = StringOption(opts, "srcAddr");
		std::string dst = StringOption(opts, "dstAddr");
		o.dst_port = (uint16_t)IntOption(opts, "dstPort", 0, 65535);
		if (inet) {
			CheckIpv4(opts, "srcAddr", src);
			CheckIpv4(opts, "dstAddr", dst);
			if (o.dst_port == 0)
				throw OptionRange(opts, "dstPort", "must be 1 to 65535");
		}
		o.src_addr = src.c_str();
		o.dst_addr = dst.c_str();

		o.zerocopy = BoolOption(opts, "zerocopy");
		if (o.zerocopy && !inet)
			throw OptionRange(opts, "zerocopy",
					  "is for udp and tcp senders (packet sockets have no "
					  "MSG_ZEROCOPY)");
		o.gso_size = (uint32_t)IntOption(opts, "gsoSize", 0, 65535);
		if (o.gso_size > 0 && o.kind != CB_SEND_UDP)
			throw OptionRange(opts, "gsoSize", "is for udp senders only");
		o.sndbuf_bytes = (int)IntOption(opts, "sndbufBytes", 0, INT_MAX);
		o.batch = (uint32_t)IntOption(opts, "batch", 1, CB_SEND_MAX_BATCH);

		Napi::Value mv = opts.Get("maxFrameBytes");
		if (o.call == CB_CALL_TX_RING)
			o.max_frame_bytes =
				(uint32_t)IntOption(opts, "maxFrameBytes", 14, CB_SEND_MAX_FRAME);
		else if (!mv.IsUndefined())
			IntOption(opts, "maxFrameBytes", 0, UINT32_MAX); // checked, not used

		Napi::Value dv = opts.Get("data");
		if (!dv.IsTypedArray() ||
		    dv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
			throw Napi::TypeError::New(env,
						   OptionName("data") + " must be a Uint8Array");
		Napi::Uint8Array data = dv.As<Napi::Uint8Array>();
		if (data.ElementLength() == 0 || data.ElementLength() > UINT32_MAX)
			throw OptionRange(opts, "data", "must be 1 to 4294967295 bytes");
		o.data = data.Data();
		o.data_len = data.ElementLength();

		cb_error e{};
		if (cb_sender_open(&s_, &o, &e) < 0)
			throw CbJsError(env, e);
		try {
			buffer_ =
				Napi::Persistent(Napi::ArrayBuffer::New(env, s_.area, s_.area_len));
		} catch (...) {
			cb_sender_close(&s_);
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

	~SenderWrap() override
	{
		// An area still viewed from JS is left mapped rather than freed under the view; the
		// socket and the ring go either way.
		if (!detached_)
			s_.area = nullptr;
		cb_sender_close(&s_);
	}

private:
	void RequireOpen(Napi::Env env, const char *method)
	{
		if (s_.fd >= 0)
			return;
		cb_error e{};
		cb_fail(&e, EBADF, "%s on the %s Sender on %s: already closed", method,
			KindName(s_.kind), s_.ifname);
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
		ssize_t n = cb_sender_send_one(&s_, off, len, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), (double)n);
	}

	// sendBatch(table, n): units taken (sendmmsg) or handed over (tx-ring).
	Napi::Value SendBatch(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "sendBatch");
		uint32_t n = (uint32_t)IntArg(info[1], "sendBatch: n", 1, s_.batch);
		ArrayArg<uint32_t> table = TableArg(info, 0, "sendBatch: table", 2 * (size_t)n);
		cb_error e{};
		int got = cb_sender_send_batch(&s_, table.Data(), n, &e);
		if (got < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), got);
	}

	void Wait(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "wait");
		int timeout = MsArg(info, 0, "wait: timeoutMs");
		cb_error e{};
		if (cb_sender_wait(&s_, timeout, &e) < 0)
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
		if (cb_send_loop(&s_, table.Data(), units, &slice, &got, &bytes, &e) < 0)
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
		int64_t got = cb_sender_reap(&s_, &e);
		if (got < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), (double)got);
	}

	void Finish(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "finish");
		int timeout = MsArg(info, 0, "finish: timeoutMs");
		cb_error e{};
		if (cb_sender_finish(&s_, timeout, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	void Shutdown(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "shutdown");
		cb_error e{};
		if (cb_sender_shutdown(&s_, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "stats");
		cb_send_stats st;
		cb_error e{};
		if (cb_sender_stats(&s_, &st, &e) < 0)
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
		cb_sender_close(&s_);
	}

	cb_sender s_{};
	Napi::Reference<Napi::ArrayBuffer> buffer_;
	bool detached_ = false;
};

// senderProbe('udp-zerocopy' | 'tcp-zerocopy'): whether SO_ZEROCOPY is accepted here.
Napi::Value Probe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsString())
		throw Napi::TypeError::New(env, "senderProbe: kind must be a string");
	std::string kind = info[0].As<Napi::String>().Utf8Value();
	cb_send_kind k;
	if (kind == "udp-zerocopy")
		k = CB_SEND_UDP;
	else if (kind == "tcp-zerocopy")
		k = CB_SEND_TCP;
	else
		throw Napi::RangeError::New(env, "senderProbe: kind must be 'udp-zerocopy' or "
						 "'tcp-zerocopy', not '" +
							 kind + "'");
	cb_error e{};
	bool ok = cb_sender_probe_zerocopy(k, &e) == 0;
	struct utsname u;
	std::string version = uname(&u) == 0 ? std::string("Linux ") + u.release : "";
	return ProbeResult(env, ok, ok ? "" : CbErrorText(e), version);
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("Sender", SenderWrap::Define(env));
	exports.Set("senderProbe", Napi::Function::New(env, Probe, "senderProbe"));
}

static const AddonPart kPart(Init);
