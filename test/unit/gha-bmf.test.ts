import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerCompare } from '../../src/cli/commands/compare.js';
import { CheckFailedError, UsageError } from '../../src/shared/errors.js';
import type { CyclesPerPacket, Results } from '../../src/core/results.js';
import { renderBmf } from '../../src/report/bmf.js';
import { compare } from '../../src/report/compare.js';
import { ghaCyclesPath, renderGha, type GhaEntry } from '../../src/report/gha.js';
import { sampleResults, sampleWithTrials as withTrials } from './sample-results.js';

/** The sample's good row with its cycles edited (a new row object: the sample's rows are shared). */
function withCycles(results: Results, cycles: Partial<CyclesPerPacket>): Results {
  const row = results.rows[0]!;
  results.rows[0] = { ...row, cyclesPerPacket: { ...row.cyclesPerPacket, ...cycles } };
  return results;
}

/** deliver not measured: total is null, in the row and in every trial. */
function withoutDeliver(results: Results): Results {
  const gone = {
    deliver: null,
    total: null,
    totalRme: null,
    deliverSource: null,
    deliverNote: 'no none baseline in this run',
  };
  const row = withCycles(results, gone).rows[0]!;
  results.rows[0] = {
    ...row,
    trials: row.trials.map((t) => ({ ...t, cyclesPerPacket: { ...t.cyclesPerPacket, ...gone } })),
  };
  return results;
}

test('gha: pps is a non-empty list of {name, unit, value, range, extra} for rows that ran cleanly', () => {
  const list = JSON.parse(renderGha(sampleResults(), 'pps')) as GhaEntry[];
  assert.ok(Array.isArray(list) && list.length > 0);
  for (const e of list) {
    assert.equal(typeof e.name, 'string');
    assert.equal(typeof e.unit, 'string');
    assert.equal(typeof e.value, 'number');
    assert.equal(typeof e.extra, 'string');
  }
  // The failed pcap row and the unavailable pcap-native row are not measurements to track.
  assert.deepEqual(
    list.map((e) => e.name),
    ['socket/js drain mixed'],
  );
  assert.deepEqual(
    { ...list[0], extra: undefined },
    {
      name: 'socket/js drain mixed',
      unit: 'pps',
      value: 1234567,
      range: '±2.35%',
      extra: undefined,
    },
  );
  assert.match(list[0]!.extra, /2 × Test CPU @ 2\.60GHz, Linux 6\.18\.44/);
});

test('gha: cycles/pkt in its own list is total, with totalRme as its range', () => {
  const [e] = JSON.parse(renderGha(sampleResults(), 'cycles')) as GhaEntry[];
  assert.deepEqual(
    [e!.name, e!.unit, e!.value, e!.range],
    ['socket/js drain mixed total', 'cycles/pkt', 2481, '±1.50%'],
  );
});

test("gha: without totalRme the range comes from the trials' totals, and without trials there is none", () => {
  const [spread] = JSON.parse(
    renderGha(withCycles(withTrials(), { totalRme: null }), 'cycles'),
  ) as GhaEntry[];
  assert.equal(spread!.range, '±1.10%');
  const [bare] = JSON.parse(
    renderGha(withCycles(sampleResults(), { totalRme: null }), 'cycles'),
  ) as GhaEntry[];
  assert.equal(bare!.range, undefined);
});

test('gha: cycles extra says what total is made of and where deliver came from', () => {
  const [e] = JSON.parse(renderGha(sampleResults(), 'cycles')) as GhaEntry[];
  assert.match(
    e!.extra,
    /total = deliver 480 \+ read 2,001 cycles\/pkt; deliver from sender-clocks-vs-twin/,
  );
  assert.match(e!.extra, /system busy Δ 2,500 cycles\/pkt \(cross-check\)/);
});

test('gha: a row without deliver gives read, named as such, and extra says so and why', () => {
  const [e] = JSON.parse(renderGha(withoutDeliver(withTrials()), 'cycles')) as GhaEntry[];
  assert.equal(e!.value, 2001);
  assert.equal(e!.name, 'socket/js drain mixed read');
  assert.match(e!.range!, /^±\d+\.\d\d%$/);
  assert.match(
    e!.extra,
    /read only \(the capturing thread\): deliver not measured, no none baseline in this run/,
  );
});

test('gha: from a comparison, the new rows with the change against base', () => {
  const next = withTrials();
  next.rows[0] = {
    ...next.rows[0]!,
    pps: 864197,
    ppsSamples: next.rows[0]!.ppsSamples.map((x) => x * 0.7),
  };
  const [e] = JSON.parse(
    renderGha(compare(withTrials(), next, { thresholdPct: 10 }), 'pps'),
  ) as GhaEntry[];
  assert.equal(e!.value, 864197);
  assert.match(e!.extra, /vs base: −30% ±\d+\.\d%, slower/);
});

test('gha: from a comparison, the cycles extra names the figure compared', () => {
  const [total] = JSON.parse(
    renderGha(compare(withTrials(), withTrials(), { thresholdPct: 10 }), 'cycles'),
  ) as GhaEntry[];
  assert.match(total!.extra, /vs base \(total\): \+0\.0% ±\d+\.\d%, same \(noise\)/);
  const [read] = JSON.parse(
    renderGha(compare(withTrials(), withoutDeliver(withTrials()), { thresholdPct: 10 }), 'cycles'),
  ) as GhaEntry[];
  assert.match(read!.extra, /vs base \(read\): /);
});

