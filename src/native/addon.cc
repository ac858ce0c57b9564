#include "addon.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	InitCounter(env, exports);
	InitClock(env, exports);
	InitPacketSocket(env, exports);
	InitPcap(env, exports);
	InitGenerator(env, exports);
	InitPacketMmap(env, exports);
	InitAfXdp(env, exports);
	InitFastnet(env, exports);
	return exports;
}

NODE_API_MODULE(capbench, Init)
