#include "addon.h"

#include <vector>

namespace {

// A function-local static: the parts register from other files' static initialisers, in an
// order the linker chooses, so the list must exist before the first of them runs.
std::vector<AddonInit> &Parts()
{
	static std::vector<AddonInit> parts;
	return parts;
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	for (AddonInit init : Parts())
		init(env, exports);
	return exports;
}

} // namespace

AddonPart::AddonPart(AddonInit init)
{
	Parts().push_back(init);
}

NODE_API_MODULE(capbench, Init)
