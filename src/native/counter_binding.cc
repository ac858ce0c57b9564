#include "addon.h"

// placeholder until implemented
void InitCounter(Napi::Env, Napi::Object) {}
