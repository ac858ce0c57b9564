// DpdkPort, dpdkProbe and dpdkRelease: a port of DPDK's poll-mode drivers as a JS class. `mbufs`
// is the mbufs' memory as an external ArrayBuffer, where the js tier reads frames in place;
// close() (and the finalizer) detach it before the port lets the memory go.
#include <string>

#include "addon.h"
#include "capture_binding.h"
#include "dpdk_port.h"
#include "external_area.h"

namespace {

class DpdkPort : public CaptureBinding<DpdkPort> {
public:
	static constexpr const char *kClassName = "DpdkPort";

	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, kClassName,
				   { InstanceAccessor("mbufs", &DpdkPort::Mbufs, nullptr),
				     InstanceAccessor("progId", &DpdkPort::ProgId, nullptr),
				     InstanceMethod("next", &DpdkPort::Next),
				     InstanceMethod("consumeNative", &DpdkPort::ConsumeNative),
				     InstanceMethod("stats", &DpdkPort::Stats),
				     InstanceMethod("close", &DpdkPort::Close) });
	}

	explicit DpdkPort(const Napi::CallbackInfo &info) : CaptureBinding<DpdkPort>(info)
	{
		Napi::Env env = info.Env();
		Napi::Object opts = OptionsArg(info);
		std::string ifname = StringOption(opts, "ifname");
		std::string pmd = StringOption(opts, "pmd");
		std::string pci = StringOption(opts, "pci");
		cb_dpdk_options o{};
		o.ifname = ifname.c_str();
		o.pmd = pmd.c_str();
		o.pci = pci.empty() ? nullptr : pci.c_str();
		o.hold_frames = (uint32_t)IntArg(opts.Get("holdFrames"),
						 "DpdkPort: options.holdFrames", 0, 1u << 24);
		cb_error e{};
		if (cb_dpdk_open(&d_, &o, &e) < 0)
			throw CbJsError(env, e);
		try {
			mbufs_.Share(env, d_.mem, d_.mem_len);
		} catch (...) {
			cb_dpdk_close(&d_);
			throw;
		}
	}

	void Finalize(Napi::Env env) override { mbufs_.DetachQuietly(env); }

	// Memory still viewed from JS is left in place rather than freed under the view.
	~DpdkPort() override
	{
		if (mbufs_.Detached())
			cb_dpdk_close(&d_);
	}

private:
	friend class CaptureBinding<DpdkPort>;

	static std::string StringOption(const Napi::Object &opts, const char *name)
	{
		Napi::Value v = opts.Get(name);
		if (!v.IsString())
			throw Napi::TypeError::New(opts.Env(), std::string("DpdkPort: options.") +
								       name + " must be a string");
		return v.As<Napi::String>().Utf8Value();
	}

	bool IsOpen() const { return d_.port != nullptr; }
	const char *Ifname() const { return d_.ifname; }

	Napi::Value Mbufs(const Napi::CallbackInfo &) { return mbufs_.Value(); }

	Napi::Value ProgId(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), d_.prog_id);
	}

	// next(table, maxFrames, timeoutMs): frames as (offset in mbufs, length) pairs.
	Napi::Value Next(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "next");
		uint32_t max = (uint32_t)IntArg(info[1], "next: maxFrames", 1, CB_DPDK_MAX_TAKE);
		ArrayArg<uint32_t> table = TableArg(info, 0, "next: table", 2 * (size_t)max);
		int timeout = MsArg(info, 2, "next: timeoutMs");
		cb_error e{};
		int n = cb_dpdk_next(&d_, max, table.Data(), timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	int Consume(const Napi::CallbackInfo &info, cb_count *count, cb_error *e)
	{
		cb_slice slice = ConsumeNativeArgs(info, 0, 1);
		return cb_dpdk_consume(&d_, &slice, count, e);
	}

	int ReadStats(StatsFields &out, cb_error *e)
	{
		int64_t seen;
		uint64_t drops;
		if (cb_dpdk_stats(&d_, &seen, &drops, e) < 0)
			return -1;
		out.Add("seen", (double)seen);
		out.Add("drops", (double)drops);
		return 0;
	}

	void Close(const Napi::CallbackInfo &)
	{
		mbufs_.Detach(); // throws if it cannot: then nothing is let go
		cb_dpdk_close(&d_);
	}

	cb_dpdk d_{};
	ExternalArea mbufs_;
};

Napi::Value Probe(const Napi::CallbackInfo &info)
{
	cb_error e{};
	bool ok = cb_dpdk_probe(&e) == 0;
	return ProbeResult(info.Env(), ok, ok ? "" : CbErrorText(e), "");
}

// Every port removed and the EAL cleaned up, for good in this process: at the end of a run.
Napi::Value Release(const Napi::CallbackInfo &info)
{
	cb_dpdk_release();
	return info.Env().Undefined();
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("DpdkPort", DpdkPort::Define(env));
	exports.Set("dpdkProbe", Napi::Function::New(env, Probe, "dpdkProbe"));
	exports.Set("dpdkRelease", Napi::Function::New(env, Release, "dpdkRelease"));
}

static const AddonPart kPart(Init);
