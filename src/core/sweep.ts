/**
 * Sweeps: the same measurement at several frame sizes, offered rates and reader thread counts, one
 * row per point, and the RFC 2544-style search for the highest offered rate a method takes with
 * loss at or under a bound (binary search between nothing and the generator's own maximum).
 */
import { trafficFrom, type RunConfig } from './config.js';
import { UsageError } from '../shared/errors.js';
import { RESULTS_SCHEMA, type Results, type Row, type SweepPoint } from './results.js';
import { withBench, type BenchContext, type RunDeps } from './runner.js';
import { fixturePath, loadFixture } from '../net/fixture.js';
import { checkTwoPort } from './two-port.js';
import { runSpeed } from './drift.js';

export interface SweepConfig {
  base: RunConfig;
  /** Frame sizes on the wire (FCS included), each replayed from fixtures/udp<size>.pcap; null = base fixture. */
  sizes: number[] | null;
  /** Offered rates (live mode), 'search' for the highest rate within `loss`, or null = base mode and rate. */
  rates: number[] | 'search' | null;
  /** Largest loss a searched rate may show, as a fraction (0 = lossless). */
  loss: number;
  /** Reader thread counts, one row per count at every other point; null or absent = base.threads alone. */
  threads?: number[] | null;
}

/** How a sweep gets its test bed: withBench, or a fake in tests. */
export type OpenBench = <T>(
  config: RunConfig,
  deps: RunDeps,
  use: (bench: BenchContext) => Promise<T>,
) => Promise<T>;

/** Stop when the bracket is this narrow, relative to its top, or after MAX_STEPS windows. */
const SEARCH_RESOLUTION = 0.02;
const MAX_STEPS = 10;

export function lossOf(row: Row): number | null {
  return row.sent === null || row.sent === 0 || row.dropped === null
    ? null
    : row.dropped / row.sent;
}

/** What the generator actually sent per second over the row's windows. */
function sentPps(row: Row): number | null {
  const sec = row.trials.reduce((a, t) => a + t.windowSec, 0);
  return row.sent === null || sec <= 0 ? null : row.sent / sec;
}

/** Below this share of the asked rate, the generator (not the method) set the pace. */
const GENERATOR_LIMITED = 0.95;

function withPoint(rows: Row[], point: SweepPoint): Row[] {
  return rows.map((r) => ({ ...r, point }));
}

/**
 * The highest offered rate at which one method and tier loses at most `loss`. `threads` is what the
 * point records of cfg.threads: null when the sweep does not vary it.
 */
export async function searchRate(
  bench: BenchContext,
  cfg: RunConfig,
  maxPps: number,
  loss: number,
  frameBytes: number | null,
  threads: number | null = null,
): Promise<Row> {
  let lo = 0;
  let hi = Math.ceil(maxPps);
  let best: Row | null = null;
  let last: Row | null = null;
  for (let step = 0; step < MAX_STEPS; step++) {
    // The first try is flat out: a method that keeps up with the generator needs no search.
    const rate = step === 0 ? hi : Math.round((lo + hi) / 2);
    const [row] = (await bench.measure({ ...cfg, mode: 'live', rate }, { baseline: false })).rows;
    if (!row || !row.available) return row!;
    last = { ...row, point: { threads, frameBytes, offeredPps: rate } };
    const l = lossOf(row);
    if (row.ok && l !== null && l <= loss) {
      lo = rate;
      best = last;
      const achieved = sentPps(row);
      if (achieved !== null && achieved < GENERATOR_LIMITED * rate) {
        // Capturing slows the sender (on veth the delivery runs on its CPU), so the rate asked for
        // was never offered: what was sent is the highest rate this test bed can show.
        const offered = Math.round(achieved);
        return {
          ...last,
          point: { threads, frameBytes, offeredPps: offered },
          reason: `generator-limited: asked for ${rate} pps, could send ${offered} pps with ${cfg.methods[0]} attached, and nothing was lost`,
        };
      }
      if (step === 0) break;
    } else {
      hi = rate;
    }
    if (step > 0 && hi - lo <= Math.max(SEARCH_RESOLUTION * hi, 1000)) break;
  }
  if (best) return best;
  const why = `no offered rate down to ${Math.round(hi)} pps kept loss within ${(loss * 100).toFixed(2)}%`;
  return { ...last!, ok: false, reason: last!.reason ?? why };
}

