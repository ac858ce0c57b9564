import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunConfig } from '../../src/core/config.js';
import type { BenchContext, Point } from '../../src/core/runner.js';
import { searchRate } from '../../src/core/sweep.js';
import { runConfig } from '../../src/cli/parse-options.js';
import { sampleResults } from './sample-results.js';
import { HOST } from './fake-machine.js';

/**
 * A bench whose method loses nothing up to `lossless` pps and 10 % above it; the generator sends
 * what is asked up to `canSend` pps. One second windows.
 */
function bench(lossless: number, canSend = Infinity): BenchContext & { asked: number[] } {
  const asked: number[] = [];
  const template = sampleResults().rows[0]!;
  return {
    host: HOST,
    asked,
    measure: (cfg: RunConfig): Promise<Point> => {
      const rate = cfg.rate as number;
      asked.push(rate);
      const sent = Math.min(rate, canSend);
      const dropped = rate > lossless ? Math.round(sent / 10) : 0;
      const trial = { ...template.trials[0]!, sent, received: sent - dropped, windowSec: 1 };
      const rows = [
        {
          ...template,
          mode: 'live' as const,
          sent,
          dropped,
          received: sent - dropped,
          ok: true,
          trials: [trial],
        },
      ];
      return Promise.resolve({
        rows,
        stopping: {
          rule: 'trials',
          rounds: 1,
          precisionPct: null,
          maxTimeSec: null,
          impreciseRows: [],
        },
      });
    },
  };
}

const cfg = runConfig({ methods: 'socket', mode: 'live' });

test('a method that keeps up with the generator needs one window, flat out', async () => {
  const b = bench(Infinity);
  const row = await searchRate(b, cfg, 700_000, 0, null);
  assert.deepEqual(b.asked, [700_000]);
  assert.equal(row.point?.offeredPps, 700_000);
});

test('otherwise a binary search finds the highest lossless rate within 2 %', async () => {
  const b = bench(300_000);
  const row = await searchRate(b, cfg, 700_000, 0, 64);
  const found = row.point!.offeredPps!;
  assert.ok(found <= 300_000 && found >= 300_000 * 0.98, `found ${found}`);
  assert.equal(row.point!.frameBytes, 64);
  assert.ok(b.asked.length <= 10);
});

test('a rate the generator could not offer is reported as generator-limited, at what it sent', async () => {
  const row = await searchRate(bench(Infinity, 400_000), cfg, 700_000, 0, null);
  assert.equal(row.point?.offeredPps, 400_000);
  assert.match(row.reason!, /generator-limited: asked for 700000 pps, could send 400000 pps/);
});

test('no lossless rate at all fails the row and says down to where it looked', async () => {
  const row = await searchRate(bench(0), cfg, 700_000, 0, null);
  assert.equal(row.ok, false);
});
