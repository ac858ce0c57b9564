// readTsc, calibrateTsc, threadCpuTime, speedProbe, reserveCpu, pinThread, openCycleCounter.
#include <sched.h>

#include <string>

#include "addon.h"
#include "capture_binding.h"
#include "clock.h"
#include "cpu_placement.h"
#include "js_error.h"
#include "napi_args.h"
#include "speed_probe.h"

namespace {

double NumberArg(const Napi::CallbackInfo &info, size_t i, const char *what)
{
	if (!info[i].IsNumber())
		throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
	return info[i].As<Napi::Number>().DoubleValue();
}

bool IsInteger(double d, double lo, double hi)
{
	return d >= lo && d <= hi && d == (double)(long long)d;
}

Napi::Value ReadTsc(const Napi::CallbackInfo &info)
{
	return Napi::BigInt::New(info.Env(), (uint64_t)cb_read_tsc());
}

Napi::Value CalibrateTsc(const Napi::CallbackInfo &info)
{
	double ms = NumberArg(info, 0, "calibrateTsc: ms");
	if (!IsInteger(ms, 1, 60000))
		throw Napi::RangeError::New(info.Env(),
					    "calibrateTsc: ms must be an integer from 1 to 60000");
	cb_error e{};
	double hz;
	if (cb_calibrate_tsc((uint32_t)ms, &hz, &e) < 0)
		throw CbJsError(info.Env(), e);
	return Napi::Number::New(info.Env(), hz);
}

Napi::Value ThreadCpuTime(const Napi::CallbackInfo &info)
{
	cb_error e{};
	struct cb_thread_usage u {};
	if (cb_thread_usage(&u, &e) < 0)
		throw CbJsError(info.Env(), e);
	StatsFields out;
	out.Add("userNs", (double)u.user_ns);
	out.Add("sysNs", (double)u.sys_ns);
	out.Add("totalNs", (double)u.total_ns);
	out.Add("voluntarySwitches", (double)u.voluntary_switches);
	out.Add("involuntarySwitches", (double)u.involuntary_switches);
	out.Add("minorFaults", (double)u.minor_faults);
	return out.ToObject(info.Env());
}

// speedProbe(cpu): ns of thread CPU time the probe's fixed work took on a thread pinned to cpu (-1: any).
Napi::Value SpeedProbe(const Napi::CallbackInfo &info)
{
	int cpu = (int)IntArg(info[0], "speedProbe: cpu", -1, CPU_SETSIZE - 1);
	cb_error e{};
	uint64_t ns;
	if (cb_speed_probe(cpu, &ns, &e) < 0)
		throw CbJsError(info.Env(), e);
	return Napi::Number::New(info.Env(), (double)ns);
}

Napi::Value TaskCpuTime(const Napi::CallbackInfo &info)
{
	double pid = NumberArg(info, 0, "taskCpuTime: pid");
	if (!IsInteger(pid, 1, INT32_MAX))
		throw Napi::RangeError::New(info.Env(),
					    "taskCpuTime: pid must be a positive integer");
	cb_error e{};
	uint64_t total_ns;
	if (cb_task_cpu_time((int)pid, &total_ns, &e) < 0)
		throw CbJsError(info.Env(), e);
	return Napi::Number::New(info.Env(), (double)total_ns);
}

void ReserveCpu(const Napi::CallbackInfo &info)
{
	double cpu = NumberArg(info, 0, "reserveCpu: cpu");
	if (!IsInteger(cpu, 0, 1 << 20))
		throw Napi::RangeError::New(info.Env(),
					    "reserveCpu: cpu must be a non-negative integer");
	cb_error e{};
	if (cb_reserve_cpu((int)cpu, &e) < 0)
		throw CbJsError(info.Env(), e);
}

void PinThread(const Napi::CallbackInfo &info)
{
	double cpu = NumberArg(info, 0, "pinThread: cpu");
	if (!IsInteger(cpu, 0, 1 << 20))
		throw Napi::RangeError::New(info.Env(),
					    "pinThread: cpu must be a non-negative integer");
	cb_error e{};
	if (cb_pin_thread((int)cpu, &e) < 0)
		throw CbJsError(info.Env(), e);
}

// Not exported as a constructor: JS gets instances only from openCycleCounter().
class CycleCounter : public Napi::ObjectWrap<CycleCounter> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "CycleCounter",
				   { InstanceMethod("read", &CycleCounter::Read),
				     InstanceMethod("close", &CycleCounter::Close) });
	}

	explicit CycleCounter(const Napi::CallbackInfo &info) : Napi::ObjectWrap<CycleCounter>(info)
	{
		cb_error e{};
		fd_ = cb_cycle_counter_open(&e);
		if (fd_ < 0)
			throw CbJsError(info.Env(), e);
	}

	~CycleCounter() override { cb_cycle_counter_close(fd_); }

private:
	Napi::Value Read(const Napi::CallbackInfo &info)
	{
		cb_error e{};
		uint64_t cycles;
		if (fd_ < 0) {
			cb_fail(&e, EBADF, "read cycle counter: already closed");
			throw CbJsError(info.Env(), e);
		}
		if (cb_cycle_counter_read(fd_, &cycles, &e) < 0)
			throw CbJsError(info.Env(), e);
		return Napi::Number::New(info.Env(), (double)cycles);
	}

	void Close(const Napi::CallbackInfo &)
	{
		cb_cycle_counter_close(fd_);
		fd_ = -1;
	}

	int fd_ = -1;
};

Napi::Value OpenCycleCounter(const Napi::CallbackInfo &info)
{
	auto *ctor = static_cast<Napi::FunctionReference *>(info.Data());
	return ctor->New({});
}

} // namespace

static void Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("readTsc", Napi::Function::New(env, ReadTsc, "readTsc"));
	exports.Set("calibrateTsc", Napi::Function::New(env, CalibrateTsc, "calibrateTsc"));
	exports.Set("threadCpuTime", Napi::Function::New(env, ThreadCpuTime, "threadCpuTime"));
	exports.Set("speedProbe", Napi::Function::New(env, SpeedProbe, "speedProbe"));
	exports.Set("taskCpuTime", Napi::Function::New(env, TaskCpuTime, "taskCpuTime"));
	exports.Set("reserveCpu", Napi::Function::New(env, ReserveCpu, "reserveCpu"));
	exports.Set("pinThread", Napi::Function::New(env, PinThread, "pinThread"));

	// Per-env reference (workers each load the addon), freed when the env goes away.
	auto *ctor = new Napi::FunctionReference(Napi::Persistent(CycleCounter::Define(env)));
	env.AddCleanupHook([ctor]() { delete ctor; });
	exports.Set("openCycleCounter",
		    Napi::Function::New(env, OpenCycleCounter, "openCycleCounter", ctor));
}

static const AddonPart kPart(Init);
