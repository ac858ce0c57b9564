// fastnetProbe, fastnetCheck and FastnetHandle: /dev/fastnet (kmod/fastnet) as a JS class.
#include <sys/mman.h>

#include <climits>
#include <string>

#include "addon.h"
#include "capture_binding.h"
#include "fastnet.h"

namespace {

Napi::Value FastnetProbe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	cb_error e{};
	bool ok = cb_fastnet_probe(&e) == 0;
	return ProbeResult(env, ok, ok ? "" : CbErrorText(e),
			   ok ? "fastnet ABI " + std::to_string(FASTNET_ABI_VERSION) : "");
}

// 'read', 'ring' or 'zc' as the module's mode; a TypeError naming `what` otherwise.
int ModeArg(Napi::Env env, const Napi::Value &v, const char *what)
{
	std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
	if (name == "read")
		return FASTNET_MODE_READ;
	if (name == "ring")
		return FASTNET_MODE_RING;
	if (name == "zc")
		return FASTNET_MODE_ZC;
	throw Napi::TypeError::New(env, std::string(what) + " must be 'read', 'ring' or 'zc'");
}

// fastnetCheck(ifname, mode): throws what new FastnetHandle would, binding nothing.
void FastnetCheck(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsString())
		throw Napi::TypeError::New(env, "fastnetCheck: ifname must be a string");
	std::string ifname = info[0].As<Napi::String>().Utf8Value();
	int mode = ModeArg(env, info[1], "fastnetCheck: mode");
	cb_error e{};
	if (cb_fastnet_check(ifname.c_str(), mode, &e) < 0)
		throw CbJsError(env, e);
}

// The ring mapping, shared by the handle and the external ArrayBuffer over it. close() detaches
// the buffer and unmaps at once; a handle collected without close() leaves the unmapping to the
// buffer's finalizer, since JS may still hold the buffer. Both run on the JS thread.
struct RingMapping {
	void *addr;
	size_t len;
	int refs;
};

void UnrefMapping(RingMapping *m)
{
	if (--m->refs > 0)
		return;
	if (m->addr)
		munmap(m->addr, m->len);
	delete m;
}

void FinalizeRingBuffer(Napi::Env, void *, RingMapping *m)
{
	UnrefMapping(m);
}

class FastnetHandle : public CaptureBinding<FastnetHandle> {
public:
	static constexpr const char *kClassName = "FastnetHandle";

	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, kClassName,
				   { InstanceAccessor("ring", &FastnetHandle::Ring, nullptr),
				     InstanceMethod("readOne", &FastnetHandle::ReadOne),
				     InstanceMethod("nextSlots", &FastnetHandle::NextSlots),
				     InstanceMethod("releaseSlots", &FastnetHandle::ReleaseSlots),
				     InstanceMethod("consumeNative", &FastnetHandle::ConsumeNative),
				     InstanceMethod("stats", &FastnetHandle::Stats),
				     InstanceMethod("close", &FastnetHandle::Close) });
	}

	explicit FastnetHandle(const Napi::CallbackInfo &info) : CaptureBinding<FastnetHandle>(info)
	{
		Napi::Env env = info.Env();
		handle_.fd = -1;
		Napi::Object opts = OptionsArg(info);
		std::string ifname = IfnameOption(opts);
		int mode = ModeArg(env, opts.Get("mode"), "FastnetHandle: options.mode");
		uint32_t depth = (uint32_t)IntArg(opts.Get("depth"), "FastnetHandle: options.depth",
						  0, FASTNET_MAX_DEPTH);
		cb_error e{};
		if (cb_fastnet_open(&handle_, ifname.c_str(), mode, depth, &e) < 0)
			throw CbJsError(env, e);
		if (handle_.ring)
			ShareRing(env);
	}

	// The finalizer path: the file is closed (and the interface let go), but the mapping stays
	// until the buffer over it is collected too.
	~FastnetHandle() override
	{
		cb_fastnet_close(&handle_);
		if (mapping_)
			UnrefMapping(mapping_);
		mapping_ = nullptr;
	}

