import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SendResults, SendRow } from '../../src/core/send-results.js';
import { renderPayloadSweep } from '../../src/report/send-sweep.js';

/** A row with only what the sweep reads: its cycles per KiB (mean, rme) and zero-copy counts. */
function row(method: string, payload: number, perKiB: number, rme: number, copied = 0): SendRow {
  const summary = {
    cyclesPerKiB: { mean: perKiB, rme, p50: perKiB, p99: perKiB },
    zerocopy: method.includes('zero')
      ? { completions: 10, copied, outstanding: 0, reapCyclesPerPacket: 0 }
      : null,
  };
  return { method, tier: 'js', payload, ok: true, summary } as unknown as SendRow;
}

const results = (rows: SendRow[], payloads: number[] | null): SendResults =>
  ({ rows, config: { payloads } }) as unknown as SendResults;

test('no sweep without several --payload values', () => {
  assert.deepEqual(renderPayloadSweep(results([row('udp-send', 1472, 5000, 1)], null)), []);
});

test('a crossover is the smallest payload from which zero-copy is cheaper beyond both margins', () => {
  const out = renderPayloadSweep(
    results(
      [
        row('tcp-send', 1024, 1000, 2),
        row('tcp-send', 16384, 1000, 2),
        row('tcp-send', 65536, 1000, 2),
        row('tcp-zerocopy', 1024, 1500, 2),
        row('tcp-zerocopy', 16384, 800, 2),
        row('tcp-zerocopy', 65536, 500, 2),
      ],
      [1024, 16384, 65536],
    ),
  ).join('\n');
  assert.match(
    out,
    /tcp-zerocopy\/js: cheaper per KiB than tcp-send beyond the margins of error from 16,384 bytes on/,
  );
});

test('within the margins is no crossover, and copied completions are said to be why', () => {
  const out = renderPayloadSweep(
    results(
      [
        row('udp-send', 1472, 1000, 5),
        row('udp-send', 65507, 1000, 5),
        row('udp-zerocopy', 1472, 1100, 5, 10),
        row('udp-zerocopy', 65507, 980, 5, 10),
      ],
      [1472, 65507],
    ),
  ).join('\n');
  assert.match(
    out,
    /udp-zerocopy\/js: no crossover here: .*at any payload measured \(1,472, 65,507\): every completion came back marked copied/,
  );
});
