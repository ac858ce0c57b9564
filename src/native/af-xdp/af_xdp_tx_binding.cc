// AfXdpSender: the AF_XDP send method's native handle (af_xdp_tx.c), with the Sender interface of
// src/senders/sender-session.ts as every send method has it (send/sender_binding.h). `data` is
// the UMEM, unit i in chunk i. Here: its options and its C calls.
#include <cstdint>
#include <string>

#include "../send/sender_binding.h"
#include "addon.h"
#include "af_xdp_tx.h"

namespace {

class AfXdpSender : public SenderBinding<AfXdpSender, cb_xsk_tx> {
public:
	using SenderBinding::SenderBinding;

	static constexpr const char *kClassName = "AfXdpSender";
	static constexpr SenderCalls<cb_xsk_tx> kCalls = {
		cb_xsk_tx_send_one,
		cb_xsk_tx_send_batch,
		cb_xsk_tx_wait,
		cb_xsk_tx_loop,
		cb_xsk_tx_finish,
		NothingToEnd<cb_xsk_tx>,
		[](cb_xsk_tx *s, cb_send_stats *out, cb_error *) {
			// Handed over is not taken: a unit is taken once its descriptor completes. No
			// MSG_ZEROCOPY here: AF_XDP's zero-copy is the driver reading the UMEM.
			out->calls = s->st.calls;
			out->waits = s->st.waits;
			out->retries = s->st.retries;
			out->taken = cb_xsk_tx_taken(s);
			out->bytes = cb_xsk_tx_bytes(s);
			return 0;
		},
		cb_xsk_tx_close,
	};

	static SenderFields Fields(cb_xsk_tx &s)
	{
		return { s.fd >= 0, s.ifname, s.batch, &s.umem, s.umem_len };
	}

	static void DescribeClosed(cb_xsk_tx &s, cb_error *e, const char *method)
	{
		cb_fail(e, EBADF, "%s on AfXdpSender on %s: already closed", method, s.ifname);
	}

	// SenderOptions (only netnsPath, ifname, batch and data count), and the units.
	static int Open(const Napi::Object &opts, cb_xsk_tx &s, cb_error *e)
	{
		cb_xsk_tx_options o{};
		std::string netns;
		o.netns_path = NetnsOption(opts, netns);
		std::string ifname = IfnameOption(opts);
		o.ifname = ifname.c_str();
		o.batch = (uint32_t)IntOption(opts, "batch", 1, CB_XSK_TX_MAX_BATCH);
		DataOption(opts, &o.data, &o.data_len);

		// The units, known at open: each gets its UMEM chunk now, and sends only point at it.
		uint32_t units = (uint32_t)IntOption(opts, "units", 1, UINT32_MAX / 2);
		Napi::Uint32Array table = ArrayOption<Napi::Uint32Array>(
			opts, "table", napi_uint32_array, "Uint32Array");
		if (table.ElementLength() < 2 * (size_t)units)
			throw OptionRange(opts, "table",
					  "needs at least " + std::to_string(2 * (size_t)units) +
						  " entries");
		o.units = table.Data();
		o.nunits = units;

		return cb_xsk_tx_open(&s, &o, e);
	}
};

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("AfXdpSender", AfXdpSender::Define(env));
}

static const AddonPart kPart(Init);
