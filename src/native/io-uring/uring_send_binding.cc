// IoUringSender and ioUringSendProbe: the io-uring send methods' native handle (uring_send.c), with
// the Sender interface of src/senders/sender-session.ts as every send method has it
// (send/sender_binding.h). Here: its options, its C calls, and the probe.
#include <climits>
#include <cstdint>
#include <string>

#include "../send/sender_binding.h"
#include "addon.h"
#include "uring_send.h"

namespace {

class IoUringSender : public SenderBinding<IoUringSender, cb_uring_sender> {
public:
	using SenderBinding::SenderBinding;

	static constexpr const char *kClassName = "IoUringSender";
	static constexpr SenderCalls<cb_uring_sender> kCalls = {
		cb_uring_send_one,
		cb_uring_send_batch,
		cb_uring_send_wait,
		cb_uring_send_loop,
		cb_uring_send_finish,
		NothingToEnd<cb_uring_sender>,
		[](cb_uring_sender *u, cb_send_stats *out, cb_error *e) {
			return cb_sender_stats(&u->s, out, e);
		},
		cb_uring_send_close,
	};

	static SenderFields Fields(cb_uring_sender &u)
	{
		return { u.s.fd >= 0, u.s.ifname, u.s.batch, &u.s.area, u.s.area_len };
	}

	// The options are SenderOptions: kind 'udp'; call 'send' (one entry per io_uring_enter)
	// or 'sendmmsg' (batches of `batch` entries per enter); zerocopy: IORING_OP_SEND_ZC.
	static int Open(const Napi::Object &opts, cb_uring_sender &u, cb_error *e)
	{
		cb_sender_options o{};
		std::string kind = StringOption(opts, "kind");
		if (kind != "udp")
			throw OptionRange(opts, "kind", "must be 'udp', not '" + kind + "'");
		o.kind = CB_SEND_UDP;
		std::string call = StringOption(opts, "call");
		if (call == "send")
			o.call = CB_CALL_SEND;
		else if (call == "sendmmsg")
			o.call = CB_CALL_SENDMMSG;
		else
			throw OptionRange(opts, "call",
					  "must be 'send' or 'sendmmsg' (batches), not '" + call +
						  "'");
		std::string netns;
		o.netns_path = NetnsOption(opts, netns);

		// The rest is checked where the socket is opened (cb_sender_open), in its words.
		std::string ifname = StringOption(opts, "ifname");
		o.ifname = ifname.c_str();
		if (BoolOption(opts, "qdiscBypass"))
			throw OptionRange(opts, "qdiscBypass", "is for packet senders only");
		std::string src = StringOption(opts, "srcAddr");
		std::string dst = StringOption(opts, "dstAddr");
		o.src_addr = src.c_str();
		o.dst_addr = dst.c_str();
		o.dst_port = (uint16_t)IntOption(opts, "dstPort", 1, 65535);
		o.zerocopy = BoolOption(opts, "zerocopy");
		if (IntOption(opts, "gsoSize", 0, 65535) != 0)
			throw OptionRange(opts, "gsoSize", "must be 0: io_uring sends datagrams");
		o.batch = (uint32_t)IntOption(opts, "batch", 1, CB_SEND_MAX_BATCH);
		UnusedIntOption(opts, "maxFrameBytes");

		DataOption(opts, &o.data, &o.data_len);

		return cb_uring_send_open(&u, &o, e);
	}
};

// ioUringSendProbe(zerocopy): whether io_uring (and, zero-copy, SEND_ZC) can send here.
Napi::Value Probe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsBoolean())
		throw Napi::TypeError::New(env, "ioUringSendProbe: zerocopy must be a boolean");
	cb_error e{};
	bool ok = cb_uring_send_probe(info[0].As<Napi::Boolean>().Value(), &e) == 0;
	return ProbeResult(env, ok, ok ? "" : CbErrorText(e), "");
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("IoUringSender", IoUringSender::Define(env));
	exports.Set("ioUringSendProbe", Napi::Function::New(env, Probe, "ioUringSendProbe"));
}

static const AddonPart kPart(Init);
