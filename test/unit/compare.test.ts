import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseThreshold } from '../../src/cli/commands/compare.js';
import { UsageError } from '../../src/shared/errors.js';
import type { CyclesPerPacket, Results, Row } from '../../src/core/results.js';
import { renderComparisonText } from '../../src/report/compare-text.js';
import {
  compare,
  exitStatus,
  regressions,
  type Comparison,
  type Metric,
} from '../../src/report/compare.js';
import { parseResults, V1_DELIVER_NOTE } from '../../src/report/load-results.js';
import { sampleResults, sampleWithTrials as withTrials } from './sample-results.js';

const T = { thresholdPct: 10 };

type RowEdit = (row: Row) => Partial<Row>;

function edited(results: Results, edit: RowEdit): Results {
  return { ...results, rows: results.rows.map((row) => ({ ...row, ...edit(row) })) };
}

/** Every pps figure (mean, samples, per trial) times factor: the same run, faster or slower. */
function scalePps(results: Results, factor: number): Results {
  return edited(results, (row) => ({
    pps: row.pps === null ? null : row.pps * factor,
    ppsSamples: row.ppsSamples.map((x) => x * factor),
    trials: row.trials.map((t) => ({ ...t, pps: t.pps === null ? null : t.pps * factor })),
  }));
}

/** Every cycles figure (row and per trial) edited alike. */
function editCycles(
  results: Results,
  edit: (c: CyclesPerPacket) => Partial<CyclesPerPacket>,
): Results {
  return edited(results, (row) => ({
    cyclesPerPacket: { ...row.cyclesPerPacket, ...edit(row.cyclesPerPacket) },
    trials: row.trials.map((t) => ({
      ...t,
      cyclesPerPacket: { ...t.cyclesPerPacket, ...edit(t.cyclesPerPacket) },
    })),
  }));
}

function scaleCycles(results: Results, factor: number): Results {
  const scale = (n: number | null): number | null => (n === null ? null : n * factor);
  return editCycles(results, (c) => ({
    deliver: scale(c.deliver),
    read: scale(c.read),
    total: scale(c.total),
  }));
}

/** deliver not measured, as on a run without a none baseline: total is null too. */
function withoutDeliver(results: Results): Results {
  return editCycles(results, () => ({
    deliver: null,
    total: null,
    totalRme: null,
    deliverNote: 'no none baseline in this run',
  }));
}

/** The same results as a capbench.results/1 file would have held them. */
function asV1(results: Results): unknown {
  const v1 = ({
    deliver,
    total,
    totalRme,
    deliverSource,
    deliverNote,
    read,
    systemBusy,
    ...rest
  }: CyclesPerPacket) => ({ ...rest, thread: read, system: systemBusy });
  return {
    ...results,
    schema: 'capbench.results/1',
    rows: results.rows.map((row) => ({
      ...row,
      cyclesPerPacket: v1(row.cyclesPerPacket),
      trials: row.trials.map(({ delivery, ...t }) => ({
        ...t,
        cyclesPerPacket: v1(t.cyclesPerPacket),
      })),
    })),
  };
}

function metric(c: Comparison, method: string, m: Metric) {
  const row = c.rows.find((r) => r.base?.method === method || r.next?.method === method);
  assert.ok(row?.metrics, `no matched row for ${method}`);
  return row.metrics[m];
}

test('compare: a file against itself is the same everywhere and exits 0', () => {
  const c = compare(withTrials(), withTrials(), T);
  assert.equal(c.matched, 3);
  for (const row of c.rows) {
    assert.equal(row.status, 'matched');
    for (const m of Object.values(row.metrics!))
      assert.ok(
        m.verdict === 'same' || m.verdict === 'n/a',
        `${row.label} ${m.metric}: ${m.verdict}`,
      );
  }
  assert.equal(metric(c, 'socket', 'pps').change, 0);
  assert.equal(metric(c, 'socket', 'pps').within, 'noise');
  assert.equal(metric(c, 'pcap-native', 'pps').verdict, 'n/a');
  assert.equal(exitStatus(c), 0);
});

