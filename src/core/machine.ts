/**
 * Everything a run does to the machine or reads from it, behind one interface: the runner and a
 * measurement window take a Machine, so that tests can run them against fakes without root, a
 * kernel or a clock of their own. real-machine.ts is the one the command line passes.
 */
import type { CapName } from './privileges.js';
import type { CounterFloor, CycleSource, HostInfo } from './results.js';
import type { Fixture } from '../net/fixture.js';
import type { CpuSnapshot } from './cpu-time.js';
import type { InterfaceCounters } from '../net/interface-stats.js';
import type { PortInfo } from '../net/port.js';
import type { TrafficSpec, TrafficStatus } from '../net/generator.js';
import type { Testbed } from '../net/testbed.js';

/** A generator, started (one thread or several): see net/generator.ts's RunningGenerator. */
export interface Generator {
  readonly running: boolean;
  /** Resolves when it has finished by itself; stops it and throws InterruptedError if `signal` fires. */
  wait(signal: AbortSignal): Promise<TrafficStatus>;
  /** The same without returning to the event loop (for sessions that read on it). */
  waitBlocking(): TrafficStatus;
  /** Stops and joins; throws if it had stopped on an error. Idempotent. */
  stop(): TrafficStatus;
}

/** What one measurement window needs. */
export interface WindowMachine {
  startGenerator(spec: TrafficSpec): Generator;
  /** Counters of `ifname`, inside `netns` when given. */
  readCounters(ifname: string, netns: string | null): Promise<InterfaceCounters>;
  /** Frames dropped machine-wide for a full input backlog, since boot. */
  readBacklogDrops(): Promise<number>;
  /** The reading thread's and the machine's clocks at one end of a timed part. */
  cpuSnapshot(end: 'start' | 'end'): CpuSnapshot;
  /** CPU seconds the kernel's ksoftirqd threads have used, since boot. */
  softirqCpuSec(): number;
  /** ns the speed probe's fixed work takes on `cpu` now (-1: any CPU); see core/drift.ts. */
  speedProbe(cpu: number): number;
  /** Blocks the thread (the event loop too) for `ms`. */
  sleepBlocking(ms: number): void;
}

/** What a whole run needs besides its windows. */
export interface Machine extends WindowMachine {
  requireCapabilities(needed: readonly CapName[], who: string): void;
  /** The host's description and where cycle figures come from; the TSC is calibrated here. */
  host(): { info: HostInfo; cycles: CycleSource };
  /** Refuses an interface this machine does not have. */
  requireInterface(ifname: string): void;
  /** What two-port mode checks about a port of this namespace: kind, peer, MTU, MAC, state. */
  describePort(ifname: string): Promise<PortInfo>;
  /** Removes what crashed runs left: test beds and XDP programs. */
  sweepLeftovers(): Promise<void>;
  /** A test bed whose veth pairs have this many receive and transmit queues. */
  createTestbed(queues: number): Promise<Testbed>;
  destroyTestbed(tb: Testbed): Promise<void>;
  /** Sets the test bed's MTU so that frames of this many bytes fit. */
  fitFrames(tb: Testbed, frameBytes: number): Promise<void>;
  /** The CPU each receive queue of a NIC interrupts, queue 0 first; [] when it cannot be told (veth). */
  queueIrqCpus(ifname: string): number[];
  /** Pins the calling thread to `cpu` and moves the process's other threads off it. */
  reserveCpu(cpu: number): void;
  /** The counter alone over the fixture's frames in memory, in each tier (core/counter-floor.ts). */
  counterFloor(fixture: Fixture): Promise<CounterFloor>;
}
