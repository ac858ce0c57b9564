#include "addon.h"

// placeholder until implemented
void InitPacketMmap(Napi::Env, Napi::Object) {}