test('compare: pps × 0.7 at a 10% threshold is slower and exits 1', () => {
  const c = compare(withTrials(), scalePps(withTrials(), 0.7), T);
  const m = metric(c, 'socket', 'pps');
  assert.equal(m.verdict, 'slower');
  assert.ok(Math.abs(m.change! + 0.3) < 1e-9);
  assert.equal(m.noise, 'welch');
  assert.ok(m.uncertainty! > 0 && m.uncertainty! < 0.3);
  assert.equal(exitStatus(c), 1);
  // Only the good row gates: pcap failed its checks in both runs, so its slowdown is reported only.
  assert.equal(metric(c, 'pcap', 'pps').verdict, 'slower');
  assert.deepEqual(
    regressions(c).map((r) => `${r.row.label} ${r.change.metric}`),
    ['socket/js drain pps'],
  );
});

test('compare: pps × 0.95 is within a 10% threshold and exits 0', () => {
  const c = compare(withTrials(), scalePps(withTrials(), 0.95), T);
  assert.equal(metric(c, 'socket', 'pps').verdict, 'same');
  assert.equal(exitStatus(c), 0);
});

test('compare: a real 5% drop (tight trials) is beyond the noise but below the threshold', () => {
  const tight = edited(withTrials(), (row) =>
    row.pps === null ? {} : { ppsSamples: [row.pps - 100, row.pps, row.pps + 100] },
  );
  const c = compare(tight, scalePps(tight, 0.95), T);
  const m = metric(c, 'socket', 'pps');
  assert.ok(m.uncertainty! < 0.01);
  assert.deepEqual([m.verdict, m.within], ['same', 'threshold']);
  assert.equal(exitStatus(c), 0);
  assert.equal(exitStatus(compare(tight, scalePps(tight, 0.95), { thresholdPct: 2 })), 1);
});

test('compare: a big change with a huge spread is within noise and exits 0', () => {
  const noisy = edited(withTrials(), (row) =>
    row.pps === null
      ? {}
      : { ppsSamples: [row.pps * 0.1, row.pps, row.pps * 1.9], ppsRme: 180, noisy: true },
  );
  const c = compare(noisy, scalePps(noisy, 0.6), T);
  const m = metric(c, 'socket', 'pps');
  assert.deepEqual([m.verdict, m.within, m.noise], ['same', 'noise', 'welch']);
  assert.ok(m.uncertainty! > 0.4);
  assert.equal(exitStatus(c), 0);
});

test('compare: with a single trial the rme intervals decide (overlap = within noise)', () => {
  const single = (rme: number): Results =>
    edited(withTrials(), (row) =>
      row.pps === null
        ? {}
        : { ppsSamples: [row.pps], ppsRme: rme, trials: row.trials.slice(0, 1) },
    );
  const wide = compare(single(30), scalePps(single(30), 0.7), T);
  assert.deepEqual(
    [metric(wide, 'socket', 'pps').noise, metric(wide, 'socket', 'pps').verdict],
    ['interval-overlap', 'same'],
  );
  assert.equal(exitStatus(wide), 0);
  const narrow = compare(single(2), scalePps(single(2), 0.7), T);
  assert.equal(metric(narrow, 'socket', 'pps').verdict, 'slower');
  assert.equal(exitStatus(narrow), 1);
});

test('compare: with no spread at all only the threshold applies', () => {
  const bare = edited(withTrials(), (row) =>
    row.pps === null ? {} : { ppsSamples: [row.pps], ppsRme: null, trials: [] },
  );
  const m = metric(compare(bare, scalePps(bare, 0.85), T), 'socket', 'pps');
  assert.deepEqual([m.noise, m.uncertainty, m.verdict], ['unknown', null, 'slower']);
  assert.equal(metric(compare(bare, scalePps(bare, 0.95), T), 'socket', 'pps').within, 'threshold');
});

