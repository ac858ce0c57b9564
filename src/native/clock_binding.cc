#include "addon.h"

// placeholder until implemented
void InitClock(Napi::Env, Napi::Object) {}
