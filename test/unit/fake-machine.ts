/**
 * A Machine with no kernel behind it, for testing the runner and measurement windows without
 * root: a "wire" counts the frames fake generators send per interface, fake sessions read them,
 * and every clock is made up so that the figures can be predicted. The test bed's names follow
 * the real one's: sender "…g" delivers to capture "…c", the twin "…gt" to "…ct"; two ports are
 * joined with cable(). The machine is busy exactly for what the fake generators and reader cost.
 */
import os from 'node:os';
import type { CpuSnapshot } from '../../src/core/cpu-time.js';
import type { Generator, Machine } from '../../src/core/machine.js';
import type {
  Availability,
  CaptureMethod,
  CaptureSession,
  ConsumeLimit,
  OpenContext,
} from '../../src/core/method.js';
import type { CounterFloor, HostInfo } from '../../src/core/results.js';
import { InterruptedError, UsageError } from '../../src/shared/errors.js';
import type { TrafficSpec, TrafficStatus } from '../../src/net/generator.js';
import type { InterfaceCounters } from '../../src/net/interface-stats.js';
import type { PortInfo } from '../../src/net/port.js';
import type { Testbed } from '../../src/net/testbed.js';

export const HOST: HostInfo = {
  kernel: 'fake',
  cpuModel: 'fake CPU',
  cpus: 2,
  tscHz: 1e9,
  node: process.version,
};

export const TESTBED: Testbed = {
  netns: 'capbench-fake',
  netnsPath: '/run/netns/capbench-fake',
  captureIf: 'fkc',
  senderIf: 'fkg',
  twinCaptureIf: 'fkct',
  twinSenderIf: 'fkgt',
  captureAddr: '198.18.0.1',
  twinCaptureAddr: '198.18.0.5',
  twinSenderAddr: '198.18.0.6',
  senderAddr: '198.18.0.2',
  owner: 1,
  queues: 1,
};

/** A NIC port as describePort() says it, for two-port tests: up, with carrier, MTU 1500. */
export function port(ifname: string, over: Partial<PortInfo> = {}): PortInfo {
  return {
    ifname,
    kind: '',
    linkType: 'ether',
    peer: null,
    mtu: 1500,
    mac: '52:54:00:00:00:01',
    up: true,
    carrier: true,
    promiscuity: 1,
    ...over,
  };
}

/** What the fake kernel charges the sender per frame, ns: more when something is attached. */
export interface Costs {
  /** Sending into a pair with nothing attached (the twin, or the capture pair for `none`). */
  bareNs: number;
  /** Sending into the capture pair while a session is open on it. */
  attachedNs: number;
  /** Frames a live generator sends before it stops. */
  liveFrames: number;
}

export class FakeMachine implements Machine {
  readonly calls: string[] = [];
  /** The capabilities each requireCapabilities() asked for. */
  readonly capsAsked: string[][] = [];
  /** Frames that arrived at each capture interface. */
  readonly rx = new Map<string, number>();
  /** Generators started and not yet stopped. */
  readonly running = new Set<FakeGenerator>();
  /** Every generator started, as asked for. */
  readonly started: TrafficSpec[] = [];
  /** Ports for two-port mode, and which sends to which. */
  readonly ports = new Map<string, PortInfo>();
  private readonly cables = new Map<string, string>();
  /**
   * A NIC that runs out of receive buffers: this many frames of each generator never arrive, and
   * the capture port's rx_missed_errors counts them only `lagMs` after they were sent.
   */
  missing: { frames: number; lagMs: number } | null = null;
  private readonly missed: { ifname: string; frames: number; visibleAt: number }[] = [];
  attached = 0;
  /**
   * How much slower than its reference the fake runs now: the speed probe takes 1 ms × this, and
   * every CPU cost (the reader's clock, the generators' frames) is this much larger. Tests change
   * it between windows to play a drifting machine.
   */
  slowdown = 1;
  private threadNs = 0;
  /** CPU the machine spent: the generators' frames and the reader's clock. */
  busyNs = 0;
  private fakeWallSec = 0;

  constructor(readonly costs: Costs = { bareNs: 1000, attachedNs: 1300, liveFrames: 5000 }) {}

  /** Two ports cabled together: frames sent on `gen` arrive on `cap`. */
  cable(cap: PortInfo, gen: PortInfo): this {
    this.ports.set(cap.ifname, cap);
    this.ports.set(gen.ifname, gen);
    this.cables.set(gen.ifname, cap.ifname);
    return this;
  }

