// fastnetProbe and FastnetHandle: /dev/fastnet (kmod/fastnet) as a JS class.
#include <sys/mman.h>

#include <climits>
#include <string>

#include "addon.h"
#include "fastnet.h"
#include "js_error.h"
#include "napi_args.h"

namespace {

Napi::Value FastnetProbe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	cb_error e{};
	bool ok = cb_fastnet_probe(&e) == 0;
	Napi::Object out = Napi::Object::New(env);
	out.Set("available", Napi::Boolean::New(env, ok));
	out.Set("reason", Napi::String::New(env, ok ? "" : CbErrorText(e)));
	out.Set("version", Napi::String::New(env, ok ? "fastnet ABI " + std::to_string(FASTNET_ABI_VERSION) : ""));
	return out;
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

class FastnetHandle : public Napi::ObjectWrap<FastnetHandle> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "FastnetHandle",
				   { InstanceAccessor("ring", &FastnetHandle::Ring, nullptr),
				     InstanceMethod("readOne", &FastnetHandle::ReadOne),
				     InstanceMethod("nextSlots", &FastnetHandle::NextSlots),
				     InstanceMethod("releaseSlots", &FastnetHandle::ReleaseSlots),
				     InstanceMethod("consumeNative", &FastnetHandle::ConsumeNative),
				     InstanceMethod("stats", &FastnetHandle::Stats),
				     InstanceMethod("close", &FastnetHandle::Close) });
	}

	explicit FastnetHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<FastnetHandle>(info)
	{
		Napi::Env env = info.Env();
		handle_.fd = -1;
		if (!info[0].IsObject())
			throw Napi::TypeError::New(env, "FastnetHandle: options must be an object");
		Napi::Object opts = info[0].As<Napi::Object>();
		Napi::Value ifname = opts.Get("ifname");
		if (!ifname.IsString())
			throw Napi::TypeError::New(env, "FastnetHandle: options.ifname must be a string");
		Napi::Value mode = opts.Get("mode");
		std::string modeName = mode.IsString() ? mode.As<Napi::String>().Utf8Value() : "";
		if (modeName != "read" && modeName != "ring")
			throw Napi::TypeError::New(env, "FastnetHandle: options.mode must be 'read' or 'ring'");
		uint32_t depth = (uint32_t)IntArg(opts.Get("depth"), "FastnetHandle: options.depth", 0,
						  FASTNET_MAX_DEPTH);
		cb_error e{};
		if (cb_fastnet_open(&handle_, ifname.As<Napi::String>().Utf8Value().c_str(),
				    modeName == "ring" ? FASTNET_MODE_RING : FASTNET_MODE_READ, depth, &e) < 0)
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
			Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, handle_.ring, handle_.ring_bytes,
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

	void RequireOpen(Napi::Env env, const char *method)
	{
		if (handle_.fd >= 0)
			return;
		cb_error e{};
		cb_fail(&e, EBADF, "%s on FastnetHandle for %s: already closed", method, handle_.ifname);
		throw CbJsError(env, e);
	}

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
			throw Napi::RangeError::New(info.Env(), "readOne: buf must hold at least " +
								std::to_string(CB_FASTNET_MIN_READ) + " bytes");
		cb_error e{};
		int n = cb_fastnet_read_one(&handle_, buf.Data(), buf.ByteLength(), table.Data(), timeout,
					    &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	Napi::Value NextSlots(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "nextSlots");
		uint32_t max = (uint32_t)IntArg(info[1], "nextSlots: maxFrames", 1, FASTNET_MAX_DEPTH);
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

	Napi::Value ConsumeNative(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "consumeNative");
		ConsumeArgs a = ConsumeNativeArgs(info, 0, 1);
		cb_count count{};
		cb_error e{};
		if (cb_fastnet_consume(&handle_, a.max_frames, a.slice_ms, a.idle_ms, &count, &e) < 0)
			throw CbJsError(info.Env(), e);
		return CountObject(info.Env(), count);
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "stats");
		fastnet_stats st{};
		cb_error e{};
		if (cb_fastnet_stats(&handle_, &st, &e) < 0)
			throw CbJsError(info.Env(), e);
		Napi::Env env = info.Env();
		Napi::Object out = Napi::Object::New(env);
		out.Set("received", Napi::Number::New(env, (double)st.received));
		out.Set("delivered", Napi::Number::New(env, (double)st.delivered));
		out.Set("dropped", Napi::Number::New(env, (double)st.dropped));
		out.Set("full", Napi::Number::New(env, (double)st.full));
		out.Set("discarded", Napi::Number::New(env, (double)st.discarded));
		out.Set("queued", Napi::Number::New(env, (double)st.queued));
		return out;
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

void InitFastnet(Napi::Env env, Napi::Object exports)
{
	exports.Set("fastnetProbe", Napi::Function::New(env, FastnetProbe, "fastnetProbe"));
	exports.Set("FastnetHandle", FastnetHandle::Define(env));
}
