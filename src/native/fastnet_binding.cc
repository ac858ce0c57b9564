#include "addon.h"

// placeholder until implemented
void InitFastnet(Napi::Env, Napi::Object) {}
