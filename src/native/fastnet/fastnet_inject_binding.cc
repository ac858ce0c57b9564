// FastnetInjector and fastnetInjectProbe: fastnet-inject's native handle, the `Sender` interface
// of src/senders/sender-session.ts over /dev/fastnet in INJECT mode (fastnet_inject.c), so the
// one send session drives it as it drives a socket. It takes SenderOptions as declared there:
// kind 'packet', call 'send' (a write() per frame) or 'sendmmsg' (FASTNET_IOC_SEND batches),
// netnsPath and ifname; the socket-only options must be off. `data` is the injector's area as an
// external ArrayBuffer, detached by close() (and the finalizer) before it is unmapped.
#include <cstdint>
#include <string>

#include "../send/sender_binding.h"
#include "addon.h"
#include "fastnet_inject.h"

namespace {

class FastnetInjector : public SenderBinding<FastnetInjector, cb_injector> {
public:
	using SenderBinding::SenderBinding;

	static constexpr const char *kClassName = "FastnetInjector";
	static constexpr SenderCalls<cb_injector> kCalls = {
		cb_injector_send_one,
		cb_injector_send_batch,
		cb_injector_wait,
		cb_injector_loop,
		// Nothing is outstanding: checks the module's count against ours.
		[](cb_injector *s, int, cb_error *e) { return cb_injector_finish(s, e); },
		NothingToEnd<cb_injector>,
		[](cb_injector *s, cb_send_stats *out, cb_error *) {
			*out = s->st; // zero-copy and segs_out stay 0
			return 0;
		},
		cb_injector_close,
	};

	static SenderFields Fields(cb_injector &s)
	{
		return { s.fd >= 0, s.ifname, s.batch, &s.area, s.area_len };
	}

	static int Open(const Napi::Object &opts, cb_injector &s, cb_error *e)
	{
		cb_injector_options o{};
		std::string kind = StringOption(opts, "kind");
		if (kind != "packet")
			throw OptionRange(
				opts, "kind",
				"must be 'packet' (frames with their own headers), not '" + kind +
					"'");
		std::string call = StringOption(opts, "call");
		if (call == "sendmmsg")
			o.batched = true;
		else if (call != "send")
			throw OptionRange(opts, "call",
					  "must be 'send' (a write() per frame) or 'sendmmsg' "
					  "(FASTNET_IOC_SEND batches), not '" +
						  call + "'");
		RequireOff(opts, "qdiscBypass",
			   "cannot be set: the module sends through the qdisc (dev_queue_xmit)");
		RequireOff(opts, "zerocopy", "cannot be set: the module copies every frame");
		RequireOff(opts, "gsoSize", "must be 0: frames are sent as they are");
		std::string netns;
		o.netns_path = NetnsOption(opts, netns);
		std::string ifname = IfnameOption(opts);
		o.ifname = ifname.c_str();
		o.batch = (uint32_t)IntOption(opts, "batch", 1, FASTNET_SEND_MAX_BATCH);
		UnusedIntOption(opts, "maxFrameBytes");
		DataOption(opts, &o.data, &o.data_len);
		return cb_injector_open(&s, &o, e);
	}

private:
	// A socket option the module has no use for: accepted only when it asks for nothing.
	static void RequireOff(const Napi::Object &o, const char *name, const char *why)
	{
		Napi::Value v = o.Get(name);
		bool off = v.IsUndefined() || (v.IsBoolean() && !v.As<Napi::Boolean>().Value()) ||
			   (v.IsNumber() && v.As<Napi::Number>().DoubleValue() == 0);
		if (!off)
			throw OptionRange(o, name, why);
	}
};

// fastnetInjectProbe(): whether /dev/fastnet is loaded and knows INJECT.
Napi::Value Probe(const Napi::CallbackInfo &info)
{
	cb_error e{};
	bool ok = cb_injector_probe(&e) == 0;
	return ProbeResult(info.Env(), ok, ok ? "" : CbErrorText(e),
			   ok ? "fastnet ABI " + std::to_string(FASTNET_ABI_VERSION) : "");
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("FastnetInjector", FastnetInjector::Define(env));
	exports.Set("fastnetInjectProbe", Napi::Function::New(env, Probe, "fastnetInjectProbe"));
}

static const AddonPart kPart(Init);
