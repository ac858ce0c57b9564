// One Init function per kernel mechanism; addon.cc calls them all.
#ifndef CAPBENCH_ADDON_H
#define CAPBENCH_ADDON_H

#include <napi.h>

void InitCounter(Napi::Env env, Napi::Object exports);
void InitClock(Napi::Env env, Napi::Object exports);
void InitPacketSocket(Napi::Env env, Napi::Object exports);
void InitPcap(Napi::Env env, Napi::Object exports);
void InitGenerator(Napi::Env env, Napi::Object exports);
void InitPacketMmap(Napi::Env env, Napi::Object exports);
void InitAfXdp(Napi::Env env, Napi::Object exports);
void InitFastnet(Napi::Env env, Napi::Object exports);

#endif