  captureOf(senderIf: string): string {
    return this.cables.get(senderIf) ?? senderIf.replace(/g(t?)$/, 'c$1');
  }

  /** Frames sent to `captureIf`, less what a `missing` NIC lost. */
  deliver(captureIf: string, n: number): void {
    const lost = this.missing && this.ports.has(captureIf) ? Math.min(n, this.missing.frames) : 0;
    if (lost > 0)
      this.missed.push({
        ifname: captureIf,
        frames: lost,
        visibleAt: performance.now() + this.missing!.lagMs,
      });
    this.rx.set(captureIf, this.arrived(captureIf) + n - lost);
  }

  arrived(captureIf: string): number {
    return this.rx.get(captureIf) ?? 0;
  }

  startGenerator(spec: TrafficSpec): Generator {
    this.started.push(spec);
    const gen = new FakeGenerator(this, spec);
    this.running.add(gen);
    return gen;
  }

  readCounters(ifname: string): Promise<InterfaceCounters> {
    const now = performance.now();
    const rxMissed = this.missed
      .filter((m) => m.ifname === ifname && m.visibleAt <= now)
      .reduce((a, m) => a + m.frames, 0);
    return Promise.resolve({
      rxPackets: this.arrived(ifname),
      rxDropped: 0,
      rxMissed,
      rxErrors: 0,
      txPackets: 0,
      txDropped: 0,
      txErrors: 0,
    });
  }

  readBacklogDrops(): Promise<number> {
    return Promise.resolve(0);
  }

  /**
   * The reading thread's clock advances 10 ns per call, as if each read took that long, and the
   * wall clock a second, so that /proc/stat's ticks would resolve any phase between two calls.
   * The machine is idle whenever it is not busy (usageBetween's wall × CPUs less idle is busyNs).
   */
  cpuSnapshot(): CpuSnapshot {
    this.threadNs += 10 * this.slowdown;
    this.busyNs += 10 * this.slowdown;
    this.fakeWallSec += 1;
    const wallSec = performance.now() / 1000 + this.fakeWallSec;
    return {
      threadUserNs: this.threadNs,
      threadSysNs: 0,
      threadTotalNs: this.threadNs,
      threadSwitches: { voluntary: this.threadNs / 10, involuntary: 0, minorFaults: 1 },
      systemIdleSec: wallSec * os.cpus().length - this.busyNs / 1e9,
      wallSec,
    };
  }

  /** The reading thread spends `ns` (at the reference speed: scaled by the slowdown). */
  spendReader(ns: number): void {
    this.threadNs += ns * this.slowdown;
    this.busyNs += ns * this.slowdown;
  }

  speedProbe(): number {
    return 1e6 * this.slowdown;
  }

  counterFloor(): Promise<CounterFloor> {
    return Promise.resolve({
      js: { nsPerFrame: 2, rmePct: 1 },
      native: { nsPerFrame: 1, rmePct: 1 },
      batch: 1024,
    });
  }

  softirqCpuSec(): number {
    return 0;
  }

  sleepBlocking(): void {}

  requireCapabilities(needed: readonly string[]): void {
    this.calls.push('requireCapabilities');
    this.capsAsked.push([...needed]);
  }

  host(): { info: HostInfo; cycles: 'tsc' } {
    return { info: HOST, cycles: 'tsc' };
  }

  requireInterface(ifname: string): void {
    this.calls.push(`requireInterface ${ifname}`);
    if (this.ports.size > 0 && !this.ports.has(ifname))
      throw new UsageError(`no interface named ${ifname}`);
  }

  describePort(ifname: string): Promise<PortInfo> {
    this.calls.push(`describePort ${ifname}`);
    const p = this.ports.get(ifname);
    return p ? Promise.resolve(p) : Promise.reject(new Error(`no port ${ifname}`));
  }

  sweepLeftovers(): Promise<void> {
    this.calls.push('sweepLeftovers');
    return Promise.resolve();
  }

  /** The queues the last createTestbed() asked for. */
  testbedQueues = 0;
  /** CPUs reserveCpu() was asked for, in order. */
  readonly reserved: number[] = [];

  createTestbed(queues: number): Promise<Testbed> {
    this.calls.push('createTestbed');
    this.testbedQueues = queues;
    return Promise.resolve({ ...TESTBED, queues });
  }

  destroyTestbed(): Promise<void> {
    this.calls.push('destroyTestbed');
    return Promise.resolve();
  }

  fitFrames(): Promise<void> {
    return Promise.resolve();
  }

  /** What queueIrqCpus() answers, by interface. */
  readonly irqCpus = new Map<string, number[]>();

