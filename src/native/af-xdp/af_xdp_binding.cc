// AfXdpSocket and afXdpProbe: the AF_XDP socket as a JS class, its UMEM as an external ArrayBuffer.
#include <sys/types.h>

#include <string>

#include "addon.h"
#include "af_xdp.h"
#include "capture_binding.h"

namespace {

/*
 * The UMEM memory is reachable from two JS objects with independent lifetimes: the socket and the
 * `umem` ArrayBuffer (JS may keep a view after dropping the socket). close() detaches the buffer
 * and unmaps at once; without close(), whichever of the two is finalized last unmaps.
 * Everything here runs on the JS thread.
 */
struct UmemOwner {
	void *area;
	size_t len;
	bool socket_alive;
	bool buffer_alive;
};

void FreeIfUnowned(UmemOwner *o)
{
	if (o->socket_alive || o->buffer_alive)
		return;
	cb_xsk_free_umem(o->area, o->len);
	delete o;
}

void BufferFinalized(Napi::Env, void *, UmemOwner *o)
{
	o->buffer_alive = false;
	FreeIfUnowned(o);
}

bool BoolArg(const Napi::Value &v, const char *what)
{
	if (!v.IsBoolean())
		throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a boolean");
	return v.As<Napi::Boolean>().Value();
}

class AfXdpSocket : public CaptureBinding<AfXdpSocket> {
public:
	static constexpr const char *kClassName = "AfXdpSocket";

	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, kClassName,
				   { InstanceMethod("receive", &AfXdpSocket::Receive),
				     InstanceMethod("consumeNative", &AfXdpSocket::ConsumeNative),
				     InstanceMethod("stats", &AfXdpSocket::Stats),
				     InstanceMethod("close", &AfXdpSocket::Close) });
	}

	explicit AfXdpSocket(const Napi::CallbackInfo &info) : CaptureBinding<AfXdpSocket>(info)
	{
		sock_.fd = -1;
		Napi::Env env = info.Env();
		Napi::Object opts = OptionsArg(info);
		std::string name = IfnameOption(opts);
		cb_xsk_options o{};
		o.ifname = name.c_str();
		o.queue =
			(uint32_t)IntArg(opts.Get("queue"), "AfXdpSocket: options.queue", 0, 65535);
		o.frame_count = (uint32_t)IntArg(opts.Get("frameCount"),
						 "AfXdpSocket: options.frameCount", 1,
						 (double)(CB_XSK_MAX_UMEM / 2048));
		o.frame_bytes = (uint32_t)IntArg(opts.Get("frameBytes"),
						 "AfXdpSocket: options.frameBytes", 2048, 4096);
		o.ring_size = (uint32_t)IntArg(opts.Get("ringSize"),
					       "AfXdpSocket: options.ringSize", CB_XSK_MIN_RING,
					       CB_XSK_MAX_RING);
		o.batch = (uint32_t)IntArg(opts.Get("batch"), "AfXdpSocket: options.batch", 1,
					   CB_XSK_MAX_BATCH);
		o.zero_copy = BoolArg(opts.Get("zeroCopy"), "AfXdpSocket: options.zeroCopy") ? 1
											     : 0;
		if (o.frame_bytes != 2048 && o.frame_bytes != 4096)
			throw Napi::RangeError::New(
				env, "AfXdpSocket: options.frameBytes must be 2048 or 4096");
		if (o.ring_size & (o.ring_size - 1))
			throw Napi::RangeError::New(
				env, "AfXdpSocket: options.ringSize must be a power of two");
		if ((uint64_t)o.frame_count * o.frame_bytes > CB_XSK_MAX_UMEM)
			throw Napi::RangeError::New(
				env, "AfXdpSocket: frameCount × frameBytes must be at most 1 GiB");

		cb_error e{};
		if (cb_xsk_open(&sock_, &o, &e) < 0)
			throw CbJsError(env, e);
		owner_ = new UmemOwner{ sock_.umem, sock_.umem_len, true, true };
		Napi::ArrayBuffer umem;
		try {
			umem = Napi::ArrayBuffer::New(env, sock_.umem, sock_.umem_len,
						      BufferFinalized, owner_);
		} catch (...) {
			CloseSocket(); // no buffer was made: nothing in JS can see the memory
			delete owner_;
			owner_ = nullptr;
			throw;
		}
		umemRef_ = Napi::Weak(umem);
		Napi::Object self = info.This().As<Napi::Object>();
		self.DefineProperties({
			Napi::PropertyDescriptor::Value("umem", umem, napi_enumerable),
			// Not in binding.ts (yet): what the leftover state file records.
			Napi::PropertyDescriptor::Value(
				"progId", Napi::Number::New(env, sock_.prog_id), napi_enumerable),
			Napi::PropertyDescriptor::Value(
				"attachMode",
				Napi::String::New(env, sock_.attach_link ? "link" : "netlink"),
				napi_enumerable),
		});
	}

	// The finalizer path: the kernel objects go now; the memory when the buffer is gone too.
	~AfXdpSocket() override
	{
		cb_xsk_close(&sock_);
		if (owner_) {
			owner_->socket_alive = false;
			FreeIfUnowned(owner_);
			owner_ = nullptr;
		}
	}