test('compare: the more figures judged, the wider each margin, so the comparison as a whole holds at 95%', () => {
  // Many rows like the good one: m figures judged, each at 1 − 5%/m (Bonferroni).
  const many = (n: number): Results => {
    const r = withTrials();
    const good = r.rows[0]!;
    // Rows are told apart by their reader threads here: any key would do.
    return { ...r, rows: Array.from({ length: n }, (_, i) => ({ ...good, threads: i + 1 })) };
  };
  const one = compare(many(1), scalePps(many(1), 0.97), T);
  const six = compare(many(6), scalePps(many(6), 0.97), T);
  assert.equal(one.judgedFigures, 2);
  assert.equal(six.judgedFigures, 12);
  assert.ok(Math.abs(six.figureConfidence - (1 - 0.05 / 12)) < 1e-12);
  const margin = (c: Comparison): number => c.rows[0]!.metrics!.pps.uncertainty!;
  assert.ok(margin(six) > margin(one) * 1.2, `${margin(six)} vs ${margin(one)}`);
  assert.match(
    renderComparisonText(six, { color: false }),
    /noise margins at 95% for the 12 figures judged together \(each at 99\.6%, Bonferroni\)/,
  );
});

test('compare: cycles/pkt is smaller-is-better: more cycles is slower, fewer is faster', () => {
  const more = compare(withTrials(), scaleCycles(withTrials(), 1.5), T);
  assert.equal(metric(more, 'socket', 'cycles').verdict, 'slower');
  assert.equal(metric(more, 'socket', 'cycles').figure, 'total');
  assert.equal(metric(more, 'socket', 'cycles').noise, 'welch');
  assert.equal(exitStatus(more), 1);
  assert.deepEqual(
    regressions(more).map((r) => r.change.metric),
    ['cycles'],
  );

  const fewer = compare(withTrials(), scaleCycles(withTrials(), 0.5), T);
  assert.equal(metric(fewer, 'socket', 'cycles').verdict, 'faster');
  assert.equal(exitStatus(fewer), 0);
});

test("compare: cycles compares total, with the trials' totals as its spread", () => {
  const m = metric(compare(withTrials(), withTrials(), T), 'socket', 'cycles');
  assert.deepEqual(
    [m.figure, m.base, m.next, m.noise, m.verdict],
    ['total', 2481, 2481, 'welch', 'same'],
  );
});

test('compare: more deliver with the same read is a regression on total', () => {
  const next = editCycles(withTrials(), (c) => ({
    deliver: c.deliver === null ? null : c.deliver + 1000,
    total: c.total === null ? null : c.total + 1000,
  }));
  const c = compare(withTrials(), next, T);
  assert.deepEqual(
    [metric(c, 'socket', 'cycles').figure, metric(c, 'socket', 'cycles').verdict],
    ['total', 'slower'],
  );
  assert.equal(exitStatus(c), 1);
});

test('compare: a row whose deliver is null is not judged on total but on read', () => {
  // Against base's total (2481) the new read (2001) would look 19% faster.
  const m = metric(compare(withTrials(), withoutDeliver(withTrials()), T), 'socket', 'cycles');
  assert.deepEqual([m.figure, m.base, m.next, m.verdict], ['read', 2001, 2001, 'same']);
});

test('compare: a cycles figure one side lacks is not compared, never a regression', () => {
  const next = editCycles(withTrials(), () => ({
    read: null,
    deliver: null,
    total: null,
    totalRme: null,
  }));
  const c = compare(withTrials(), next, T);
  const m = metric(c, 'socket', 'cycles');
  assert.deepEqual([m.figure, m.verdict, m.change], [null, 'n/a', null]);
  assert.equal(exitStatus(c), 0);
  assert.match(
    renderComparisonText(c, { color: false }),
    /\n\s+cyc\/pkt\s+2,001\s+—\s+—\s+not compared\n/,
  );
});

test('compare: a /1 file loads and compares against a /2 file on read', () => {
  const base = parseResults(JSON.stringify(asV1(withTrials())), 'old.json');
  const c = compare(base, scaleCycles(withTrials(), 1.5), T);
  const m = metric(c, 'socket', 'cycles');
  assert.deepEqual([m.figure, m.base, m.verdict, m.noise], ['read', 2001, 'slower', 'welch']);
  assert.equal(exitStatus(c), 1);
  const text = renderComparisonText(c, { color: false });
  assert.match(text, /cyc\/pkt read\s+2,001\s+3,002\s+\+50% ±\d+\.\d%\s+slower/);
  assert.match(
    text,
    /compared on the capturing thread alone where a row has no total:\n {2}base: read from a capbench\.results\/1 file/,
  );
});

