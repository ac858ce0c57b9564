#include "addon.h"

// placeholder until implemented
void InitPcap(Napi::Env, Napi::Object) {}
