// IoUringSocket and ioUringProbe: io-uring's socket and ring as a JS class. `buffers` is the
// provided-buffer area as an external ArrayBuffer, where the js tier reads frames in place;
// close() (and the finalizer) detach it before unmapping, as PacketMmapRing does its ring.
#include <climits>
#include <string>

#include "../af-packet/fanout_option.h"
#include "addon.h"
#include "capture_binding.h"
#include "external_area.h"
#include "io_uring_recv.h"

namespace {

class IoUringSocket : public CaptureBinding<IoUringSocket> {
public:
	static constexpr const char *kClassName = "IoUringSocket";

	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(
			env, kClassName,
			{ InstanceAccessor("buffers", &IoUringSocket::Buffers, nullptr),
			  InstanceAccessor("fanoutGroup", &IoUringSocket::FanoutGroup, nullptr),
			  InstanceMethod("next", &IoUringSocket::Next),
			  InstanceMethod("consumeNative", &IoUringSocket::ConsumeNative),
			  InstanceMethod("stats", &IoUringSocket::Stats),
			  InstanceMethod("close", &IoUringSocket::Close) });
	}

	explicit IoUringSocket(const Napi::CallbackInfo &info) : CaptureBinding<IoUringSocket>(info)
	{
		u_.ring_fd = -1;
		u_.sock.fd = -1;
		Napi::Env env = info.Env();
		Napi::Object opts = OptionsArg(info);
		std::string name = IfnameOption(opts);
		cb_fanout fanout = FanoutOption(opts, kClassName);
		cb_uring_options o{};
		o.ifname = name.c_str();
		o.rcvbuf_bytes = (int)IntArg(opts.Get("rcvbufBytes"),
					     "IoUringSocket: options.rcvbufBytes", 0, INT_MAX);
		o.fanout = &fanout;
		cb_error e{};
		if (cb_uring_open(&u_, &o, &e) < 0)
			throw CbJsError(env, e);
		try {
			buffers_.Share(env, u_.buffers, u_.buffers_len);
		} catch (...) {
			cb_uring_close(&u_);
			throw;
		}
	}

	void Finalize(Napi::Env env) override { buffers_.DetachQuietly(env); }

	// A buffer area still viewed from JS is left mapped rather than freed under the view.
	~IoUringSocket() override
	{
		if (buffers_.Detached())
			cb_uring_close(&u_);
	}

private:
	friend class CaptureBinding<IoUringSocket>;

	bool IsOpen() const { return u_.ring_fd >= 0; }
	const char *Ifname() const { return u_.sock.ifname; }

	Napi::Value Buffers(const Napi::CallbackInfo &) { return buffers_.Value(); }

	Napi::Value FanoutGroup(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), u_.sock.fanout_group);
	}

	// next(table, maxFrames, timeoutMs): frames as (offset in buffers, length) pairs.
	Napi::Value Next(const Napi::CallbackInfo &info)
	{
		RequireOpen(info.Env(), "next");
		uint32_t max = (uint32_t)IntArg(info[1], "next: maxFrames", 1, CB_URING_MAX_TAKE);
		ArrayArg<uint32_t> table = TableArg(info, 0, "next: table", 2 * (size_t)max);
		int timeout = MsArg(info, 2, "next: timeoutMs");
		cb_error e{};
		int n = cb_uring_next(&u_, max, table.Data(), timeout, &e);
		if (n < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), n);
	}

	int Consume(const Napi::CallbackInfo &info, cb_count *count, cb_error *e)
	{
		cb_slice slice = ConsumeNativeArgs(info, 0, 1);
		return cb_uring_consume(&u_, &slice, count, e);
	}

	int ReadStats(StatsFields &out, cb_error *e)
	{
		uint64_t packets, drops;
		if (cb_uring_stats(&u_, &packets, &drops, e) < 0)
			return -1;
		out.Add("packets", (double)packets);
		out.Add("drops", (double)drops);
		out.Add("calls", (double)u_.calls.syscalls);
		out.Add("wakeups", (double)u_.calls.wakeups);
		return 0;
	}

	void Close(const Napi::CallbackInfo &)
	{
		buffers_.Detach(); // throws if it cannot: then nothing is unmapped
		cb_uring_close(&u_);
	}

	cb_uring u_{};
	ExternalArea buffers_;
};

Napi::Value Probe(const Napi::CallbackInfo &info)
{
	cb_error e{};
	bool ok = cb_uring_probe(&e) == 0;
	return ProbeResult(info.Env(), ok, ok ? "" : CbErrorText(e), "");
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("IoUringSocket", IoUringSocket::Define(env));
	exports.Set("ioUringProbe", Napi::Function::New(env, Probe, "ioUringProbe"));
}

static const AddonPart kPart(Init);
