// The addon's parts, one per kernel mechanism: each binding file registers the function that sets
// its exports with `static const AddonPart kPart(Init);`, and addon.cc calls them all when Node
// loads the addon. A new binding file adds itself: nothing else lists it.
#ifndef CAPBENCH_ADDON_H
#define CAPBENCH_ADDON_H

#include <napi.h>

using AddonInit = void (*)(Napi::Env env, Napi::Object exports);

class AddonPart {
public:
	explicit AddonPart(AddonInit init);
};

#endif
