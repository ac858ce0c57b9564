// Sender and senderProbe: the packet, UDP and TCP send methods' native handle (sender.c), with the
// Sender interface of src/senders/sender-session.ts as every send method has it
// (sender_binding.h). Here: its options, its C calls, and the probe.
#include <arpa/inet.h>
#include <sys/utsname.h>

#include <climits>
#include <cstdint>
#include <string>

#include "addon.h"
#include "sender.h"
#include "sender_binding.h"

namespace {

class SenderWrap : public SenderBinding<SenderWrap, cb_sender> {
public:
	using SenderBinding::SenderBinding;

	static constexpr const char *kClassName = "Sender";
	static constexpr SenderCalls<cb_sender> kCalls = {
		cb_sender_send_one,   // send
		cb_sender_send_batch, // sendBatch
		cb_sender_wait,	      // wait
		cb_sender_loop,	      // runNative
		cb_sender_finish,     // finish
		cb_sender_shutdown,   // shutdown
		cb_sender_stats,      // stats
		cb_sender_close,      // close
	};

	static SenderFields Fields(cb_sender &s)
	{
		return { s.fd >= 0, s.ifname, s.batch, &s.area, s.area_len };
	}

	static void DescribeClosed(cb_sender &s, cb_error *e, const char *method)
	{
		cb_fail(e, EBADF, "%s on the %s Sender on %s: already closed", method,
			KindName(s.kind), s.ifname);
	}

	static int Open(const Napi::Object &opts, cb_sender &s, cb_error *e)
	{
		cb_sender_options o{};
		o.kind = KindOption(opts);
		o.call = CallOption(opts);
		bool inet = o.kind != CB_SEND_PACKET;

		std::string netns;
		o.netns_path = NetnsOption(opts, netns);
		std::string ifname = IfnameOption(opts);
		o.ifname = ifname.c_str();
		if (o.kind == CB_SEND_TCP && o.call != CB_CALL_SEND)
			throw OptionRange(opts, "call", "must be 'send' for a tcp sender");
		if (o.call == CB_CALL_TX_RING && o.kind != CB_SEND_PACKET)
			throw OptionRange(opts, "call", "'tx-ring' is for packet senders only");

		o.qdisc_bypass = BoolOption(opts, "qdiscBypass");
		if (o.qdisc_bypass && inet)
			throw OptionRange(opts, "qdiscBypass", "is for packet senders only");

		std::string src = StringOption(opts, "srcAddr");
		std::string dst = StringOption(opts, "dstAddr");
		o.dst_port = (uint16_t)IntOption(opts, "dstPort", 0, 65535);
		if (inet) {
			CheckIpv4(opts, "srcAddr", src);
			CheckIpv4(opts, "dstAddr", dst);
			if (o.dst_port == 0)
				throw OptionRange(opts, "dstPort", "must be 1 to 65535");
		}
		o.src_addr = src.c_str();
		o.dst_addr = dst.c_str();

		o.zerocopy = BoolOption(opts, "zerocopy");
		if (o.zerocopy && !inet)
			throw OptionRange(opts, "zerocopy",
					  "is for udp and tcp senders (packet sockets have no "
					  "MSG_ZEROCOPY)");
		o.gso_size = (uint32_t)IntOption(opts, "gsoSize", 0, 65535);
		if (o.gso_size > 0 && o.kind != CB_SEND_UDP)
			throw OptionRange(opts, "gsoSize", "is for udp senders only");
		o.batch = (uint32_t)IntOption(opts, "batch", 1, CB_SEND_MAX_BATCH);

		if (o.call == CB_CALL_TX_RING)
			o.max_frame_bytes =
				(uint32_t)IntOption(opts, "maxFrameBytes", 14, CB_SEND_MAX_FRAME);
		else
			UnusedIntOption(opts, "maxFrameBytes");

		DataOption(opts, &o.data, &o.data_len);

		return cb_sender_open(&s, &o, e);
	}

private:
	static const char *KindName(cb_send_kind kind)
	{
		return kind == CB_SEND_PACKET ? "packet" : kind == CB_SEND_UDP ? "udp" : "tcp";
	}

	static void CheckIpv4(const Napi::Object &o, const char *name, const std::string &text)
	{
		in_addr a;
		if (inet_pton(AF_INET, text.c_str(), &a) != 1)
			throw OptionRange(o, name,
					  "must be a dotted IPv4 address, not '" + text + "'");
	}

	static cb_send_kind KindOption(const Napi::Object &o)
	{
		std::string kind = StringOption(o, "kind");
		if (kind == "packet")
			return CB_SEND_PACKET;
		if (kind == "udp")
			return CB_SEND_UDP;
		if (kind == "tcp")
			return CB_SEND_TCP;
		throw OptionRange(o, "kind",
				  "must be 'packet', 'udp' or 'tcp', not '" + kind + "'");
	}

	static cb_send_call CallOption(const Napi::Object &o)
	{
		std::string call = StringOption(o, "call");
		if (call == "send")
			return CB_CALL_SEND;
		if (call == "sendmmsg")
			return CB_CALL_SENDMMSG;
		if (call == "tx-ring")
			return CB_CALL_TX_RING;
		throw OptionRange(o, "call",
				  "must be 'send', 'sendmmsg' or 'tx-ring', not '" + call + "'");
	}
};

// senderProbe('udp-zerocopy' | 'tcp-zerocopy'): whether SO_ZEROCOPY is accepted here.
Napi::Value Probe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsString())
		throw Napi::TypeError::New(env, "senderProbe: kind must be a string");
	std::string kind = info[0].As<Napi::String>().Utf8Value();
	cb_send_kind k;
	if (kind == "udp-zerocopy")
		k = CB_SEND_UDP;
	else if (kind == "tcp-zerocopy")
		k = CB_SEND_TCP;
	else
		throw Napi::RangeError::New(env, "senderProbe: kind must be 'udp-zerocopy' or "
						 "'tcp-zerocopy', not '" +
							 kind + "'");
	cb_error e{};
	bool ok = cb_sender_probe_zerocopy(k, &e) == 0;
	struct utsname u;
	std::string version = uname(&u) == 0 ? std::string("Linux ") + u.release : "";
	return ProbeResult(env, ok, ok ? "" : CbErrorText(e), version);
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("Sender", SenderWrap::Define(env));
	exports.Set("senderProbe", Napi::Function::New(env, Probe, "senderProbe"));
}

static const AddonPart kPart(Init);