test('compare: more pps is faster and exits 0', () => {
  const c = compare(withTrials(), scalePps(withTrials(), 1.5), T);
  assert.equal(metric(c, 'socket', 'pps').verdict, 'faster');
  assert.equal(exitStatus(c), 0);
});

test('compare: files with no rows in common are mismatched: exit 2, rows listed as removed and added', () => {
  const live = edited(withTrials(), () => ({ mode: 'live' }));
  const c = compare(withTrials(), live, T);
  assert.equal(c.matched, 0);
  assert.deepEqual(
    c.rows.map((r) => r.status),
    ['removed', 'removed', 'removed', 'added', 'added', 'added'],
  );
  assert.equal(exitStatus(c), 2);
  assert.match(renderComparisonText(c, { color: false }), /no rows in common/);
});

test('compare: a row in only one file is listed, not an error', () => {
  const next = withTrials();
  next.rows = next.rows.slice(0, 2);
  next.rows.push({ ...next.rows[0]!, method: 'socket-mmsg' });
  const c = compare(withTrials(), next, T);
  assert.equal(c.matched, 2);
  assert.deepEqual(
    c.rows.map((r) => `${r.status} ${r.label}`),
    [
      'matched socket/js drain',
      'matched pcap/js drain',
      'removed pcap-native/js drain',
      'added socket-mmsg/js drain',
    ],
  );
  assert.equal(exitStatus(c), 0);
  const text = renderComparisonText(c, { color: false });
  assert.match(text, /pcap-native .* only in base/);
  assert.match(text, /socket-mmsg .* only in new/);
});

test('compare: rows are matched by sweep point as well', () => {
  const sweep = (r: Results): Results => {
    const row = r.rows[0]!;
    r.rows = [64, 128].map((frameBytes) => ({ ...row, point: { frameBytes, offeredPps: null } }));
    return r;
  };
  const base = sweep(withTrials());
  const next = sweep(withTrials());
  next.rows[1] = {
    ...next.rows[1]!,
    pps: next.rows[1]!.pps! * 0.5,
    ppsSamples: next.rows[1]!.ppsSamples.map((x) => x * 0.5),
  };
  const c = compare(base, next, T);
  assert.equal(c.matched, 2);
  assert.deepEqual(
    regressions(c).map((r) => r.row.label),
    ['socket/js drain 128 B @ max'],
  );
});

test('compare: an unavailable row never gates, even when the other run had figures', () => {
  const next = withTrials();
  next.rows[0] = {
    ...next.rows[0]!,
    available: false,
    ok: false,
    pps: null,
    ppsRme: null,
    reason: 'gone',
  };
  const c = compare(withTrials(), next, T);
  assert.equal(metric(c, 'socket', 'pps').verdict, 'n/a');
  assert.equal(exitStatus(c), 0);
});

