/** The Machine capbench runs on: the kernel, the addon and iproute2 (see machine.ts). */
import { snapshot } from './cpu-time.js';
import { counterFloor } from './counter-floor.js';
import { cycleSource, hostInfo } from './host.js';
import type { Machine } from './machine.js';
import type { SendMachine } from './send-runner.js';
import { requireCapabilities } from './privileges.js';
import { softirqCpuSec } from './softirq-clock.js';
import { RunningGenerator, sleepBlocking } from '../net/generator.js';
import { readBacklogDrops, readCounters, requireInterface } from '../net/interface-stats.js';
import { describePort } from '../net/port.js';
import { prepareSendTestbed } from '../net/send-testbed.js';
import { Sink } from '../net/sink.js';
import { queueIrqCpus } from '../net/nic-queues.js';
import { createTestbed, destroyTestbed, fitFrames, sweepStale } from '../net/testbed.js';
import { sweepStaleXdp } from '../net/xdp-leftovers.js';
import { native } from '../native/binding.js';

export const realMachine: Machine = {
  startGenerator: (spec) => new RunningGenerator(spec),
  readCounters,
  readBacklogDrops,
  cpuSnapshot: snapshot,
  softirqCpuSec,
  speedProbe: (cpu) => native().speedProbe(cpu),
  sleepBlocking,
  requireCapabilities: (needed, who) => requireCapabilities(needed, who),
  host: () => ({ info: hostInfo(), cycles: cycleSource().source }),
  requireInterface,
  describePort,
  async sweepLeftovers() {
    await sweepStale();
    await sweepStaleXdp();
  },
  createTestbed: (queues) => createTestbed({ queues }),
  destroyTestbed,
  fitFrames,
  queueIrqCpus: (ifname) => queueIrqCpus(ifname),
  reserveCpu: (cpu) => native().reserveCpu(cpu),
  counterFloor,
};

/** What `capbench send` runs on: the same machine, plus the send test bed and the sink. */
export const realSendMachine: SendMachine = {
  ...realMachine,
  prepareSendTestbed,
  openSink: (options) => new Sink(options),
};