test('gha: the cycles file sits beside the pps file', () => {
  assert.equal(ghaCyclesPath('out/bench.json'), 'out/bench.cycles.json');
  assert.equal(ghaCyclesPath('bench'), 'bench.cycles');
  assert.equal(ghaCyclesPath('./dir.d/bench'), './dir.d/bench.cycles');
  assert.equal(ghaCyclesPath('.bench'), '.bench.cycles');
});

test('bmf: {benchmark: {throughput, total-cycles-per-packet}} with bounds from the margins of error', () => {
  const out = JSON.parse(renderBmf(withTrials())) as Record<
    string,
    Record<string, Record<string, number>>
  >;
  assert.deepEqual(Object.keys(out), ['socket/js drain mixed']);
  const b = out['socket/js drain mixed']!;
  assert.deepEqual(Object.keys(b).sort(), ['throughput', 'total-cycles-per-packet']);
  const t = b.throughput!;
  assert.equal(t.value, 1234567);
  assert.ok(Math.abs(t.lower_value! - 1234567 * (1 - 0.02345)) < 1e-6);
  assert.ok(Math.abs(t.upper_value! - 1234567 * (1 + 0.02345)) < 1e-6);
});

test('bmf: total-cycles-per-packet is bounded by totalRme; no spread, no bounds', () => {
  const out = JSON.parse(renderBmf(sampleResults())) as Record<
    string,
    Record<string, Record<string, number>>
  >;
  const c = out['socket/js drain mixed']!['total-cycles-per-packet']!;
  assert.equal(c.value, 2481);
  assert.ok(
    Math.abs(c.lower_value! - 2481 * 0.985) < 1e-9 &&
      Math.abs(c.upper_value! - 2481 * 1.015) < 1e-9,
  );
  const bare = JSON.parse(renderBmf(withCycles(sampleResults(), { totalRme: null }))) as Record<
    string,
    Record<string, Record<string, number>>
  >;
  assert.deepEqual(bare['socket/js drain mixed']!['total-cycles-per-packet'], { value: 2481 });
});

test('bmf: a row without deliver gives read, as a measure of its own so the series never mix', () => {
  const out = JSON.parse(renderBmf(withoutDeliver(sampleResults()))) as Record<
    string,
    Record<string, Record<string, number>>
  >;
  assert.deepEqual(out['socket/js drain mixed'], {
    throughput: out['socket/js drain mixed']!.throughput,
    'read-cycles-per-packet': { value: 2001 },
  });
});

/** Runs the compare command in-process, as main.ts will once it registers it. */
async function runCompare(args: string[]): Promise<unknown> {
  const program = new Command('capbench').exitOverride();
  registerCompare(program);
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(['node', 'capbench', 'compare', ...args]);
    return null;
  } catch (err) {
    return err;
  }
}

test('compare command: --format gha writes pps and cycles files; a regression is a CheckFailedError (exit 1)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-gha-'));
  try {
    const base = join(dir, 'base.json');
    const next = join(dir, 'new.json');
    const slower = withTrials();
    slower.rows[0] = {
      ...slower.rows[0]!,
      pps: 864197,
      ppsSamples: slower.rows[0]!.ppsSamples.map((x) => x * 0.7),
    };
    writeFileSync(base, JSON.stringify(withTrials()));
    writeFileSync(next, JSON.stringify(slower));
    const out = join(dir, 'bench.json');
    const err = await runCompare([
      base,
      next,
      '--format',
      'gha',
      '--out',
      out,
      '--threshold',
      '10%',
    ]);
    assert.ok(err instanceof CheckFailedError, String(err));
    assert.match(
      err.message,
      /1 regression beyond 10% and the noise: socket\/js drain rx pps −30%/,
    );
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as GhaEntry[])[0]!.unit, 'pps');
    assert.equal(
      (JSON.parse(readFileSync(join(dir, 'bench.cycles.json'), 'utf8')) as GhaEntry[])[0]!.unit,
      'cycles/pkt',
    );

    assert.equal(
      await runCompare([base, base, '--format', 'bmf', '--out', join(dir, 'b.json')]),
      null,
    );
    assert.ok(existsSync(join(dir, 'b.json')));

    const gha = await runCompare([base, base, '--format', 'gha']);
    assert.ok(gha instanceof UsageError && /give --out FILE/.test(gha.message));
    const missing = await runCompare([
      base,
      join(dir, 'nope.json'),
      '--format',
      'bmf',
      '--out',
      join(dir, 'c.json'),
    ]);
    assert.ok(
      missing instanceof UsageError &&
        /cannot read .*nope\.json: no such file/.test(missing.message),
    );
    const live = {
      ...withTrials(),
      rows: withTrials().rows.map((r) => ({ ...r, mode: 'live' as const })),
    };
    writeFileSync(next, JSON.stringify(live));
    const mismatched = await runCompare([
      base,
      next,
      '--format',
      'bmf',
      '--out',
      join(dir, 'd.json'),
    ]);
    assert.ok(mismatched instanceof UsageError && /no rows in common/.test(mismatched.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