  queueIrqCpus(ifname: string): number[] {
    return this.irqCpus.get(ifname) ?? [];
  }

  reserveCpu(cpu: number): void {
    this.reserved.push(cpu);
  }
}

/** Sends all its frames at once (drain: `count`; live: costs.liveFrames when stopped or done). */
class FakeGenerator implements Generator {
  private sent = 0;
  private stopped = false;
  private readonly endsAt: number;

  constructor(
    private readonly m: FakeMachine,
    private readonly spec: TrafficSpec,
  ) {
    this.endsAt = performance.now() + spec.durationMs;
    if (spec.count > 0) this.send(spec.count);
  }

  private send(n: number): void {
    this.m.deliver(this.m.captureOf(this.spec.ifname), n);
    this.m.busyNs += n * this.perFrame();
    this.sent += n;
  }

  private perFrame(): number {
    const attached = this.m.attached > 0 && !this.spec.ifname.endsWith('t');
    return (attached ? this.m.costs.attachedNs : this.m.costs.bareNs) * this.m.slowdown;
  }

  get running(): boolean {
    return (
      !this.stopped &&
      this.spec.count === 0 &&
      (this.spec.durationMs === 0 || performance.now() < this.endsAt)
    );
  }

  private status(): TrafficStatus {
    return {
      running: this.running,
      sent: this.sent,
      elapsedNs: 1e6,
      cpuNs: this.sent * this.perFrame(),
      error: null,
      threadSent: [this.sent],
    };
  }

  async wait(signal: AbortSignal): Promise<TrafficStatus> {
    while (this.running) {
      if (signal.aborted) {
        this.stop();
        throw new InterruptedError('SIGINT');
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return this.stop();
  }

  waitBlocking(): TrafficStatus {
    return this.stop();
  }

  stop(): TrafficStatus {
    if (!this.stopped && this.spec.count === 0)
      this.send(
        this.spec.durationMs === 0 ? this.m.costs.liveFrames * 1.5 : this.m.costs.liveFrames,
      );
    this.stopped = true;
    this.m.running.delete(this);
    return this.status();
  }
}

export interface FakeMethodOptions {
  failOpen?: Error;
  /** The reading thread's CPU per frame read, in ns (× the machine's slowdown), window by window. */
  costPerWindow?: () => number;
  /** What probe() says, given the interface it is asked about; available everywhere by default. */
  probe?: (ifname: string | null) => Availability;
  /** The most frames a drain session holds; unbounded by default. */
  maxHold?: number;
}

/** A capture method whose sessions read what the fake wire brought, every frame IPv4. */
export function fakeMethod(
  m: FakeMachine,
  name: 'socket' | 'packet-mmap' | 'fastnet-zc' = 'socket',
  options: FakeMethodOptions = {},
): CaptureMethod & {
  closed: number;
  probed: (string | null)[];
  holdAsked: number;
  opened: OpenContext[];
} {
  const method = {
    name,
    summary: 'fake',
    tiers: ['js', 'native'] as const,
    closed: 0,
    probed: [] as (string | null)[],
    holdAsked: 0,
    opened: [] as OpenContext[],
    probe: (ifname: string | null): Availability => {
      method.probed.push(ifname);
      return options.probe?.(ifname) ?? { available: true };
    },
    maxHoldFrames: (): number | null => {
      method.holdAsked++;
      return options.maxHold ?? null;
    },
    open: (ctx: OpenContext): CaptureSession => {
      if (options.failOpen) throw options.failOpen;
      method.opened.push(ctx);
      m.attached++;
      const start = m.arrived(ctx.ifname);
      const session: CaptureSession = {
        received: 0,
        ipv4: 0,
        readsOnEventLoop: false,
        settleMs: 0,
        consume: async (limit: ConsumeLimit) => {
          while (limit.stop && !limit.stop()) {
            if (limit.signal.aborted) throw new InterruptedError('SIGINT');
            await new Promise((r) => setTimeout(r, 2));
          }
          const n = Math.min(limit.frames, m.arrived(ctx.ifname) - start);
          m.spendReader((n - session.received) * (options.costPerWindow?.() ?? 0));
          (session as { received: number }).received = n;
          (session as { ipv4: number }).ipv4 = n;
          return performance.now();
        },
        // A call per frame read, and a wake-up per consume.
        stats: () => ({
          seen: m.arrived(ctx.ifname) - start,
          drops: 0,
          calls: session.received,
          wakeups: 1,
        }),
        close: () => {
          m.attached--;
          method.closed++;
        },
      };
      return session;
    },
  };
  return method;
}
