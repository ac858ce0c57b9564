// JS face of the send benchmark's sink: `new Sink(options)`, port, start(), status(), stop(),
// close(). Only argument checking and conversion live here; everything else is in sink.c.
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>

#include <string>

#include "addon.h"
#include "js_error.h"
#include "napi_args.h"
#include "sink.h"

namespace {

std::string StringField(const Napi::Object &o, const char *name)
{
	Napi::Value v = o.Get(name);
	if (!v.IsString())
		throw Napi::TypeError::New(o.Env(), std::string("Sink: options.") + name +
							    " must be a string");
	return v.As<Napi::String>().Utf8Value();
}

double NumberField(const Napi::Object &o, const char *name, double lo, double hi)
{
	return IntArg(o.Get(name), (std::string("Sink: options.") + name).c_str(), lo, hi);
}

class SinkWrap : public Napi::ObjectWrap<SinkWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Sink",
				   {
					   InstanceAccessor("port", &SinkWrap::Port, nullptr),
					   InstanceMethod("start", &SinkWrap::Start),
					   InstanceMethod("status", &SinkWrap::Status),
					   InstanceMethod("stop", &SinkWrap::Stop),
					   InstanceMethod("close", &SinkWrap::Close),
				   });
	}

	explicit SinkWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<SinkWrap>(info)
	{
		Napi::Env env = info.Env();
		if (info.Length() < 1 || !info[0].IsObject())
			throw Napi::TypeError::New(env, "Sink: expected an options object");
		Napi::Object o = info[0].As<Napi::Object>();

		Napi::Value kv = o.Get("kind");
		std::string kind = kv.IsString() ? kv.As<Napi::String>().Utf8Value() : "";
		cb_sink_options opts{};
		if (kind == "frames")
			opts.kind = CB_SINK_FRAMES;
		else if (kind == "udp")
			opts.kind = CB_SINK_UDP;
		else if (kind == "tcp")
			opts.kind = CB_SINK_TCP;
		else
			throw Napi::TypeError::New(
				env, "Sink: options.kind must be 'frames', 'udp' or 'tcp'");

		// Each kind needs only its own fields; the others may be left out.
		std::string ifname, addr;
		if (opts.kind == CB_SINK_FRAMES) {
			ifname = StringField(o, "ifname");
			if (ifname.empty() || ifname.size() >= IF_NAMESIZE)
				throw Napi::RangeError::New(
					env, "Sink: options.ifname must be 1 to " +
						     std::to_string(IF_NAMESIZE - 1) +
						     " characters");
		} else {
			addr = StringField(o, "addr");
			unsigned char any[sizeof(struct in6_addr)];
			if (inet_pton(AF_INET, addr.c_str(), any) != 1 &&
			    inet_pton(AF_INET6, addr.c_str(), any) != 1)
				throw Napi::RangeError::New(
					env, "Sink: options.addr must be a numeric IPv4 or IPv6 "
					     "address, not '" +
						     addr + "'");
			opts.port = static_cast<uint16_t>(NumberField(o, "port", 0, 65535));
		}
		opts.ifname = ifname.c_str();
		opts.addr = addr.c_str();
		opts.buffer_bytes = static_cast<uint32_t>(
			NumberField(o, "bufferBytes", 1, CB_SINK_MAX_BUFFER_BYTES));
		opts.cpu = static_cast<int>(NumberField(o, "cpu", -1, CPU_SETSIZE - 1));

		cb_error e{};
		sink_ = cb_sink_open(&opts, &e);
		if (!sink_)
			throw CbJsError(env, e);
	}

	~SinkWrap() override
	{
		// Runs in the GC finalizer as well: never leave a thread reading after its handle is gone.
		cb_sink_destroy(sink_);
	}

private:
	Napi::Value Port(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), cb_sink_port(sink_));
	}

	Napi::Value Start(const Napi::CallbackInfo &info)
	{
		cb_error e{};
		if (cb_sink_start(sink_, &e) < 0)
			throw CbJsError(info.Env(), e);
		return info.Env().Undefined();
	}

	Napi::Value Status(const Napi::CallbackInfo &info)
	{
		struct cb_sink_status st;
		cb_sink_status(sink_, &st);
		return ToObject(info.Env(), st);
	}

	Napi::Value Stop(const Napi::CallbackInfo &info)
	{
		struct cb_sink_status st;
		cb_sink_stop(sink_, &st);
		return ToObject(info.Env(), st);
	}

	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		cb_sink_close(sink_);
		return info.Env().Undefined();
	}

	static Napi::Object ToObject(Napi::Env env, const struct cb_sink_status &st)
	{
		Napi::Object o = Napi::Object::New(env);
		o.Set("running", Napi::Boolean::New(env, st.running));
		o.Set("units", Napi::Number::New(env, static_cast<double>(st.units)));
		o.Set("bytes", Napi::Number::New(env, static_cast<double>(st.bytes)));
		o.Set("ipv4", Napi::Number::New(env, static_cast<double>(st.ipv4)));
		o.Set("drops", Napi::Number::New(env, static_cast<double>(st.drops)));
		o.Set("eof", Napi::Boolean::New(env, st.eof));
		o.Set("cpuNs", Napi::Number::New(env, static_cast<double>(st.cpu_ns)));
		o.Set("readNs", Napi::Number::New(env, static_cast<double>(st.read_ns)));
		o.Set("lastNs", Napi::Number::New(env, static_cast<double>(st.last_ns)));
		if (st.has_error)
			o.Set("error", Napi::String::New(env, CbErrorText(st.error)));
		else
			o.Set("error", env.Null());
		return o;
	}

	cb_sink *sink_ = nullptr;
};

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("Sink", SinkWrap::Define(env));
}

static const AddonPart kPart(Init);