private:
	void CloseSocket()
	{
		cb_xsk_close(&sock_);
		if (!owner_)
			return;
		if (owner_->buffer_alive && !umemRef_.IsEmpty()) {
			Napi::Value v = umemRef_.Value();
			if (v.IsArrayBuffer()) {
				Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
				if (!ab.IsDetached())
					ab.Detach(); // before the unmap: no JS view may outlive the memory
			}
		}
		cb_xsk_free_umem(owner_->area, owner_->len);
		owner_->area = nullptr;
		umemRef_.Reset();
	}

	friend class CaptureBinding<AfXdpSocket>;

	bool IsOpen() const { return sock_.fd >= 0; }
	const char *Ifname() const { return sock_.ifname; }

	void DescribeClosed(cb_error *e, const char *method)
	{
		cb_fail(e, EBADF, "%s on AfXdpSocket for %s queue %u: already closed", method,
			sock_.ifname, sock_.queue);
	}

	Napi::Value Receive(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "receive");
		uint32_t max = (uint32_t)IntArg(info[1], "receive: maxFrames", 1, CB_XSK_MAX_BATCH);
		ArrayArg<uint32_t> table = TableArg(info, 0, "receive: table", 2 * (size_t)max);
		int timeout = MsArg(info, 2, "receive: timeoutMs");
		cb_error e{};
		int n = cb_xsk_receive(&sock_, table.Data(), max, timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	int Consume(const Napi::CallbackInfo &info, cb_count *count, cb_error *e)
	{
		cb_slice slice = ConsumeNativeArgs(info, 0, 1);
		return cb_xsk_consume(&sock_, &slice, count, e);
	}

	int ReadStats(StatsFields &out, cb_error *e)
	{
		cb_xsk_stats st{};
		if (cb_xsk_read_stats(&sock_, &st, e) < 0)
			return -1;
		out.Add("rxDropped", (double)st.rx_dropped);
		out.Add("rxInvalid", (double)st.rx_invalid);
		out.Add("rxRingFull", (double)st.rx_ring_full);
		out.Add("fillRingEmpty", (double)st.fill_ring_empty);
		// Descriptors the kernel has put on the rx ring since open.
		out.Add("rxProduced", (double)cb_xsk_produced(&sock_));
		out.Add("calls", (double)sock_.calls.syscalls);
		out.Add("wakeups", (double)sock_.calls.wakeups);
		return 0;
	}

	void Close(const Napi::CallbackInfo &) { CloseSocket(); }

	cb_xsk sock_{};
	UmemOwner *owner_ = nullptr;
	Napi::Reference<Napi::ArrayBuffer> umemRef_;
};

Napi::Value Probe(const Napi::CallbackInfo &info)
{
	char why[256], version[128];
	int ok = cb_xsk_probe(why, sizeof(why), version, sizeof(version));
	return ProbeResult(info.Env(), ok == 1, ok == 1 ? "" : why, version);
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("afXdpProbe", Napi::Function::New(env, Probe, "afXdpProbe"));
	exports.Set("AfXdpSocket", AfXdpSocket::Define(env));
}

static const AddonPart kPart(Init);
