// countTable: the C counter over a JS table, so tests can prove it agrees with the TS one.
#include <string>

#include "addon.h"
#include "counter.h"
#include "napi_args.h"

namespace {

uint32_t FramesArg(const Napi::CallbackInfo &info, size_t i, size_t max_frames)
{
	Napi::Value v = info[i];
	if (!v.IsNumber())
		throw Napi::TypeError::New(info.Env(), "countTable: frames must be a number");
	double d = v.As<Napi::Number>().DoubleValue();
	if (!(d >= 0) || d != (double)(uint64_t)d || d > (double)max_frames)
		throw Napi::RangeError::New(info.Env(),
					    "countTable: frames must be an integer from 0 to " +
						    std::to_string(max_frames) +
						    " (table holds that many pairs)");
	return (uint32_t)d;
}

Napi::Value CountTable(const Napi::CallbackInfo &info)
{
	ArrayArg<uint8_t> buf = BytesArg(info, 0, "countTable: buf");
	ArrayArg<uint32_t> table = TableArg(info, 1, "countTable: table", 0);
	uint32_t n = FramesArg(info, 2, table.ElementLength() / 2);

	long bad = cb_table_first_bad(buf.ByteLength(), table.Data(), n);
	if (bad >= 0) {
		throw Napi::RangeError::New(
			info.Env(), "countTable: pair " + std::to_string(bad) + " (offset " +
					    std::to_string(table.Data()[2 * bad]) + ", length " +
					    std::to_string(table.Data()[2 * bad + 1]) +
					    ") lies outside the buffer (" +
					    std::to_string(buf.ByteLength()) + " bytes)");
	}
	uint64_t ipv4 = cb_count_table(buf.Data(), buf.ByteLength(), table.Data(), n);
	return Napi::Number::New(info.Env(), (double)ipv4);
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("countTable", Napi::Function::New(env, CountTable, "countTable"));
}

static const AddonPart kPart(Init);
