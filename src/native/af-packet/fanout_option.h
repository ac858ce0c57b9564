// options.fanout as PacketSocket and PacketMmapRing take it: absent or null for no group, else
// { mode: 'hash' | 'cpu' | 'lb' | 'qm', group: 0 (a new group) .. 65535 }.
#ifndef CAPBENCH_FANOUT_OPTION_H
#define CAPBENCH_FANOUT_OPTION_H

#include <napi.h>

#include <cstdint>
#include <string>

#include "napi_args.h"
#include "packet_socket.h"

inline cb_fanout FanoutOption(const Napi::Object &opts, const char *className)
{
	cb_fanout f{};
	Napi::Value v = opts.Get("fanout");
	if (v.IsUndefined() || v.IsNull())
		return f;
	const std::string who = std::string(className) + ": options.fanout";
	if (!v.IsObject())
		throw Napi::TypeError::New(opts.Env(), who + " must be an object or null");
	Napi::Object o = v.As<Napi::Object>();
	Napi::Value mode = o.Get("mode");
	if (!mode.IsString() ||
	    cb_fanout_type(mode.As<Napi::String>().Utf8Value().c_str(), &f.type) < 0)
		throw Napi::TypeError::New(opts.Env(),
					   who + ".mode must be 'hash', 'cpu', 'lb' or 'qm'");
	f.group =
		(uint32_t)IntArg(o.Get("group"), (who + ".group").c_str(), 0, CB_FANOUT_MAX_GROUP);
	f.enabled = 1;
	return f;
}

#endif
