// JS face of the generator core: `new Generator(options)`, start(), status(), stop().
// Only argument checking and conversion live here; everything else is in generator.c.
#include <cmath>
#include <string>

#include "addon.h"
#include "generator.h"
#include "js_error.h"
#include "napi_args.h"

namespace {

double NumberField(const Napi::Object &o, const char *name, double min, double max, bool integer)
{
	Napi::Env env = o.Env();
	Napi::Value v = o.Get(name);
	if (!v.IsNumber())
		throw Napi::TypeError::New(env, std::string("Generator: options.") + name +
							" must be a number");
	double d = v.As<Napi::Number>().DoubleValue();
	if (std::isnan(d) || d < min || d > max || (integer && std::floor(d) != d))
		throw Napi::RangeError::New(env, std::string("Generator: options.") + name +
							 " is out of range (" + std::to_string(d) +
							 ")");
	return d;
}

class GeneratorWrap : public Napi::ObjectWrap<GeneratorWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Generator",
				   {
					   InstanceMethod("start", &GeneratorWrap::Start),
					   InstanceMethod("status", &GeneratorWrap::Status),
					   InstanceMethod("stop", &GeneratorWrap::Stop),
				   });
	}

	explicit GeneratorWrap(const Napi::CallbackInfo &info)
		: Napi::ObjectWrap<GeneratorWrap>(info)
	{
		Napi::Env env = info.Env();
		if (info.Length() < 1 || !info[0].IsObject())
			throw Napi::TypeError::New(env, "Generator: expected an options object");
		Napi::Object o = info[0].As<Napi::Object>();

		std::string netns;
		bool has_netns = false;
		Napi::Value nv = o.Get("netnsPath");
		if (nv.IsString()) {
			netns = nv.As<Napi::String>().Utf8Value();
			has_netns = true;
		} else if (!nv.IsNull() && !nv.IsUndefined()) {
			throw Napi::TypeError::New(
				env, "Generator: options.netnsPath must be a string or null");
		}

		Napi::Value iv = o.Get("ifname");
		if (!iv.IsString())
			throw Napi::TypeError::New(env,
						   "Generator: options.ifname must be a string");
		std::string ifname = iv.As<Napi::String>().Utf8Value();

		Napi::Value fv = o.Get("frames");
		if (!fv.IsTypedArray() ||
		    fv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
			throw Napi::TypeError::New(
				env, "Generator: options.frames must be a Uint8Array");
		Napi::Uint8Array frames = fv.As<Napi::Uint8Array>();

		Napi::Value lv = o.Get("frameLengths");
		if (!lv.IsTypedArray() ||
		    lv.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
			throw Napi::TypeError::New(
				env, "Generator: options.frameLengths must be a Uint32Array");
		Napi::Uint32Array lengths = lv.As<Napi::Uint32Array>();

		Napi::Value ev = o.Get("engine");
		std::string engine = ev.IsString() ? ev.As<Napi::String>().Utf8Value() : "";
		cb_gen_engine eng;
		if (engine == "sendmmsg")
			eng = CB_GEN_SENDMMSG;
		else if (engine == "tx-ring")
			eng = CB_GEN_TX_RING;
		else
			throw Napi::TypeError::New(
				env, "Generator: options.engine must be 'sendmmsg' or 'tx-ring'");

		cb_gen_options opts{};
		opts.netns_path = has_netns ? netns.c_str() : nullptr;
		opts.ifname = ifname.c_str();
		// Every getter runs before the buffers' pointers are taken: a getter could detach them.
		opts.count =
			static_cast<uint64_t>(NumberField(o, "count", 0, kMaxSafeInteger, true));
		opts.duration_ms = static_cast<uint64_t>(
			NumberField(o, "durationMs", 0, kMaxSafeInteger, true));
		opts.rate_pps = NumberField(o, "ratePps", 0, 1e12, false);
		opts.batch =
			static_cast<uint32_t>(NumberField(o, "batch", 1, CB_GEN_MAX_BATCH, true));
		opts.cpu = static_cast<int>(NumberField(o, "cpu", -1, 1 << 20, true));
		opts.engine = eng;
		Napi::Value stamp = o.Get("stamp");
		if (!stamp.IsUndefined() && !stamp.IsBoolean())
			throw Napi::TypeError::New(env,
						   "Generator: options.stamp must be a boolean");
		opts.stamp = stamp.IsBoolean() && stamp.As<Napi::Boolean>().Value();
		opts.frames = frames.Data();
		opts.frames_bytes = frames.ByteLength();
		opts.frame_lengths = lengths.Data();
		if (lengths.ElementLength() > UINT32_MAX)
			throw Napi::RangeError::New(env, "Generator: too many frames");
		opts.nframes = static_cast<uint32_t>(lengths.ElementLength());

		// cb_gen_create copies the frames before returning, so the JS buffers may move or be
		// collected as soon as the constructor is done.
		cb_error e{};
		gen_ = cb_gen_create(&opts, &e);
		if (!gen_)
			throw CbJsError(env, e);
	}

	~GeneratorWrap() override
	{
		// Runs in the GC finalizer as well: never leave a thread sending after its handle is gone.
		cb_gen_destroy(gen_);
	}

private:
	Napi::Value Start(const Napi::CallbackInfo &info)
	{
		cb_error e{};
		if (cb_gen_start(gen_, &e) < 0)
			throw CbJsError(info.Env(), e);
		return info.Env().Undefined();
	}

	Napi::Value Status(const Napi::CallbackInfo &info)
	{
		struct cb_gen_status st;
		cb_gen_status(gen_, &st);
		return ToObject(info.Env(), st);
	}

	Napi::Value Stop(const Napi::CallbackInfo &info)
	{
		struct cb_gen_status st;
		cb_gen_stop(gen_, &st);
		return ToObject(info.Env(), st);
	}

	static Napi::Object ToObject(Napi::Env env, const struct cb_gen_status &st)
	{
		Napi::Object o = Napi::Object::New(env);
		o.Set("running", Napi::Boolean::New(env, st.running));
		o.Set("sent", Napi::Number::New(env, static_cast<double>(st.sent)));
		o.Set("elapsedNs", Napi::Number::New(env, static_cast<double>(st.elapsed_ns)));
		o.Set("cpuNs", Napi::Number::New(env, static_cast<double>(st.cpu_ns)));
		if (st.has_error)
			o.Set("error", Napi::String::New(env, CbErrorText(st.error)));
		else
			o.Set("error", env.Null());
		return o;
	}

	cb_gen *gen_ = nullptr;
};

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("Generator", GeneratorWrap::Define(env));
}

static const AddonPart kPart(Init);