/** The thread counts to measure each point at; null is the base's own, recorded as null in the point (not varied). */
function threadSteps(threads: number[] | null | undefined): (number | null)[] {
  if (threads === null || threads === undefined) return [null];
  if (threads.length === 0) throw new UsageError('--threads needs at least one thread count');
  return threads;
}

const withThreads = (cfg: RunConfig, threads: number | null): RunConfig =>
  threads === null ? cfg : { ...cfg, threads };

export async function runSweep(
  sweep: SweepConfig,
  deps: RunDeps,
  open: OpenBench = withBench,
): Promise<Results> {
  const startedAt = new Date().toISOString();
  // Rates are offered while capturing: those points are live.
  const base: RunConfig = sweep.rates === null ? sweep.base : { ...sweep.base, mode: 'live' };
  if (trafficFrom(base) === 'elsewhere') {
    throw new UsageError(
      'sweep offers its own traffic: --iface needs --gen-iface GEN, a port cabled to it (or leave both out for the test bed)',
    );
  }
  const counts = threadSteps(sweep.threads);
  const fixtures = (sweep.sizes ?? [null]).map((size) => ({
    size,
    path: size === null ? base.fixturePath : fixturePath(`udp${size}`),
  }));
  // Every size is checked against the ports before the first point is measured, not after.
  if (trafficFrom(base) === 'two-port') {
    for (const { path } of fixtures.slice(1))
      await checkTwoPort(base.iface!, base.genIface!, await loadFixture(path), deps.machine);
  }
  // The runner sizes the test bed's queues from config.threads: one bed for the most readers any point has.
  const bedConfig: RunConfig = {
    ...base,
    fixturePath: fixtures[0]!.path,
    threads: Math.max(...counts.map((n) => n ?? base.threads)),
  };

  return open(bedConfig, deps, async (bench) => {
    const rows: Row[] = [];
    for (const { size, path } of fixtures) {
      const cfg: RunConfig = { ...base, fixturePath: path };
      const frameBytes = size;
      // Thread counts are the innermost loop: the windows a scaling curve compares are measured
      // back to back, not a whole sweep apart on a machine that drifts, and the table shows each
      // size and rate's rows at 1, 2, 4 … readers together.
      if (sweep.rates === 'search') {
        // The generator's own flat-out rate with nothing attached bounds the search; with no
        // reader, the thread count does not change it.
        const [none] = (
          await bench.measure({
            ...cfg,
            methods: ['none'],
            mode: 'live',
            rate: 'max',
          })
        ).rows;
        const maxPps = none?.pps ?? 0;
        if (!(maxPps > 0))
          throw new Error('the generator sent nothing: cannot bound the rate search');
        for (const method of cfg.methods.filter((m) => m !== 'none')) {
          for (const tier of cfg.tiers) {
            for (const threads of counts) {
              const one = withThreads({ ...cfg, methods: [method], tiers: [tier] }, threads);
              rows.push(await searchRate(bench, one, maxPps, sweep.loss, frameBytes, threads));
            }
          }
        }
        continue;
      }
      for (const rate of sweep.rates ?? [cfg.rate]) {
        for (const threads of counts) {
          const point: SweepPoint = {
            threads,
            frameBytes,
            offeredPps: rate === 'max' ? null : rate,
          };
          rows.push(
            ...withPoint((await bench.measure(withThreads({ ...cfg, rate }, threads))).rows, point),
          );
        }
      }
    }
    return {
      schema: RESULTS_SCHEMA,
      startedAt,
      host: bench.host,
      config: base,
      rows,
      speed: runSpeed(rows),
    };
  });
}
