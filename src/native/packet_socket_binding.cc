// PacketSocket: the AF_PACKET SOCK_RAW handle as a JS class.
#include <climits>
#include <string>

#include "addon.h"
#include "js_error.h"
#include "napi_args.h"
#include "packet_socket.h"

namespace {

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "PacketSocket",
				   { InstanceMethod("recvOne", &PacketSocket::RecvOne),
				     InstanceMethod("recvBatch", &PacketSocket::RecvBatch),
				     InstanceMethod("consumeNative", &PacketSocket::ConsumeNative),
				     InstanceMethod("stats", &PacketSocket::Stats),
				     InstanceMethod("close", &PacketSocket::Close) });
	}

	explicit PacketSocket(const Napi::CallbackInfo &info) : Napi::ObjectWrap<PacketSocket>(info)
	{
		sock_.fd = -1;
		if (!info[0].IsObject())
			throw Napi::TypeError::New(info.Env(), "PacketSocket: options must be an object");
		Napi::Object opts = info[0].As<Napi::Object>();
		Napi::Value ifname = opts.Get("ifname");
		if (!ifname.IsString())
			throw Napi::TypeError::New(info.Env(), "PacketSocket: options.ifname must be a string");
		int rcvbuf = (int)IntArg(opts.Get("rcvbufBytes"), "PacketSocket: options.rcvbufBytes", 0, INT_MAX);
		cb_error e{};
		if (cb_psock_open(&sock_, ifname.As<Napi::String>().Utf8Value().c_str(), rcvbuf, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	// The finalizer path: a socket JS forgot to close must not leak its fd.
	~PacketSocket() override { cb_psock_close(&sock_); }

private:
	void RequireOpen(Napi::Env env, const char *method)
	{
		if (sock_.fd >= 0)
			return;
		cb_error e{};
		cb_fail(&e, EBADF, "%s on PacketSocket for %s: already closed", method, sock_.ifname);
		throw CbJsError(env, e);
	}

	Napi::Value RecvOne(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "recvOne");
		ArrayArg<uint8_t> buf = BytesArg(info, 0, "recvOne: buf");
		ArrayArg<uint32_t> table = TableArg(info, 1, "recvOne: table", 2);
		int timeout = MsArg(info, 2, "recvOne: timeoutMs");
		if (buf.ByteLength() < CB_PSOCK_MIN_SLOT)
			throw Napi::RangeError::New(info.Env(), "recvOne: buf must hold at least " +
								std::to_string(CB_PSOCK_MIN_SLOT) + " bytes");
		cb_error e{};
		int n = cb_psock_recv_one(&sock_, buf.Data(), buf.ByteLength(), table.Data(), timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	Napi::Value RecvBatch(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "recvBatch");
		ArrayArg<uint8_t> buf = BytesArg(info, 0, "recvBatch: buf");
		uint32_t max = (uint32_t)IntArg(info[2], "recvBatch: maxFrames", 1, CB_PSOCK_MAX_BATCH);
		ArrayArg<uint32_t> table = TableArg(info, 1, "recvBatch: table", 2 * (size_t)max);
		int timeout = MsArg(info, 3, "recvBatch: timeoutMs");
		if (buf.ByteLength() / max < CB_PSOCK_MIN_SLOT)
			throw Napi::RangeError::New(info.Env(),
				"recvBatch: buf must hold maxFrames slots of at least " +
				std::to_string(CB_PSOCK_MIN_SLOT) + " bytes");
		cb_error e{};
		int n = cb_psock_recv_batch(&sock_, buf.Data(), buf.ByteLength(), max, table.Data(),
					    timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	Napi::Value ConsumeNative(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "consumeNative");
		uint32_t batch = (uint32_t)IntArg(info[1], "consumeNative: batch", 1, CB_PSOCK_MAX_BATCH);
		ConsumeArgs a = ConsumeNativeArgs(info, 0, 2);
		cb_count count{};
		cb_error e{};
		if (cb_psock_consume(&sock_, a.max_frames, batch, a.slice_ms, a.idle_ms, &count, &e) < 0)
			throw CbJsError(info.Env(), e);
		return CountObject(info.Env(), count);
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "stats");
		uint64_t packets, drops;
		cb_error e{};
		if (cb_psock_stats(&sock_, &packets, &drops, &e) < 0)
			throw CbJsError(info.Env(), e);
		Napi::Object out = Napi::Object::New(info.Env());
		out.Set("packets", Napi::Number::New(info.Env(), (double)packets));
		out.Set("drops", Napi::Number::New(info.Env(), (double)drops));
		return out;
	}

	void Close(const Napi::CallbackInfo &) { cb_psock_close(&sock_); }

	cb_psock sock_{};
};

} // namespace

void InitPacketSocket(Napi::Env env, Napi::Object exports)
{
	exports.Set("PacketSocket", PacketSocket::Define(env));
}
