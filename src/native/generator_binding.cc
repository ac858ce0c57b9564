#include "addon.h"

// placeholder until implemented
void InitGenerator(Napi::Env, Napi::Object) {}
