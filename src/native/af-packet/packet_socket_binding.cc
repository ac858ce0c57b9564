// PacketSocket: the AF_PACKET SOCK_RAW handle as a JS class.
#include <climits>
#include <string>

#include "addon.h"
#include "capture_binding.h"
#include "fanout_option.h"
#include "packet_socket.h"

namespace {

class PacketSocket : public CaptureBinding<PacketSocket> {
public:
	static constexpr const char *kClassName = "PacketSocket";

	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(
			env, kClassName,
			{ InstanceAccessor("fanoutGroup", &PacketSocket::FanoutGroup, nullptr),
			  InstanceMethod("recvOne", &PacketSocket::RecvOne),
			  InstanceMethod("recvBatch", &PacketSocket::RecvBatch),
			  InstanceMethod("consumeNative", &PacketSocket::ConsumeNative),
			  InstanceMethod("stats", &PacketSocket::Stats),
			  InstanceMethod("close", &PacketSocket::Close) });
	}

	explicit PacketSocket(const Napi::CallbackInfo &info) : CaptureBinding<PacketSocket>(info)
	{
		sock_.fd = -1;
		Napi::Object opts = OptionsArg(info);
		std::string ifname = IfnameOption(opts);
		int rcvbuf = (int)IntArg(opts.Get("rcvbufBytes"),
					 "PacketSocket: options.rcvbufBytes", 0, INT_MAX);
		cb_fanout fanout = FanoutOption(opts, "PacketSocket");
		cb_error e{};
		if (cb_psock_open(&sock_, ifname.c_str(), rcvbuf, &fanout, &e) < 0)
			throw CbJsError(info.Env(), e);
	}

	// The finalizer path: a socket JS forgot to close must not leak its fd.
	~PacketSocket() override { cb_psock_close(&sock_); }

private:
	friend class CaptureBinding<PacketSocket>;

	bool IsOpen() const { return sock_.fd >= 0; }
	const char *Ifname() const { return sock_.ifname; }

	Napi::Value FanoutGroup(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), sock_.fanout_group);
	}

	Napi::Value RecvOne(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "recvOne");
		ArrayArg<uint8_t> buf = BytesArg(info, 0, "recvOne: buf");
		ArrayArg<uint32_t> table = TableArg(info, 1, "recvOne: table", 2);
		int timeout = MsArg(info, 2, "recvOne: timeoutMs");
		if (buf.ByteLength() < CB_PSOCK_MIN_SLOT)
			throw Napi::RangeError::New(
				info.Env(), "recvOne: buf must hold at least " +
						    std::to_string(CB_PSOCK_MIN_SLOT) + " bytes");
		cb_error e{};
		int n = cb_psock_recv_one(&sock_, buf.Data(), buf.ByteLength(), table.Data(),
					  timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	Napi::Value RecvBatch(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "recvBatch");
		ArrayArg<uint8_t> buf = BytesArg(info, 0, "recvBatch: buf");
		uint32_t max =
			(uint32_t)IntArg(info[2], "recvBatch: maxFrames", 1, CB_PSOCK_MAX_BATCH);
		ArrayArg<uint32_t> table = TableArg(info, 1, "recvBatch: table", 2 * (size_t)max);
		int timeout = MsArg(info, 3, "recvBatch: timeoutMs");
		if (buf.ByteLength() / max < CB_PSOCK_MIN_SLOT)
			throw Napi::RangeError::New(
				info.Env(),
				"recvBatch: buf must hold maxFrames slots of at least " +
					std::to_string(CB_PSOCK_MIN_SLOT) + " bytes");
		cb_error e{};
		int n = cb_psock_recv_batch(&sock_, buf.Data(), buf.ByteLength(), max, table.Data(),
					    timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	// consumeNative(maxFrames, batch, sliceMs, idleMs): the one with a batch of its own.
	int Consume(const Napi::CallbackInfo &info, cb_count *count, cb_error *e)
	{
		uint32_t batch =
			(uint32_t)IntArg(info[1], "consumeNative: batch", 1, CB_PSOCK_MAX_BATCH);
		cb_slice slice = ConsumeNativeArgs(info, 0, 2);
		return cb_psock_consume(&sock_, &slice, batch, count, e);
	}

	int ReadStats(StatsFields &out, cb_error *e)
	{
		uint64_t packets, drops;
		if (cb_psock_stats(&sock_, &packets, &drops, e) < 0)
			return -1;
		out.Add("packets", (double)packets);
		out.Add("drops", (double)drops);
		out.Add("calls", (double)sock_.calls.syscalls);
		out.Add("wakeups", (double)sock_.calls.wakeups);
		return 0;
	}

	void Close(const Napi::CallbackInfo &) { cb_psock_close(&sock_); }

	cb_psock sock_{};
};

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("PacketSocket", PacketSocket::Define(env));
}

static const AddonPart kPart(Init);
