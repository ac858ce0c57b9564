/**
 * The table on stdout: one row per method and tier, failures and unavailable methods explained in
 * numbered notes below it so that the table stays narrow.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { MIN_PACKETS } from '../core/accounting.js';
import {
  methodLabel,
  type Results,
  type Row,
  type RunSpeed,
  type Stopping,
} from '../core/results.js';
import type { SpeedSpread } from '../core/drift.js';
import { trafficFrom } from '../core/config.js';
import { DASH, delay, percent, si, whole } from './format-number.js';
import { pointLabel, readerThreads } from './compare.js';
import { columnLayout } from './columns.js';

/**
 * What the cycle columns show: what the machine paid (the default), the same at the point's
 * reference speed (--normalised: for comparing runs), or the counts that explain a cost (--explain).
 */
export type TableView = 'paid' | 'normalised' | 'explain';

export interface TableOptions {
  color: boolean;
  view?: TableView;
}

const HEADERS = [
  'method',
  'tier',
  'mode',
  'rx pps',
  '',
  'rme',
  'drops',
  'cyc/pkt deliver',
  'read',
  'total',
  'rme',
  'IPv4 counted/expected',
  'verdict',
];
/** Columns holding numbers are right-aligned. */
const RIGHT = new Set([3, 5, 6, 7, 8, 9, 10, 11]);
const EXPLAIN_HEADERS = [
  'method',
  'tier',
  'mode',
  'total',
  'calls/pkt',
  'pkts/call',
  'pkts/wake-up',
  'pkts/batch',
  'vol cs/Mpkt',
  'invol cs/Mpkt',
  'minflt/Mpkt',
  'verdict',
];
const EXPLAIN_RIGHT = new Set([3, 4, 5, 6, 7, 8, 9, 10]);
const BAR_WIDTH = 10;
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of up to BAR_WIDTH cells, in eighths, for pps relative to the fastest row. */
export function bar(value: number | null, max: number): string {
  if (value === null || !(max > 0) || !(value > 0)) return '';
  const eighths = Math.max(1, Math.round((value / max) * BAR_WIDTH * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

/** A row whose rate rests on enough packets to be drawn (see MIN_PACKETS). */
function measured(row: Row): boolean {
  return row.available && row.received >= MIN_PACKETS;
}

function ipv4(row: Row): string {
  if (row.ipv4Counted === null) return DASH;
  return `${whole(row.ipv4Counted)} / ${row.ipv4Expected === null ? '?' : whole(row.ipv4Expected)}`;
}

function cells(
  row: Row,
  note: number | null,
  c: ChalkInstance,
  maxPps: number,
  noisyRme: number,
): string[] {
  const verdict = !row.available
    ? c.dim(`unavailable [${note}]`)
    : row.ok
      ? c.green(note === null ? 'ok' : `ok [${note}]`)
      : c.red(`FAIL [${note}]`);
  const drops =
    row.dropped === null
      ? '?'
      : row.dropsSource === 'derived' && row.dropped > 0
        ? `${whole(row.dropped)}*`
        : whole(row.dropped);
  if (!row.available)
    return [
      methodLabel(row),
      row.tier,
      row.mode,
      DASH,
      '',
      DASH,
      DASH,
      DASH,
      DASH,
      DASH,
      DASH,
      DASH,
      verdict,
    ];
  const cpp = row.cyclesPerPacket;
  const rme = (value: number | null): string =>
    value !== null && value > noisyRme ? c.yellow(`${percent(value)}!`) : percent(value);
  const clustered = multimodal(row) ? c.yellow('~') : '';
  return [
    methodLabel(row),
    row.tier,
    row.mode,
    si(row.pps),
    c.cyan(bar(measured(row) ? row.pps : null, maxPps)),
    rme(row.ppsRme),
    drops,
    whole(cpp.deliver),
    whole(cpp.read),
    c.bold(whole(cpp.total)),
    rme(cpp.totalRme) + clustered,
    ipv4(row),
    verdict,
  ];
}

function multimodal(row: Row): boolean {
  return row.clusters?.two === true;
}

/** A count per packet, with enough digits to read both 1 and 0.0156. */
function perPacket(value: number | null): string {
  if (value === null) return DASH;
  if (value === 0) return '0';
  return value >= 100 ? whole(value) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

/** The --explain view's cells: total, then the counts per packet (ExplainCounts). */
function explainCells(row: Row, verdict: string, c: ChalkInstance): string[] {
  const e = row.explain ?? null;
  const counts =
    e === null
      ? Array<string>(7).fill(DASH)
      : [
          perPacket(e.callsPerPacket),
          perPacket(e.packetsPerCall),
          perPacket(e.packetsPerWakeup),
          perPacket(e.packetsPerBatch),
          // A few per million packets: per million reads better than 0.00000100 per packet.
          perPacket(e.voluntarySwitchesPerPacket * 1e6),
          perPacket(e.involuntarySwitchesPerPacket * 1e6),
          perPacket(e.minorFaultsPerPacket * 1e6),
        ];
  return [
    methodLabel(row),
    row.tier,
    row.mode,
    c.bold(whole(row.cyclesPerPacket.total ?? row.cyclesPerPacket.read)),
    ...counts,
    verdict,
  ];
}

/**
 * A row as the normalised view shows it: its cycles at reference speed in place of what the
 * machine paid, and noisy by those. Rows without probes (older files) stay as they were.
 */
function atReferenceSpeed(row: Row, noisyRme: number): Row {
  const n = row.normalised ?? null;
  if (n === null) return row;
  const totalRme = n.total !== null ? n.totalRme : n.readRme;
  return {
    ...row,
    cyclesPerPacket: {
      ...row.cyclesPerPacket,
      deliver: n.deliver,
      read: n.read,
      total: n.total,
      totalRme,
    },
    ppsRme: n.ppsRme,
    noisy: [n.ppsRme, totalRme].some((r) => r != null && r > noisyRme),
  };
}

/** What the header says about where `deliver` came from, from the sources the rows used. */
function deliverLine(rows: readonly Row[]): string | null {
  const sources = new Set(
    rows.map((r) => r.cyclesPerPacket.deliverSource).filter((s) => s !== null),
  );
  const said: Record<string, string> = {
    'sender-clocks-vs-twin':
      "the sender's CPU clocks (generator thread, ksoftirqd) during the fill, against a twin veth filled at the same time",
    'sender-clocks-vs-none':
      "the sender's CPU clocks (generator thread, ksoftirqd) per frame sent, against the none baseline",
    'system-busy-vs-none':
      'machine-wide busy time (/proc/stat) less the reading thread, against the none baseline',
    'system-busy-two-port':
      'machine-wide busy time (/proc/stat) less the reading thread while the frames were delivered, against the none baseline per frame sent ' +
      "(on a NIC the receive path runs on the capture port's interrupt CPU)",
  };
  return sources.size === 0
    ? null
    : `deliver: the kernel's work to bring a frame to the method, from ${[...sources].map((s) => said[s]).join('; ')}`;
}

function latencyCell(row: Row): string {
  return row.latency === null ? DASH : `${delay(row.latency.p50Ns)} / ${delay(row.latency.p99Ns)}`;
}

/** The reader thread counts the rows were measured at, ascending. */
export function threadCounts(rows: readonly Row[]): number[] {
  return [...new Set(rows.map(readerThreads))].sort((a, b) => a - b);
}

/**
 * What a scaling curve from this machine can say. Readers beyond the CPUs the generator leaves
 * take turns on cores rather than add any, and on the veth test bed the kernel delivers each frame
 * on the CPU that sent it, so the generator's CPUs bound what any number of readers receive.
 */
export function cpuShareNote(results: Results): string {
  const { host, config } = results;
  const readers = Math.max(...threadCounts(results.rows));
  // Files from before multi-core capture have neither field: one generator thread, readers unpinned.
  const generators = (config.generatorThreads as number | undefined) ?? 1;
  const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  const free = host.cpus - generators;
  const own = readers + generators <= host.cpus;
  const shared = own
    ? `This machine has ${plural(host.cpus, 'CPU')}: every reader had one besides the generator's.`
    : `This machine has ${plural(host.cpus, 'CPU')}: readers and the generator share them, so ` +
      `${free >= 1 ? `past ${plural(free, 'reader')} ` : ''}more threads take turns on the same cores instead of adding any, ` +
      'and figures over thread counts say little about scaling on a larger machine. Where a reader shares a CPU with a sender, ' +
      'the receive softirq interrupts it and is charged to it (this kernel has no IRQ time accounting): part of deliver then shows in read; compare total.';
  // Pinned to fewer CPUs than readers is news only where the machine had a CPU for each.
  const pinned = (config.captureCpus as number[] | undefined) ?? [];
  const pins =
    own && pinned.length > 0 && pinned.length < readers
      ? ` The readers were pinned to ${plural(pinned.length, 'CPU')} (${pinned.join(', ')}): more readers than that share them.`
      : '';
  const veth =
    config.iface === null
      ? ` On the veth test bed the kernel delivers each frame on the CPU that sent it, so what ${plural(generators, 'generator thread')} can send and deliver bounds rx pps however many readers there are.`
      : '';
  return shared + pins + veth;
}

/** The share of a row's frames one reader must get for its readers to count as not having shared the work. */
const LOPSIDED = 0.99;

/**
 * Readers that did not share the work. PACKET_FANOUT keeps a flow (hash) or a receiving CPU (cpu)
 * on one socket, and af-xdp reads the queue a frame arrived on, which veth picks by the sending
 * CPU: a fixture of one flow, or one generator thread, gives one reader everything. Null when
 * every row with several readers spread its frames.
 */
export function oneReaderNote(results: Results): string | null {
  const spread = results.rows.filter(
    (r) => r.available && (r.perThread?.length ?? 0) > 1 && r.received >= MIN_PACKETS,
  );
  const lopsided = spread.filter((r) => {
    const got = r.perThread!.map((t) => t.received);
    return Math.max(...got) >= LOPSIDED * got.reduce((a, n) => a + n, 0);
  });
  if (lopsided.length === 0) return null;
  const which = lopsided
    .map(
      (r) =>
        `${r.method}/${r.tier} with ${readerThreads(r)} readers${r.point === null ? '' : ` at ${pointLabel(r.point)}`}`,
    )
    .join(', ');
  return (
    `In ${lopsided.length} of ${spread.length} rows with several readers one reader received ${LOPSIDED * 100}% of the frames or more (${which}): ` +
    'PACKET_FANOUT by hash keeps each flow on one socket and by cpu each receiving CPU, and af-xdp reads the queue a frame arrived on, ' +
    "which on veth is the sending CPU's; a fixture of one flow (udp<size>) or one generator thread leaves the other readers idle. " +
    'udp64-flows has 256 flows; --gen-threads sends from more CPUs.'
  );
}

/** A sweep point in the table's columns: size and offered rate, and the thread count where the rows mix them. */
function pointCells(row: Row, withThreads: boolean): string[] {
  const p = row.point;
  const threads = withThreads ? [String(readerThreads(row))] : [];
  if (!p) return [DASH, DASH, ...threads];
  return [
    p.frameBytes === null ? DASH : `${p.frameBytes} B`,
    p.offeredPps === null ? 'max' : si(p.offeredPps),
    ...threads,
  ];
}

/** "5 rounds per row (precision 3 % reached)", "14 rounds per row (stopped at --max-time 90 s: ...)". */
function roundsText(config: Results['config'], stopping: Stopping | null | undefined): string {
  const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (!stopping || stopping.rule === 'trials')
    return `${plural(stopping?.rounds ?? config.trials, 'trial')} per row`;
  const rounds = `${plural(stopping.rounds, 'round')} per row`;
  if (stopping.rule === 'precision')
    return `${rounds} (each row's cycles at reference speed known to ±${stopping.precisionPct}%)`;
  return `${rounds} (stopped by --max-time ${stopping.maxTimeSec} s with ${stopping.impreciseRows.join(', ')} above ±${stopping.precisionPct}%)`;
}

const ms = (ns: number): string => `${(ns / 1e6).toFixed(2)} ms`;

/** The counter alone (tinybench): the floor of what counting costs a frame in each tier. */
function floorLine(results: Results): string | null {
  const f = results.counterFloor ?? null;
  if (f === null) return null;
  const tsc = results.host.tscHz / 1e9;
  const one = (what: string, x: { nsPerFrame: number; rmePct: number }): string =>
    `${what} ${x.nsPerFrame.toFixed(2)} ns (${(x.nsPerFrame * tsc).toFixed(1)} cycles) ±${x.rmePct.toFixed(1)}%`;
  return `counter alone (tinybench, ${f.batch} frames in memory): ${one('js', f.js)}, ${one('native', f.native)} a frame: the floor under read`;
}

/** How the machine's speed varied over the run: the probe's ns per CPU role. */
function speedLine(speed: RunSpeed | null | undefined): string | null {
  if (!speed?.reader) return null;
  const one = (what: string, s: SpeedSpread): string =>
    `${what} ${ms(s.medianNs)} median, ${ms(s.minNs)}–${ms(s.maxNs)} (${s.rangePct.toFixed(0)}% apart, mean ±${percent(s.rmePct).replace('±', '')})`;
  return (
    'machine speed (a fixed ~1 ms of work timed around every window): ' +
    [
      one("reader's CPU", speed.reader),
      ...(speed.sender ? [one("sender's CPU", speed.sender)] : []),
    ].join('; ')
  );
}

/**
 * The noisy rows, and whether the machine's own drift explains each: at reference speed its
 * figure is within --noisy-rme (driftExplainsNoise).
 */
function noisyNote(rows: readonly Row[], noisyRme: number, view: TableView): string {
  const head = `! noisy: a margin of error is above ${noisyRme}% (--noisy-rme)`;
  const sentence = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
  if (view === 'normalised')
    return `${head} even at reference speed: the windows themselves differ, not only the machine's speed`;
  const label = (r: Row): string => `${methodLabel(r)}/${r.tier}`;
  const noisy = rows.filter((r) => r.noisy);
  const drift = noisy.filter((r) => r.driftExplainsNoise === true).map(label);
  const own = noisy.filter((r) => r.driftExplainsNoise === false).map(label);
  const parts = [
    ...(drift.length > 0
      ? [
          `the machine's drift explains it for ${drift.join(', ')} (at reference speed within ${noisyRme}%: --normalised)`,
        ]
      : []),
    ...(own.length > 0
      ? [
          `not for ${own.join(', ')}: at reference speed still above, so those windows themselves differed`,
        ]
      : []),
  ];
  return parts.length === 0
    ? `${head}; the machine was busy or the windows too short`
    : `${head}. ${sentence(parts.join('; '))}`;
}

export function renderTable(results: Results, options: TableOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const { host, config } = results;
  const view = options.view ?? 'paid';
  const rows =
    view === 'normalised'
      ? results.rows.map((r) => atReferenceSpeed(r, config.noisyRme))
      : results.rows;
  const notes: string[] = [];
  // Bars compare measured rows only: a few stray frames are not a rate to scale the others by.
  const maxPps = Math.max(0, ...rows.map((r) => (measured(r) ? (r.pps ?? 0) : 0)));
  // Sweep rows say which point they measured, in extra columns after the mode: size and offered
  // rate, and reader threads where the rows were measured at more than one count.
  const swept = results.rows.some((r) => r.point !== null);
  const mixed = threadCounts(results.rows).length > 1;
  const pointHeaders = swept ? ['size', 'offered', ...(mixed ? ['threads'] : [])] : [];
  const pointCols = pointHeaders.length;
  const withPoint = (cols: string[], row: Row | null): string[] =>
    swept
      ? [...cols.slice(0, 3), ...(row ? pointCells(row, mixed) : pointHeaders), ...cols.slice(3)]
      : cols;
  const explain = view === 'explain';
  const columns = explain ? EXPLAIN_HEADERS : HEADERS;
  const numeric = explain ? EXPLAIN_RIGHT : RIGHT;
  const latencyCol = columns.length - 1 + pointCols;
  const right = (i: number): boolean =>
    i === latencyCol || (i >= 3 && i < 3 + pointCols) || numeric.has(i - pointCols);
  const body = rows.map((row) => {
    let note: number | null = null;
    if (row.reason !== null) {
      notes.push(`[${notes.length + 1}] ${methodLabel(row)}/${row.tier}: ${row.reason}`);
      note = notes.length;
    }
    const paid = cells(row, note, c, maxPps, config.noisyRme);
    return withPoint(explain ? explainCells(row, paid[paid.length - 1]!, c) : paid, row);
  });
  // Live rows with the generator's timestamps get a latency column before the verdict.
  const timed = !explain && rows.some((r) => r.latency !== null);
  const withLatency = (cols: string[], text: string): string[] =>
    timed ? [...cols.slice(0, -1), text, cols[cols.length - 1]!] : cols;
  const headers = withLatency(withPoint(columns, null), 'latency p50/p99');
  body.forEach((cols, i) => (body[i] = withLatency(cols, latencyCell(rows[i]!))));
  const line = columnLayout([headers, ...body], right);

  const from = trafficFrom(config);
  const rate = `at ${config.rate === 'max' ? "the generator's maximum rate" : `${whole(config.rate)} pps offered`}`;
  const offered = from === 'elsewhere' ? `on ${config.iface}, traffic from elsewhere` : rate;
  const ports =
    from === 'two-port'
      ? ` on ${config.iface}, traffic from capbench's generator on ${config.genIface}`
      : '';
  // A run with several readers says so once; a sweep over counts says it per row.
  const [only = 1] = threadCounts(results.rows);
  const readers = !mixed && only > 1 ? `, ${only} reader threads` : '';
  const what =
    config.mode === 'drain'
      ? `drain of ${whole(config.count)} frames${ports}${readers}`
      : `live for ${config.durationSec} s ${offered}${ports}${readers}`;
  const fixtureNote =
    from === 'elsewhere'
      ? 'no fixture'
      : swept && results.rows.some((r) => r.point?.frameBytes != null)
        ? 'fixture per size'
        : `fixture ${config.fixturePath.split('/').pop()}`;
  const source =
    results.rows.find((r) => r.available)?.cyclesPerPacket.source === 'perf'
      ? 'hardware cycle counters'
      : 'CPU time × TSC rate (no hardware cycle counters)';
  const out = [
    c.bold(
      `capbench: ${swept ? 'sweep, ' : ''}${what}, ${roundsText(config, results.stopping)}, ${fixtureNote}`,
    ),
    `${host.cpus} × ${host.cpuModel}, Linux ${host.kernel}, Node ${host.node}`,
    `cycles/packet at ${(host.tscHz / 1e6).toFixed(0)} MHz, from ${source}; read: ${only > 1 || mixed ? "the reader threads' CPU clocks and the waiting thread's" : "the capturing thread's CPU clock"}; total = deliver + read`,
    ...[
      config.deliver === false
        ? 'deliver: not measured (--deliver off), so no total: compare read'
        : deliverLine(results.rows),
      speedLine(results.speed),
      floorLine(results),
      view === 'normalised'
        ? "shown at reference speed (--normalised): each window's CPU time scaled by the speed probe around it to the run's median speed; not what the machine paid, but what compares across runs"
        : null,
      explain
        ? 'for the reading thread(s): calls into the kernel per packet (libpcap: calls into libpcap), packets per call, per wake-up and per batch; per million packets, context switches (voluntary: it slept; involuntary: preempted) and minor faults'
        : null,
    ].filter((l) => l !== null),
    '',
    c.bold(line(headers)),
    ...body.map(line),
  ];
  if (!explain && rows.some((r) => r.noisy)) out.push('', noisyNote(rows, config.noisyRme, view));
  if (!explain && rows.some(multimodal)) {
    out.push(
      '',
      "~ the row's windows fell into two clusters, not one spread (one split of them explains more of their variance than chance would in 99 of 100 runs): its mean lies between them; its trials are in --json",
    );
  }
  if (results.rows.some((r) => r.dropsSource === 'derived' && (r.dropped ?? 0) > 0)) {
    out.push('', '* drops derived as sent − received: the method cannot report its own');
  }
  if (results.rows.some((r) => r.available && r.dropped === null)) {
    out.push(
      '',
      '? drops unknown: the method cannot report its own, and traffic from elsewhere has no sent count to derive them from',
    );
  }
  // With --deliver off the header has said it once.
  const deliverNotes = new Set(
    config.deliver === false
      ? []
      : results.rows
          .filter(
            (r) =>
              r.available &&
              r.cyclesPerPacket.deliver === null &&
              r.cyclesPerPacket.deliverNote !== null,
          )
          .map((r) => r.cyclesPerPacket.deliverNote),
  );
  for (const note of deliverNotes) out.push('', `deliver ${DASH}: ${note}`);
  if (mixed || only > 1) out.push('', cpuShareNote(results));
  const lopsided = oneReaderNote(results);
  if (lopsided !== null) out.push('', lopsided);
  if (notes.length > 0) out.push('', ...notes);
  return out.join('\n') + '\n';
}
