/**
 * Send-to-counter latency: the generator writes each frame's send time (CLOCK_MONOTONIC ns) into
 * its last 8 bytes; a method's js loop hands the sampler one frame now and then, and the sampler
 * compares that stamp with the clock when the frame reached the counter. Sampling one frame in
 * SAMPLE_EVERY calls keeps the clock reads out of what is being measured.
 */

/** Both clocks are CLOCK_MONOTONIC: libuv's hrtime and the generator's clock_gettime. */
const monoNs = (): number => Number(process.hrtime.bigint());

const SAMPLE_EVERY = 64;
/** Reservoir size: enough for stable p99s, bounded however long a run is. */
const RESERVOIR = 4096;
const STAMP_BYTES = 8;

export class LatencySampler {
  private calls = 0;
  private seen = 0;
  readonly samples: number[] = [];

  /** Called by a method's js loop with one frame it has just counted (e.g. the last of a batch). */
  offer(buf: Uint8Array, offset: number, length: number): void {
    if ((++this.calls & (SAMPLE_EVERY - 1)) !== 0 || length < 14 + STAMP_BYTES) return;
    const at = offset + length - STAMP_BYTES;
    const lo = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
    const hi = buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24);
    const sentNs = (hi >>> 0) * 2 ** 32 + (lo >>> 0);
    this.add(monoNs() - sentNs);
  }

  add(ns: number): void {
    // A stamp from the future, or decades old, is not a stamp: a frame from elsewhere.
    if (!(ns >= 0 && ns < 60e9)) return;
    this.seen++;
    if (this.samples.length < RESERVOIR) this.samples.push(ns);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < RESERVOIR) this.samples[j] = ns;
    }
  }
}

export interface LatencySummary {
  p50Ns: number;
  p99Ns: number;
  samples: number;
}

export function summarizeLatency(samples: readonly number[]): LatencySummary | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50Ns: at(0.5), p99Ns: at(0.99), samples: sorted.length };
}
