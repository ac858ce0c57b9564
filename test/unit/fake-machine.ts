/**
 * A Machine with no kernel behind it, for testing the runner and measurement windows without
 * root: a "wire" counts the frames fake generators send per interface, fake sessions read them,
 * and every clock is made up so that the figures can be predicted. The test bed's names follow
 * the real one's: sender "…g" delivers to capture "…c", the twin "…gt" to "…ct".
 */
import type { CpuSnapshot } from '../../src/core/cpu-time.js';
import type { Generator, Machine } from '../../src/core/machine.js';
import type { CaptureMethod, CaptureSession, ConsumeLimit } from '../../src/core/method.js';
import type { HostInfo } from '../../src/core/results.js';
import { InterruptedError } from '../../src/shared/errors.js';
import type { TrafficSpec } from '../../src/net/generator.js';
import type { Testbed } from '../../src/net/testbed.js';
import type { GeneratorStatus } from '../../src/native/binding.js';

export const HOST: HostInfo = { kernel: 'fake', cpuModel: 'fake CPU', cpus: 2, tscHz: 1e9, node: process.version };

export const TESTBED: Testbed = {
  netns: 'capbench-fake', netnsPath: '/run/netns/capbench-fake', captureIf: 'fkc', senderIf: 'fkg',
  twinCaptureIf: 'fkct', twinSenderIf: 'fkgt', captureAddr: '198.18.0.1', senderAddr: '198.18.0.2', owner: 1,
};

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
  /** Frames that arrived at each capture interface. */
  readonly rx = new Map<string, number>();
  /** Generators started and not yet stopped. */
  readonly running = new Set<FakeGenerator>();
  attached = 0;
  private threadNs = 0;

  constructor(readonly costs: Costs = { bareNs: 1000, attachedNs: 1300, liveFrames: 5000 }) {}

  captureOf(senderIf: string): string {
    return senderIf.replace(/g(t?)$/, 'c$1');
  }

  arrived(captureIf: string): number {
    return this.rx.get(captureIf) ?? 0;
  }

  startGenerator(spec: TrafficSpec): Generator {
    const gen = new FakeGenerator(this, spec);
    this.running.add(gen);
    return gen;
  }

  readCounters(ifname: string): Promise<{ rxPackets: number; rxDropped: number; txPackets: number; txDropped: number }> {
    return Promise.resolve({ rxPackets: this.arrived(ifname), rxDropped: 0, txPackets: 0, txDropped: 0 });
  }

  readBacklogDrops(): Promise<number> {
    return Promise.resolve(0);
  }

  /** The reading thread's clock advances 10 ns per call, as if each read took that long. */
  cpuSnapshot(): CpuSnapshot {
    this.threadNs += 10;
    return { threadUserNs: this.threadNs, threadSysNs: 0, threadTotalNs: this.threadNs, systemIdleSec: 0, wallSec: performance.now() / 1000 };
  }

  softirqCpuSec(): number {
    return 0;
  }

  sleepBlocking(): void {}

  requireCapabilities(): void {
    this.calls.push('requireCapabilities');
  }

  host(): { info: HostInfo; cycles: 'tsc' } {
    return { info: HOST, cycles: 'tsc' };
  }

  requireInterface(ifname: string): void {
    this.calls.push(`requireInterface ${ifname}`);
  }

  sweepLeftovers(): Promise<void> {
    this.calls.push('sweepLeftovers');
    return Promise.resolve();
  }

  createTestbed(): Promise<Testbed> {
    this.calls.push('createTestbed');
    return Promise.resolve(TESTBED);
  }

  destroyTestbed(): Promise<void> {
    this.calls.push('destroyTestbed');
    return Promise.resolve();
  }

  fitFrames(): Promise<void> {
    return Promise.resolve();
  }

  reserveCpu(): void {}
}

/** Sends all its frames at once (drain: `count`; live: costs.liveFrames when stopped or done). */
class FakeGenerator implements Generator {
  private sent = 0;
  private stopped = false;
  private readonly endsAt: number;

  constructor(private readonly m: FakeMachine, private readonly spec: TrafficSpec) {
    this.endsAt = performance.now() + spec.durationMs;
    if (spec.count > 0) this.send(spec.count);
  }

  private send(n: number): void {
    const to = this.m.captureOf(this.spec.ifname);
    this.m.rx.set(to, this.m.arrived(to) + n);
    this.sent += n;
  }

  get running(): boolean {
    return !this.stopped && this.spec.count === 0 && (this.spec.durationMs === 0 || performance.now() < this.endsAt);
  }

  private status(): GeneratorStatus {
    const attached = this.m.attached > 0 && !this.spec.ifname.endsWith('t');
    const perFrame = attached ? this.m.costs.attachedNs : this.m.costs.bareNs;
    return { running: this.running, sent: this.sent, elapsedNs: 1e6, cpuNs: this.sent * perFrame, error: null };
  }

  async wait(signal: AbortSignal): Promise<GeneratorStatus> {
    while (this.running) {
      if (signal.aborted) {
        this.stop();
        throw new InterruptedError('SIGINT');
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return this.stop();
  }

  waitBlocking(): GeneratorStatus {
    return this.stop();
  }

  stop(): GeneratorStatus {
    if (!this.stopped && this.spec.count === 0) this.send(this.spec.durationMs === 0 ? this.m.costs.liveFrames * 1.5 : this.m.costs.liveFrames);
    this.stopped = true;
    this.m.running.delete(this);
    return this.status();
  }
}

/** A capture method whose sessions read what the fake wire brought, every frame IPv4. */
export function fakeMethod(m: FakeMachine, name: 'socket' | 'packet-mmap' = 'socket', options: { failOpen?: Error } = {}): CaptureMethod & { closed: number } {
  const method = {
    name, summary: 'fake', tiers: ['js', 'native'] as const, closed: 0,
    probe: () => ({ available: true as const }),
    maxHoldFrames: () => null,
    open: (ctx: { ifname: string }): CaptureSession => {
      if (options.failOpen) throw options.failOpen;
      m.attached++;
      const start = m.arrived(ctx.ifname);
      const session: CaptureSession = {
        received: 0, ipv4: 0, readsOnEventLoop: false, settleMs: 0,
        consume: async (limit: ConsumeLimit) => {
          while (limit.stop && !limit.stop()) {
            if (limit.signal.aborted) throw new InterruptedError('SIGINT');
            await new Promise((r) => setTimeout(r, 2));
          }
          const n = Math.min(limit.frames, m.arrived(ctx.ifname) - start);
          (session as { received: number }).received = n;
          (session as { ipv4: number }).ipv4 = n;
          return performance.now();
        },
        stats: () => ({ seen: m.arrived(ctx.ifname) - start, drops: 0 }),
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
