// PacketMmapRing: a TPACKET_V3 receive ring as a JS class. `ring` is the mapping itself as an
// external ArrayBuffer; close() (and the finalizer) detach it before unmapping, so no JS view
// can outlive the memory it points at.
#include <string>

#include "addon.h"
#include "capture_binding.h"
#include "external_area.h"
#include "fanout_option.h"
#include "packet_mmap.h"

namespace {

class PacketMmapRing : public CaptureBinding<PacketMmapRing> {
public:
	static constexpr const char *kClassName = "PacketMmapRing";

	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(
			env, kClassName,
			{ InstanceAccessor("ring", &PacketMmapRing::Ring, nullptr),
			  InstanceAccessor("fanoutGroup", &PacketMmapRing::FanoutGroup, nullptr),
			  InstanceMethod("nextBlock", &PacketMmapRing::NextBlock),
			  InstanceMethod("consumeNative", &PacketMmapRing::ConsumeNative),
			  InstanceMethod("stats", &PacketMmapRing::Stats),
			  InstanceMethod("close", &PacketMmapRing::Close) });
	}

	explicit PacketMmapRing(const Napi::CallbackInfo &info)
		: CaptureBinding<PacketMmapRing>(info)
	{
		ring_.fd = -1;
		Napi::Env env = info.Env();
		Napi::Object opts = OptionsArg(info);
		std::string name = IfnameOption(opts);
		cb_pmmap_options o{};
		o.ifname = name.c_str();
		o.block_bytes = (uint32_t)IntArg(opts.Get("blockBytes"),
						 "PacketMmapRing: options.blockBytes",
						 CB_PMMAP_FRAME_BYTES,
						 (double)CB_PMMAP_MAX_RING_BYTES);
		o.block_count = (uint32_t)IntArg(opts.Get("blockCount"),
						 "PacketMmapRing: options.blockCount", 1,
						 CB_PMMAP_MAX_BLOCKS);
		o.retire_ms = (uint32_t)IntArg(opts.Get("retireMs"),
					       "PacketMmapRing: options.retireMs", 0, 60000);
		o.fanout = FanoutOption(opts, "PacketMmapRing");
		cb_error e{};
		if (cb_pmmap_open(&ring_, &o, &e) < 0)
			throw CbJsError(env, e);
		try {
			ring_area_.Share(env, ring_.map, ring_.map_len);
		} catch (...) {
			cb_pmmap_close(&ring_);
			throw;
		}
	}

	// Runs when JS drops the object without close(): same order as Close(), errors ignored.
	void Finalize(Napi::Env env) override { Release(env); }

	~PacketMmapRing() override
	{
		// Finalize() has run by now; if the ArrayBuffer could not be detached the mapping is
		// deliberately left in place (Release() keeps it), never unmapped under a live view.
		if (ring_area_.Detached())
			cb_pmmap_close(&ring_);
	}

private:
	// Detaches the ArrayBuffer, then unmaps and closes. If detaching fails the mapping stays:
	// leaking it is better than JS reading unmapped memory.
	void Release(Napi::Env env)
	{
		if (ring_area_.DetachQuietly(env))
			cb_pmmap_close(&ring_);
	}

	friend class CaptureBinding<PacketMmapRing>;

	bool IsOpen() const { return ring_.fd >= 0 && ring_.map; }
	const char *Ifname() const { return ring_.ifname; }

	// After close() this is the same ArrayBuffer, detached: byteLength 0, views over it empty.
	Napi::Value Ring(const Napi::CallbackInfo &) { return ring_area_.Value(); }

	Napi::Value FanoutGroup(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), ring_.fanout_group);
	}

	Napi::Value NextBlock(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "nextBlock");
		int timeout = MsArg(info, 0, "nextBlock: timeoutMs");
		size_t off = 0;
		cb_error e{};
		int rc = cb_pmmap_next_block(&ring_, timeout, &off, &e);
		if (rc < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), rc == 1 ? (double)off : -1.0);
	}

	int Consume(const Napi::CallbackInfo &info, cb_count *count, cb_error *e)
	{
		cb_slice slice = ConsumeNativeArgs(info, 0, 1);
		return cb_pmmap_consume(&ring_, &slice, count, e);
	}

	int ReadStats(StatsFields &out, cb_error *e)
	{
		uint64_t packets, drops, freezes;
		if (cb_pmmap_stats(&ring_, &packets, &drops, &freezes, e) < 0)
			return -1;
		out.Add("packets", (double)packets);
		out.Add("drops", (double)drops);
		out.Add("freezes", (double)freezes);
		out.Add("calls", (double)ring_.calls.syscalls);
		out.Add("wakeups", (double)ring_.calls.wakeups);
		return 0;
	}

	void Close(const Napi::CallbackInfo &)
	{
		ring_area_.Detach(); // throws if it cannot: then nothing is unmapped
		cb_pmmap_close(&ring_);
	}

	cb_pmmap ring_{};
	ExternalArea ring_area_;
};

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("PacketMmapRing", PacketMmapRing::Define(env));
}

static const AddonPart kPart(Init);