test('compare text: columns, the change with its margin, the verdict and a closing sentence', () => {
  const text = renderComparisonText(compare(withTrials(), scalePps(withTrials(), 0.7), T), {
    color: false,
  });
  assert.match(text, /method\s+tier\s+mode\s+point\s+metric\s+base\s+new\s+change\s+verdict/);
  assert.match(
    text,
    /socket\s+js\s+drain\s+—\s+rx pps\s+1\.23 M\s+864\.2 k\s+−30% ±\d+\.\d%\s+slower/,
  );
  assert.match(text, /1 regression beyond 10% and the noise:\n {2}socket\/js drain rx pps: −30%/);
  assert.match(
    text,
    /pcap\/js drain: failed in base, failed in new; reported, never fails the comparison/,
  );
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(text, /\x1b\[/);
});

test('threshold: "10%" and "10" are both ten percent; nonsense is a usage error', () => {
  assert.equal(parseThreshold('10%'), 10);
  assert.equal(parseThreshold('10'), 10);
  assert.equal(parseThreshold('2.5%'), 2.5);
  assert.equal(parseThreshold('0'), 0);
  for (const bad of ['', 'ten', '-5', '10%%', '5 percent'])
    assert.throws(() => parseThreshold(bad), UsageError, bad);
});

/** A row with everything load checks but the cycles figures given. */
function bareRow(cycles: Record<string, number | null>): string {
  return JSON.stringify({
    method: 'socket',
    tier: 'js',
    mode: 'drain',
    available: true,
    ok: true,
    pps: 1,
    ppsRme: null,
    ppsSamples: [],
    trials: [],
    cyclesPerPacket: cycles,
  });
}

test('load: a /1 file becomes /3: thread is read, system is systemBusy, no deliver or total, trials likewise', () => {
  const loaded = parseResults(JSON.stringify(asV1(withTrials())), 'old.json');
  assert.equal(loaded.schema, 'capbench.results/3');
  const cpp = loaded.rows[0]!.cyclesPerPacket;
  assert.deepEqual(cpp, {
    deliver: null,
    read: 2001,
    total: null,
    totalRme: null,
    deliverSource: null,
    deliverNote: V1_DELIVER_NOTE,
    user: 800.4,
    sys: 1200.6,
    systemBusy: 2500,
    source: 'tsc',
  });
  assert.match(cpp.deliverNote, /capbench\.results\/1/);
  const trial = loaded.rows[0]!.trials[1]!;
  assert.deepEqual(
    [trial.delivery, trial.cyclesPerPacket.read, trial.cyclesPerPacket.total],
    [null, 2001, null],
  );
});

test('load: not JSON, wrong schema and malformed rows are one-line usage errors naming the file', () => {
  const cases: [string, RegExp][] = [
    ['nope\n{', /^a\.json: not JSON \(.*\)$/],
    ['[1, 2]', /^a\.json: not a capbench results file/],
    [
      '{"schema": "capbench.results/0", "rows": []}',
      /^a\.json: not a capbench\.results\/3 \(or \/2, \/1\) file \(schema 'capbench\.results\/0'\)$/,
    ],
    [
      '{"rows": []}',
      /^a\.json: not a capbench\.results\/3 \(or \/2, \/1\) file \(no schema field\)$/,
    ],
    [
      '{"schema": "capbench.results/2", "host": {}, "config": {}}',
      /^a\.json: capbench\.results\/2 file without host, config or rows$/,
    ],
    [
      '{"schema": "capbench.results/2", "host": {}, "config": {}, "rows": [{"method": "socket"}]}',
      /^a\.json: row 1 has no tier$/,
    ],
    [
      `{"schema": "capbench.results/2", "host": {}, "config": {}, "rows": [${bareRow({ deliver: null, read: 1 })}]}`,
      /^a\.json: row 1 has no cyclesPerPacket\.total$/,
    ],
    [
      `{"schema": "capbench.results/1", "host": {}, "config": {}, "rows": [${bareRow({ read: 1 })}]}`,
      /^a\.json: row 1 has no cyclesPerPacket\.thread$/,
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseResults(text, 'a.json'),
      (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      },
    );
  }
  assert.deepEqual(parseResults(JSON.stringify(sampleResults()), 'a.json'), sampleResults());
});

test('load: a file from before two-port mode reads as having no generator port', () => {
  const old = sampleResults();
  const { genIface, ...config } = old.config;
  assert.equal(genIface, null);
  const loaded = parseResults(JSON.stringify({ ...old, config }), 'old.json');
  assert.equal(loaded.config.genIface, null);
});

test("load: a /2 file becomes /3: its methods' options move into config.methodOptions", () => {
  const { methodOptions: _, ...config } = sampleResults().config;
  const v2 = {
    ...sampleResults(),
    schema: 'capbench.results/2',
    config: { ...config, batch: 16, ringMb: 8, queues: 2, zeroCopy: false },
  };
  const loaded = parseResults(JSON.stringify(v2), 'v2.json');
  assert.equal(loaded.schema, 'capbench.results/3');
  assert.deepEqual(loaded.config.methodOptions, {
    batch: 16,
    'ring-mb': 8,
    queues: 2,
    zerocopy: false,
  });
});