private:
	// Hands the mapping to a RingMapping shared with an external ArrayBuffer over it. If that
	// fails the constructor throws, so no destructor will run: clean up here.
	void ShareRing(Napi::Env env)
	{
		try {
			mapping_ = new RingMapping{ handle_.ring, handle_.ring_bytes, 2 };
			Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, handle_.ring,
								      handle_.ring_bytes,
								      FinalizeRingBuffer, mapping_);
			// From here the buffer's finalizer owns a reference and may unmap.
			handle_.ring_borrowed = 1;
			ring_ = Napi::Persistent(ab);
		} catch (...) {
			cb_fastnet_close(&handle_);
			if (mapping_ && handle_.ring_borrowed == 0)
				delete mapping_;
			else if (mapping_)
				UnrefMapping(mapping_);
			mapping_ = nullptr;
			throw;
		}
	}

	friend class CaptureBinding<FastnetHandle>;

	bool IsOpen() const { return handle_.fd >= 0; }
	const char *Ifname() const { return handle_.ifname; }

	Napi::Value Ring(const Napi::CallbackInfo &info)
	{
		if (ring_.IsEmpty())
			return info.Env().Null();
		return ring_.Value();
	}

	Napi::Value ReadOne(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "readOne");
		ArrayArg<uint8_t> buf = BytesArg(info, 0, "readOne: buf");
		ArrayArg<uint32_t> table = TableArg(info, 1, "readOne: table", 2);
		int timeout = MsArg(info, 2, "readOne: timeoutMs");
		if (buf.ByteLength() < CB_FASTNET_MIN_READ)
			throw Napi::RangeError::New(
				info.Env(), "readOne: buf must hold at least " +
						    std::to_string(CB_FASTNET_MIN_READ) + " bytes");
		cb_error e{};
		int n = cb_fastnet_read_one(&handle_, buf.Data(), buf.ByteLength(), table.Data(),
					    timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	Napi::Value NextSlots(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "nextSlots");
		uint32_t max =
			(uint32_t)IntArg(info[1], "nextSlots: maxFrames", 1, FASTNET_MAX_DEPTH);
		ArrayArg<uint32_t> table = TableArg(info, 0, "nextSlots: table", 2 * (size_t)max);
		int timeout = MsArg(info, 2, "nextSlots: timeoutMs");
		cb_error e{};
		int n = cb_fastnet_next_slots(&handle_, table.Data(), max, timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	void ReleaseSlots(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "releaseSlots");
		cb_fastnet_release_slots(&handle_);
	}

	int Consume(const Napi::CallbackInfo &info, cb_count *count, cb_error *e)
	{
		cb_slice slice = ConsumeNativeArgs(info, 0, 1);
		return cb_fastnet_consume(&handle_, &slice, count, e);
	}

	int ReadStats(StatsFields &out, cb_error *e)
	{
		fastnet_stats st{};
		if (cb_fastnet_stats(&handle_, &st, e) < 0)
			return -1;
		out.Add("received", (double)st.received);
		out.Add("delivered", (double)st.delivered);
		out.Add("dropped", (double)st.dropped);
		out.Add("full", (double)st.full);
		out.Add("discarded", (double)st.discarded);
		out.Add("queued", (double)st.queued);
		if (handle_.mode == FASTNET_MODE_ZC) {
			fastnet_nic_stats nic{};
			if (cb_fastnet_nic_stats(&handle_, &nic, e) < 0)
				return -1;
			out.Add("nicMissed", (double)nic.missed);
			out.Add("nicNoBuffer", (double)nic.no_buffer);
		}
		out.Add("calls", (double)handle_.calls.syscalls);
		out.Add("wakeups", (double)handle_.calls.wakeups);
		return 0;
	}

	// Detach before unmapping: afterwards JS sees an empty buffer, never freed memory.
	void Close(const Napi::CallbackInfo &)
	{
		if (!ring_.IsEmpty()) {
			Napi::ArrayBuffer ab = ring_.Value();
			if (!ab.IsDetached())
				ab.Detach();
		}
		cb_fastnet_close(&handle_);
		if (mapping_) {
			munmap(mapping_->addr, mapping_->len);
			mapping_->addr = nullptr;
			UnrefMapping(mapping_);
			mapping_ = nullptr;
		}
	}

	cb_fastnet handle_{};
	RingMapping *mapping_ = nullptr;
	Napi::Reference<Napi::ArrayBuffer> ring_;
};

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("fastnetProbe", Napi::Function::New(env, FastnetProbe, "fastnetProbe"));
	exports.Set("fastnetCheck", Napi::Function::New(env, FastnetCheck, "fastnetCheck"));
	exports.Set("FastnetHandle", FastnetHandle::Define(env));
}

static const AddonPart kPart(Init);
