#include "addon.h"

// placeholder until implemented
void InitAfXdp(Napi::Env, Napi::Object) {}
