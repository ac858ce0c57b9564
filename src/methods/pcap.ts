/**
 * libpcap through the `cap` npm package: one JS 'packet' event per frame, each copied into the
 * single Buffer given to open(). This is what a Node program gets today. cap reports no drops,
 * so the runner derives them as sent − received.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { doSomething } from '../core/counter.js';
import { throwIfAborted } from '../core/consume-loop.js';
import { SystemError } from '../shared/errors.js';
import type {
  CaptureMethod,
  CaptureSession,
  ConsumeLimit,
  OpenContext,
  SessionStats,
} from '../core/method.js';
import { LIVE_BUFFER_BYTES } from '../core/config.js';
import { MAX_PCAP_BUFFER } from './buffer-sizing.js';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

let loaded: CapModule | Error | undefined;
function loadCap(): CapModule | Error {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('cap') as CapModule;
    } catch (err) {
      loaded = err instanceof Error ? err : new Error(String(err));
    }
  }
  return loaded;
}

/** cap asks for snaplen 65535, so libpcap's ring blocks are 128 KiB and retire every millisecond. */
function bufferFor(frames: number): number {
  return Math.min(MAX_PCAP_BUFFER, Math.max(64 * 2 ** 20, frames * 2048));
}

const POLL_MS = 1;

/**
 * Closed cap handles, kept until the process exits. cap's native destructor emits an async-hook
 * destroy from inside V8's garbage collector, which crashes Node 20 (SIGSEGV in
 * AsyncWrap::EmitDestroy from Pcap::~Pcap): a handle must never be collected.
 */
const retired: CapHandle[] = [];

class CapSession implements CaptureSession {
  received = 0;
  ipv4 = 0;
  readonly readsOnEventLoop = true;
  readonly settleMs = 20;
  private readonly cap: CapHandle;
  /**
   * cap keeps only this Buffer's raw pointer: holding it here is what stops the GC from freeing
   * memory that libpcap then writes into.
   */
  private readonly buffer = Buffer.alloc(65536);
  private target = Infinity;
  private reachedAt = 0;
  private lastFrameAt = 0;
  private closed = false;

  constructor(ctx: OpenContext, mod: CapModule) {
    this.cap = new mod.Cap();
    const bufSize = ctx.mode === 'drain' ? bufferFor(ctx.holdFrames) : LIVE_BUFFER_BYTES;
    try {
      this.cap.open(ctx.ifname, '', bufSize, this.buffer);
    } catch (err) {
      retired.push(this.cap);
      throw new SystemError(`open libpcap (cap) on ${ctx.ifname}: ${(err as Error).message}`);
    }
    const buf = this.buffer;
    const latency = ctx.latency;
    this.cap.on('packet', (nbytes) => {
      this.received++;
      this.ipv4 += doSomething(buf, 0, nbytes);
      latency?.offer(buf, 0, nbytes);
      if (this.received === this.target) this.reachedAt = performance.now();
    });
  }

  async consume(limit: ConsumeLimit): Promise<number> {
    this.target = limit.frames;
    this.reachedAt = 0;
    let seen = this.received;
    this.lastFrameAt = performance.now();
    for (;;) {
      throwIfAborted(limit.signal);
      if (this.received >= limit.frames) return this.reachedAt || performance.now();
      const now = performance.now();
      if (this.received !== seen) {
        seen = this.received;
        this.lastFrameAt = now;
      } else if (now - this.lastFrameAt >= limit.idleMs) return this.lastFrameAt;
      if (now >= limit.untilMs || limit.stop?.()) return now;
      await sleep(POLL_MS);
    }
  }

  stats(): SessionStats {
    // cap makes its calls into libpcap from its own code, out of sight.
    return { seen: null, drops: null, calls: null, wakeups: null };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cap.close();
    retired.push(this.cap);
  }
}

export const pcap = {
  name: 'pcap',
  summary: 'libpcap through the cap npm package, one JS event per packet (what Node offers today)',
  tiers: ['js'],
  probe() {
    const mod = loadCap();
    if (mod instanceof Error) {
      return {
        available: false,
        reason: `the optional npm package cap did not load (${mod.message.split('\n')[0]}); it builds at npm install when libpcap-dev is installed`,
      };
    }
    return { available: true };
  },
  maxHoldFrames: () => Math.floor(MAX_PCAP_BUFFER / 2048),
  spread: () => ({
    available: false,
    reason: "the cap package reads on Node's event loop: one thread only",
  }),
  open(ctx) {
    const mod = loadCap();
    if (mod instanceof Error) throw new SystemError(`cap: ${mod.message}`);
    return new CapSession(ctx, mod);
  },
} satisfies CaptureMethod;
