// pcapProbe and PcapHandle: libpcap (loaded at run time) as a JS class.
#include <climits>
#include <string>

#include "addon.h"
#include "capture_binding.h"
#include "pcap_native.h"

namespace {

Napi::Value PcapProbe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	cb_error e{};
	bool ok = cb_pcap_load(&e) == 0;
	return ProbeResult(env, ok, ok ? "" : e.context, ok ? cb_pcap_version() : "");
}

class PcapHandle : public CaptureBinding<PcapHandle> {
public:
	static constexpr const char *kClassName = "PcapHandle";

	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, kClassName,
				   { InstanceMethod("dispatch", &PcapHandle::Dispatch),
				     InstanceMethod("consumeNative", &PcapHandle::ConsumeNative),
				     InstanceMethod("stats", &PcapHandle::Stats),
				     InstanceMethod("close", &PcapHandle::Close) });
	}

	explicit PcapHandle(const Napi::CallbackInfo &info) : CaptureBinding<PcapHandle>(info)
	{
		std::string ifname;
		cb_pcap_options o = Options(info, ifname);
		cb_error e{};
		if (cb_pcap_open(&handle_, &o, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	// The finalizer path: a handle JS forgot to close must not keep its ring and promisc mode.
	~PcapHandle() override { cb_pcap_close(&handle_); }

private:
	friend class CaptureBinding<PcapHandle>;

	static cb_pcap_options Options(const Napi::CallbackInfo &info, std::string &ifname)
	{
		Napi::Object opts = OptionsArg(info);
		ifname = IfnameOption(opts);
		cb_pcap_options o{};
		o.ifname = ifname.c_str();
		o.snaplen =
			(int)IntArg(opts.Get("snaplen"), "PcapHandle: options.snaplen", 1, 262144);
		o.buffer_bytes = (int)IntArg(opts.Get("bufferBytes"),
					     "PcapHandle: options.bufferBytes", 0, INT_MAX);
		o.timeout_ms = (int)IntArg(opts.Get("timeoutMs"), "PcapHandle: options.timeoutMs",
					   0, INT_MAX);
		Napi::Value immediate = opts.Get("immediate");
		if (!immediate.IsBoolean())
			throw Napi::TypeError::New(
				info.Env(), "PcapHandle: options.immediate must be a boolean");
		o.immediate = immediate.As<Napi::Boolean>().Value() ? 1 : 0;
		return o;
	}

	bool IsOpen() const { return handle_.pcap != nullptr; }
	const char *Ifname() const { return handle_.ifname; }

	Napi::Value Dispatch(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "dispatch");
		ArrayArg<uint8_t> buf = BytesArg(info, 0, "dispatch: buf");
		uint32_t max =
			(uint32_t)IntArg(info[2], "dispatch: maxFrames", 1, CB_PCAP_MAX_DISPATCH);
		ArrayArg<uint32_t> table = TableArg(info, 1, "dispatch: table", 2 * (size_t)max);
		int timeout = (int)IntArg(info[3], "dispatch: timeoutMs", 0, INT_MAX);
		if (buf.ByteLength() / max < CB_PCAP_MIN_SLOT)
			throw Napi::RangeError::New(
				info.Env(), "dispatch: buf must hold maxFrames slots of at least " +
						    std::to_string(CB_PCAP_MIN_SLOT) + " bytes");
		cb_error e{};
		int n = cb_pcap_dispatch_copy(&handle_, buf.Data(), buf.ByteLength(), max,
					      table.Data(), timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	int Consume(const Napi::CallbackInfo &info, cb_count *count, cb_error *e)
	{
		cb_slice slice = ConsumeNativeArgs(info, 0, 1);
		return cb_pcap_consume(&handle_, &slice, count, e);
	}

	int ReadStats(StatsFields &out, cb_error *e)
	{
		uint32_t received, dropped, if_dropped;
		if (cb_pcap_stats(&handle_, &received, &dropped, &if_dropped, e) < 0)
			return -1;
		out.Add("received", received);
		out.Add("dropped", dropped);
		out.Add("ifDropped", if_dropped);
		out.Add("calls", (double)handle_.calls.syscalls);
		out.Add("wakeups", (double)handle_.calls.wakeups);
		return 0;
	}

	void Close(const Napi::CallbackInfo &) { cb_pcap_close(&handle_); }

	cb_pcap handle_{};
};

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("pcapProbe", Napi::Function::New(env, PcapProbe, "pcapProbe"));
	exports.Set("PcapHandle", PcapHandle::Define(env));
}

static const AddonPart kPart(Init);
