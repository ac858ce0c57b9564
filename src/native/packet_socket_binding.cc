#include "addon.h"

// placeholder until implemented
void InitPacketSocket(Napi::Env, Napi::Object) {}
