/**
 * Results as one self-contained HTML page: host and configuration, bar charts of pps and of
 * cycles per packet, line charts for sweeps and for scaling over reader threads, and every row in
 * a table. Everything is inline (CSS,
 * SVG, one small script) and nothing points outside the file, so the page can be mailed,
 * attached to a CI run or opened offline, and every string from the results is escaped.
 */
import { MIN_PACKETS } from '../core/accounting.js';
import {
  methodLabel,
  type DeliverSource,
  type Results,
  type Row,
  type ThreadShare,
} from '../core/results.js';
import { methodOptionsText } from './method-options-text.js';
import { headlineCycles, pointLabel, readerThreads } from './compare.js';
import { DASH, delay, percent, si, whole } from './format-number.js';
import {
  barChart,
  escapeXml as esc,
  lineChart,
  type BarValue,
  type LineSeries,
} from './svg-chart.js';
import { cpuShareNote, oneReaderNote, threadCounts } from './table.js';

const CSS = `
:root { color-scheme: light; --fg: #1d1f23; --dim: #6a6f78; --line: #d9dce1; --bad: #b42318; --good: #067647; --warn: #b54708; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); margin: 0; padding: 24px 32px 48px; max-width: 1320px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p.lead { margin: 0 0 16px; color: var(--dim); }
.facts { display: flex; flex-wrap: wrap; gap: 16px 48px; align-items: flex-start; }
.facts td { padding: 1px 0; }
.facts table td:first-child { color: var(--dim); padding-right: 16px; }
table { border-collapse: collapse; }
.scroll { overflow-x: auto; }
table.rows { width: 100%; font-variant-numeric: tabular-nums; }
table.rows td.id { white-space: nowrap; }
table.rows td.verdict { min-width: 220px; }
table.rows th, table.rows td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.rows th { font-weight: 600; background: #f4f5f7; position: sticky; top: 0; }
table.rows td.num, table.rows th.num { text-align: right; white-space: nowrap; }
.sub { display: block; color: var(--dim); font-size: 12px; }
td.num .sub { white-space: pre; }
.ok { color: var(--good); font-weight: 600; }
.fail { color: var(--bad); font-weight: 600; }
.na { color: var(--dim); }
.noisy { color: var(--warn); font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; }
figure { margin: 0; }
figcaption { color: var(--dim); font-size: 12px; max-width: 600px; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; }
svg .title { font-size: 14px; font-weight: 600; fill: var(--fg); }
svg .tick, svg .axis, svg .cat, svg .legend, svg .value { fill: #3d4148; }
svg .tick, svg .value { font-size: 11px; }
svg .na { fill: var(--dim); font-size: 11px; }
svg .grid { stroke: #eceef1; }
svg .axisline { stroke: #8a8f98; }
svg .err { stroke: #1d1f23; stroke-width: 1.2; fill: none; }
svg .line { fill: none; stroke-width: 2; }
svg .identity { fill: none; stroke: #8a8f98; stroke-dasharray: 5 4; }
ul.notes { color: var(--dim); padding-left: 20px; }
p.note { color: var(--dim); font-size: 12px; max-width: 1224px; margin: 8px 0 0; }
`;

/**
 * Runs once the page has loaded: counts chart marks with a non-empty layout box and writes
 * "drawn/total" to <html data-marks-drawn>, where a headless browser's --dump-dom shows it.
 */
const SELF_CHECK = `(function () {
  var marks = document.querySelectorAll('svg.chart .mark'), drawn = 0;
  for (var i = 0; i < marks.length; i++) { var b = marks[i].getBBox(); if (b.width > 0 && b.height > 0) drawn++; }
  document.documentElement.setAttribute('data-marks-drawn', drawn + '/' + marks.length);
})();`;

function describeRun(results: Results): string {
  const { config } = results;
  const fixture = `fixture ${config.fixturePath.split('/').pop() ?? ''}`;
  const traffic =
    config.iface === null
      ? fixture
      : config.genIface === null
        ? `on ${config.iface}, traffic from elsewhere`
        : `on ${config.iface}, traffic from capbench's generator on ${config.genIface}, ${fixture}`;
  const what =
    config.mode === 'drain'
      ? `drain of ${whole(config.count)} frames`
      : `live for ${config.durationSec} s`;
  const rate = config.rate === 'max' ? 'flat out' : `${whole(config.rate)} pps offered`;
  return `${what}, ${rate}, ${traffic}, ${config.trials} trial${config.trials === 1 ? '' : 's'} per row`;
}

function facts(title: string, pairs: [string, string][]): string {
  const rows = pairs.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
  return `<table><caption hidden>${esc(title)}</caption><tbody>${rows}</tbody></table>`;
}

/** Where deliver came from, short enough for a fact line or a tooltip. */
const DELIVER_FROM: Readonly<Record<DeliverSource, string>> = {
  'sender-clocks-vs-twin':
    "the sender's CPU clocks during the fill, against a twin veth filled beside it",
  'sender-clocks-vs-none': "the sender's CPU clocks per frame sent, against the none baseline",
  'system-busy-vs-none':
    'machine-wide busy time less the reading thread, against the none baseline',
  'system-busy-two-port':
    'machine-wide busy time less the reading thread while the frames were delivered, against the none baseline per frame sent',
};

function deliverSources(rows: readonly Row[]): DeliverSource[] {
  return unique(
    rows.map((r) => r.cyclesPerPacket.deliverSource).filter((s): s is DeliverSource => s !== null),
  );
}

function hostAndConfig(results: Results): string {
  const { host, config } = results;
  const source = results.rows.find((r) => r.available)?.cyclesPerPacket.source;
  const delivered = deliverSources(results.rows);
  const hostPairs: [string, string][] = [
    ['CPU', `${host.cpus} × ${host.cpuModel}`],
    ['kernel', `Linux ${host.kernel}`],
    ['Node', host.node],
    ['TSC', `${(host.tscHz / 1e6).toFixed(0)} MHz`],
    ['cycles from', source === 'perf' ? 'hardware cycle counters' : 'CPU time × TSC rate'],
    [
      'deliver from',
      delivered.length === 0 ? 'not measured' : delivered.map((d) => DELIVER_FROM[d]).join('; '),
    ],
    ['started', results.startedAt],
  ];
  const configPairs: [string, string][] = [
    ['methods', config.methods.join(', ')],
    ['mode', config.mode],
    [
      config.mode === 'drain' ? 'count' : 'duration',
      config.mode === 'drain' ? whole(config.count) : `${config.durationSec} s`,
    ],
    ['rate', config.rate === 'max' ? 'max' : `${whole(config.rate)} pps`],
    [
      'traffic',
      config.iface === null
        ? config.fixturePath
        : config.genIface === null
          ? `interface ${config.iface}`
          : `${config.fixturePath} from ${config.genIface} to interface ${config.iface}`,
    ],
    ['trials', String(config.trials)],
    ['tiers', config.tiers.join(', ')],
    ['method options', methodOptionsText(config)],
    [
      'CPUs',
      `generator ${config.generatorCpu < 0 ? 'unpinned' : config.generatorCpu}, capture ${config.captureCpu < 0 ? 'unpinned' : config.captureCpu}`,
    ],
    ['reader threads', readersFact(results)],
    ['noisy above', `${config.noisyRme}% rme`],
  ];
  return `<div class="facts">${facts('Host', hostPairs)}${facts('Configuration', configPairs)}</div>`;
}

/** How many readers, and how frames were spread over them; files from before --threads had one. */
function readersFact(results: Results): string {
  const counts = threadCounts(results.rows);
  const most = counts[counts.length - 1] ?? 1;
  if (most === 1) return '1';
  const fanout = (results.config.fanout as string | undefined) ?? null;
  const spread =
    fanout === null ? '' : `, spread by PACKET_FANOUT ${fanout} (af-xdp: by receive queue)`;
  return `${counts.length > 1 ? `${counts.join(', ')}, one row per count` : String(most)}${spread}`;
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

/** pps per method, one bar per tier, with the 95% margin of error as an error bar. */
function ppsChart(rows: Row[]): string {
  const modes = unique(rows.map((r) => r.mode));
  const category = (r: Row): string =>
    modes.length > 1 ? `${methodLabel(r)} ${r.mode}` : methodLabel(r);
  // The none baseline runs but delivers nothing to count: no bar to draw. Unavailable methods stay, as n/a.
  const categories = unique(rows.map(category)).filter((c) =>
    rows.some((r) => category(r) === c && (!r.available || r.pps !== null)),
  );
  const tiers = unique(rows.map((r) => r.tier));
  const values = categories.map((c) =>
    tiers.map((t): BarValue => {
      const row = rows.find((r) => category(r) === c && r.tier === t);
      // A rate resting on a few stray frames is no bar to scale the others by (see MIN_PACKETS).
      return row === undefined || !row.available || row.received < MIN_PACKETS
        ? { value: null }
        : { value: row.pps, errorPct: row.ppsRme };
    }),
  );
  if (!values.flat().some((v) => v.value !== null)) return '';
  const svg = barChart({
    title: 'Packets delivered per second',
    yLabel: 'rx pps',
    categories,
    series: tiers,
    values,
    format: si,
  });
  return figure(
    svg,
    'Mean over trials; the error bars are the 95% margin of error (rme). n/a: the method could not run here or has no such tier.',
  );
}

/** deliver and read piled into total, for every row with a reading thread's figure. */
function cyclesChart(rows: Row[]): string {
  // The none row has no reader and delivers nothing by definition: no bar to draw.
  const shown = rows.filter((r) => r.available && r.cyclesPerPacket.read !== null);
  if (shown.length === 0) return '';
  const modes = unique(shown.map((r) => r.mode));
  const name = (r: Row): string =>
    `${methodLabel(r)}/${r.tier}${modes.length > 1 ? ` ${r.mode}` : ''}`;
  const withDeliver = shown.some((r) => r.cyclesPerPacket.deliver !== null);
  const svg = barChart({
    title: withDeliver
      ? 'CPU cycles per packet: deliver + read = total'
      : 'CPU cycles per packet of the capturing thread',
    yLabel: 'cycles / packet',
    categories: shown.map(name),
    series: withDeliver ? ['deliver', 'read'] : ['read'],
    stacked: true,
    values: shown.map((r) => {
      const cpp = r.cyclesPerPacket;
      // The pile's error bar: total's margin of error, or read's where total is missing.
      const rme = headlineCycles(r)?.rme ?? null;
      const why = cpp.deliverNote === null ? '' : `: ${cpp.deliverNote}`;
      const sum =
        cpp.total === null
          ? `deliver not measured${why}`
          : `total ${whole(cpp.total)} ${percent(rme)}`;
      const read: BarValue = {
        value: cpp.read,
        errorPct: rme,
        tip: `${name(r)} read: ${whole(cpp.read)} (user ${whole(cpp.user)} · sys ${whole(cpp.sys)}); ${sum}`,
      };
      const from = cpp.deliverSource === null ? '' : `, from ${DELIVER_FROM[cpp.deliverSource]}`;
      return withDeliver
        ? [{ value: cpp.deliver, tip: `${name(r)} deliver: ${whole(cpp.deliver)}${from}` }, read]
        : [read];
    }),
    format: (n) => whole(n),
  });
  const missing = shown.some((r) => r.cyclesPerPacket.deliver === null);
  return figure(
    svg,
    "deliver: the kernel's work to bring each frame to the method, over what the same frames cost with nothing attached; on " +
      "veth it runs on the sender's CPU, where the reading thread never sees it. read: the capturing thread's CPU time × TSC " +
      "rate ÷ packets. The pile is total, what a packet costs the machine; its error bar is total's 95% margin of error. " +
      'A negative deliver (within the noise of its reference) adds nothing to the pile.' +
      (missing
        ? ' Where deliver is missing it was not measured; the notes below the table say why.'
        : ''),
  );
}

type Sweepable = Row & { point: NonNullable<Row['point']> };

const seriesName = (r: Row): string => `${methodLabel(r)}/${r.tier}`;

/** How sweep curves name their lines, and say so: by method and tier, and by reader threads where the rows mix counts. */
interface Curves {
  name: (r: Row) => string;
  caption: string;
}

const CURVE_CAPTION =
  'Mean over trials with its 95% margin of error, one line per method and tier.';

function curvesFor(rows: Row[]): Curves {
  if (threadCounts(rows).length < 2) return { name: seriesName, caption: CURVE_CAPTION };
  const readers = (n: number): string => `${n} reader${n === 1 ? '' : 's'}`;
  return {
    name: (r) => `${seriesName(r)}, ${readers(readerThreads(r))}`,
    caption:
      'Mean over trials with its 95% margin of error, one line per method, tier and reader thread count.',
  };
}

function sweepSeries(
  rows: Sweepable[],
  x: (r: Sweepable) => number | null,
  curves: Curves,
): LineSeries[] {
  return unique(rows.map(curves.name)).map((name) => ({
    name,
    points: rows
      .filter((r) => curves.name(r) === name && r.available)
      .flatMap((r) => {
        const xv = x(r);
        return xv === null ? [] : [{ x: xv, y: r.pps, errorPct: r.ppsRme }];
      }),
  }));
}

/** A line needs two points: without one, a line chart says less than a bar chart. */
const hasLine = (series: LineSeries[]): boolean => series.some((s) => s.points.length >= 2);

function bySize(rows: Sweepable[], title: string, curves: Curves, note = ''): string | null {
  const series = sweepSeries(rows, (r) => r.point.frameBytes, curves);
  if (!hasLine(series)) return null;
  const svg = lineChart({
    title,
    xLabel: 'frame size on the wire (bytes)',
    yLabel: 'rx pps',
    series,
    formatX: (n) => `${n}`,
    formatY: si,
  });
  return figure(svg, `${curves.caption}${note}`);
}

function byRate(rows: Sweepable[], frames: string, curves: Curves): string | null {
  const series = sweepSeries(rows, (r) => r.point.offeredPps, curves);
  if (!hasLine(series)) return null;
  const svg = lineChart({
    title: `rx pps by offered rate, ${frames}`,
    xLabel: 'offered pps',
    yLabel: 'rx pps',
    series,
    formatX: si,
    formatY: si,
    identityLine: 'offered',
  });
  return figure(
    svg,
    `${curves.caption} The dashed line is the offered rate: on it a method keeps up; below it, it drops.`,
  );
}

/**
 * Curves of pps against frame size (one chart per offered rate) and against offered rate (one per
 * frame size). A rate search leaves every method at its own rate, so it gets one frame-size chart
 * over all rows instead, or, at a single size, bars. Where the rows mix reader thread counts,
 * each count is a line of its own, and a sweep over threads alone is left to the scaling charts.
 */
function sweepCharts(rows: Row[]): string {
  const sweep = rows.filter((r): r is Sweepable => r.point !== null);
  if (sweep.length === 0) return '';
  const curves = curvesFor(sweep);
  const out: (string | null)[] = [];
  for (const offered of unique(sweep.map((r) => r.point.offeredPps))) {
    const rate = offered === null ? 'flat out' : `${si(offered)}pps offered`;
    out.push(
      bySize(
        sweep.filter((r) => r.point.offeredPps === offered),
        `rx pps by frame size, ${rate}`,
        curves,
      ),
    );
  }
  for (const bytes of unique(sweep.map((r) => r.point.frameBytes))) {
    const frames = bytes === null ? "the run's fixture" : `${bytes}-byte frames`;
    out.push(
      byRate(
        sweep.filter((r) => r.point.frameBytes === bytes && r.point.offeredPps !== null),
        frames,
        curves,
      ),
    );
  }
  const charts = out.filter((c): c is string => c !== null);
  if (charts.length > 0) return charts.join('\n');

  const onePerSize =
    new Set(sweep.map((r) => `${curves.name(r)} ${r.point.frameBytes}`)).size === sweep.length;
  const searched = onePerSize
    ? bySize(
        sweep,
        'rx pps by frame size',
        curves,
        ' Each point was measured at its own offered rate (see the table).',
      )
    : null;
  if (searched !== null) return searched;
  if (threadCounts(sweep).length > 1) return '';
  const svg = barChart({
    title: 'rx pps at each sweep point',
    yLabel: 'rx pps',
    categories: sweep.map((r) => `${seriesName(r)} ${pointLabel(r.point)}`),
    series: ['rx pps'],
    values: sweep.map((r) => [
      r.available ? { value: r.pps, errorPct: r.ppsRme } : { value: null },
    ]),
    format: si,
  });
  return figure(svg, 'Mean over trials with its 95% margin of error.');
}

/** A row a curve can stand on: it ran, and its rate rests on enough packets (see MIN_PACKETS). */
const measured = (r: Row): boolean => r.available && r.pps !== null && r.received >= MIN_PACKETS;

interface ScalingGroup {
  /** What the group's rows share besides the method: frame size, and the offered rate unless each searched its own. */
  what: string;
  rows: Row[];
}

const framesOf = (bytes: number | null): string =>
  bytes === null ? "the run's fixture" : `${bytes}-byte frames`;
const offeredOf = (pps: number | null): string =>
  pps === null ? 'flat out' : `${si(pps)}pps offered`;

/**
 * The rows each scaling curve compares: same frame size and offered rate. A rate search leaves
 * every row at its own rate, one row per method, thread count and size: there a curve is per size.
 */
function scalingGroups(rows: Row[]): { groups: ScalingGroup[]; ownRates: boolean } {
  const bytes = (r: Row): number | null => r.point?.frameBytes ?? null;
  const offered = (r: Row): number | null => r.point?.offeredPps ?? null;
  const perSize =
    new Set(rows.map((r) => `${seriesName(r)} ${readerThreads(r)} ${bytes(r)}`)).size ===
    rows.length;
  const ownRates = perSize && unique(rows.map(offered)).length > 1;
  const key = (r: Row): string => (ownRates ? `${bytes(r)}` : `${bytes(r)} ${offered(r)}`);
  const groups = unique(rows.map(key)).map((k) => {
    const members = rows.filter((r) => key(r) === k);
    const first = members[0]!;
    return {
      what: ownRates
        ? framesOf(bytes(first))
        : `${framesOf(bytes(first))}, ${offeredOf(offered(first))}`,
      rows: members,
    };
  });
  return { groups, ownRates };
}

function threadSeries(
  rows: Row[],
  y: (r: Row) => { y: number | null; errorPct: number | null },
): LineSeries[] {
  return unique(rows.map(seriesName)).map((name) => ({
    name,
    points: rows
      .filter((r) => seriesName(r) === name)
      .map((r) => ({ x: readerThreads(r), ...y(r) })),
  }));
}

function scalingPps(group: ScalingGroup, caption: string): string | null {
  const series = threadSeries(group.rows, (r) => ({ y: r.pps, errorPct: r.ppsRme }));
  if (!hasLine(series)) return null;
  const svg = lineChart({
    title: `rx pps by reader threads, ${group.what}`,
    xLabel: 'reader threads',
    yLabel: 'rx pps',
    series,
    formatX: String,
    formatY: si,
  });
  return figure(svg, caption);
}

/** total where every row has it; otherwise read alone, so that one chart never mixes the two. */
function scalingCycles(group: ScalingGroup, caption: string): string | null {
  const withTotal = group.rows.every((r) => r.cyclesPerPacket.total !== null);
  const series = threadSeries(group.rows, (r) =>
    withTotal
      ? { y: r.cyclesPerPacket.total, errorPct: headlineCycles(r)?.rme ?? null }
      : { y: r.cyclesPerPacket.read, errorPct: null },
  );
  if (!hasLine(series)) return null;
  const svg = lineChart({
    title: `${withTotal ? 'total' : 'read'} cycles/pkt by reader threads, ${group.what}`,
    xLabel: 'reader threads',
    yLabel: 'cycles / packet',
    series,
    formatX: String,
    formatY: (n) => whole(n),
  });
  const read =
    "read is every reader's CPU time, and the waiting thread's, over all the packets the readers received";
  return figure(
    svg,
    `${caption} ${withTotal ? `total = deliver + read; ${read}.` : `${read}; deliver was not measured.`}`,
  );
}

/**
 * pps and cycles per packet against reader threads, one curve per method and tier, when the rows
 * were measured at more than one thread count; under them, what this machine's CPUs allow.
 */
function scalingSection(results: Results): string {
  if (threadCounts(results.rows).length < 2) return '';
  // A row without a reader (the none baseline) has no place on a reader-threads axis; leaving it
  // out also gives both charts of a group the same lines, in the same colours.
  const { groups, ownRates } = scalingGroups(
    results.rows.filter((r) => measured(r) && r.cyclesPerPacket.read !== null),
  );
  const caption = `${CURVE_CAPTION}${ownRates ? ' Each point was measured at its own offered rate (see the table).' : ''}`;
  const charts = groups
    .flatMap((g) => [scalingPps(g, caption), scalingCycles(g, caption)])
    .filter((c): c is string => c !== null);
  if (charts.length === 0) return '';
  return `<h2>Scaling over reader threads</h2>
<div class="charts">
${charts.join('\n')}
</div>
<p class="note">${esc(cpuShareNote(results))}</p>`;
}

function verdict(row: Row): string {
  const reason = row.reason === null ? '' : `<span class="sub">${esc(row.reason)}</span>`;
  if (!row.available) return `<span class="na">unavailable</span>${reason}`;
  return row.ok ? `<span class="ok">ok</span>${reason}` : `<span class="fail">FAIL</span>${reason}`;
}

/** A margin of error, flagged when it is above the run's --noisy-rme. */
function rmeCell(value: number | null, noisyRme: number): string {
  if (value === null || value <= noisyRme) return `<td class="num">${esc(percent(value))}</td>`;
  return `<td class="num noisy" title="noisy: above --noisy-rme">${esc(percent(value))}!</td>`;
}

/** Optional columns of the row table, each present when some row has something to put in it. */
interface Columns {
  point: boolean;
  /** Reader threads, where the rows mix counts. */
  threads: boolean;
  latency: boolean;
}

/**
 * Each reader's part of a row, for the cells it refines: packets received under rx pps, cycles
 * per packet under read, and everything about each reader in a tooltip. Null with one reader.
 */
function threadDetail(row: Row): { received: string; read: string; tip: string } | null {
  const shares: ThreadShare[] = [...(row.perThread ?? [])].sort((a, b) => a.index - b.index);
  if (shares.length < 2) return null;
  const all = shares.reduce((a, t) => a + t.received, 0);
  const tip = shares.map((t) => {
    const share = all > 0 ? ` (${((100 * t.received) / all).toFixed(1)}%)` : '';
    const drops = t.drops === null ? 'drops unknown' : `${whole(t.drops)} dropped`;
    return `reader ${t.index}${t.cpu === null ? '' : ` on CPU ${t.cpu}`}: ${whole(t.received)} received${share}, ${drops}, read ${whole(t.read)} cycles/pkt`;
  });
  return {
    received: `per reader ${shares.map((t) => si(t.received)).join(' · ')} rx`,
    read: `per reader ${shares.map((t) => whole(t.read)).join(' · ')}`,
    tip: tip.join('\n'),
  };
}

function rowCells(row: Row, noisyRme: number, columns: Columns): string {
  const cpp = row.cyclesPerPacket;
  const num = (text: string, sub?: string, title?: string | null): string =>
    `<td class="num"${title ? ` title="${esc(title)}"` : ''}>${esc(text)}${sub ? `<span class="sub">${esc(sub)}</span>` : ''}</td>`;
  const id = [
    methodLabel(row),
    row.tier,
    row.mode,
    ...(columns.point ? [row.point === null ? DASH : pointLabel(row.point)] : []),
    ...(columns.threads ? [String(readerThreads(row))] : []),
  ]
    .map((s) => `<td class="id">${esc(s)}</td>`)
    .join('');
  if (!row.available) {
    const empty = 8 + (columns.latency ? 1 : 0);
    return `<tr>${id}${'<td class="num na">—</td>'.repeat(empty)}<td class="verdict">${verdict(row)}</td></tr>`;
  }
  const drops =
    row.dropped === null
      ? '?'
      : `${whole(row.dropped)}${row.dropsSource === 'derived' && row.dropped > 0 ? '*' : ''}`;
  const dropsSub =
    `sender ${whole(row.drops.senderIf)} · if ${whole(row.drops.captureIf)} · method ${whole(row.drops.method)}\n` +
    `of ${whole(row.sent)} sent · ${whole(row.resent)} resent`;
  const ipv4 =
    row.ipv4Counted === null
      ? DASH
      : `${whole(row.ipv4Counted)} / ${row.ipv4Expected === null ? '?' : whole(row.ipv4Expected)}`;
  const readers = threadDetail(row);
  const under = (text: string, more: string | undefined): string =>
    more === undefined ? text : `${text}\n${more}`;
  const cells = [
    num(
      si(row.pps),
      under(`p50 ${si(row.ppsP50)} · p99 ${si(row.ppsP99)}`, readers?.received),
      readers?.tip,
    ),
    rmeCell(row.ppsRme, noisyRme),
    num(drops, dropsSub),
    num(whole(cpp.deliver), undefined, cpp.deliverNote),
    num(
      whole(cpp.read),
      under(`user ${whole(cpp.user)} · sys ${whole(cpp.sys)}`, readers?.read),
      readers?.tip,
    ),
    num(
      whole(cpp.total),
      `busy Δ ${whole(cpp.systemBusy)}`,
      'busy Δ: machine-wide busy time less the none baseline, a cross-check from /proc/stat',
    ),
    rmeCell(cpp.totalRme, noisyRme),
    num(ipv4),
    ...(columns.latency
      ? [
          num(
            row.latency === null
              ? DASH
              : `${delay(row.latency.p50Ns)} / ${delay(row.latency.p99Ns)}`,
          ),
        ]
      : []),
  ];
  return `<tr>${id}${cells.join('')}<td class="verdict">${verdict(row)}</td></tr>`;
}

function rowsTable(results: Results): string {
  const columns: Columns = {
    point: results.rows.some((r) => r.point !== null),
    threads: threadCounts(results.rows).length > 1,
    latency: results.rows.some((r) => r.latency !== null),
  };
  const head = [
    ['method', ''],
    ['tier', ''],
    ['mode', ''],
    ...(columns.point ? [['point', '']] : []),
    ...(columns.threads ? [['threads', '']] : []),
    ['rx pps', 'num'],
    ['rme', 'num'],
    ['drops', 'num'],
    ['cyc/pkt deliver', 'num'],
    ['read', 'num'],
    ['total', 'num'],
    ['rme', 'num'],
    ['IPv4 counted / expected', 'num'],
    ...(columns.latency ? [['latency p50 / p99', 'num']] : []),
    ['verdict', ''],
  ]
    .map(([h, cls]) => `<th${cls ? ` class="${cls}"` : ''}>${esc(h!)}</th>`)
    .join('');
  const body = results.rows.map((r) => rowCells(r, results.config.noisyRme, columns)).join('\n');
  return `<div class="scroll"><table class="rows"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function notes(results: Results): string {
  const items: string[] = [];
  if (results.rows.some((r) => r.noisy)) {
    items.push(
      `! noisy: a margin of error is above ${results.config.noisyRme}% (--noisy-rme): the machine was busy or the windows too short.`,
    );
  }
  if (results.rows.some((r) => r.dropsSource === 'derived' && (r.dropped ?? 0) > 0)) {
    items.push('* drops derived as sent − received: the method cannot report its own.');
  }
  if (results.rows.some((r) => r.available && r.dropped === null)) {
    items.push(
      '? drops unknown: the method cannot report its own, and traffic from elsewhere has no sent count to derive them from.',
    );
  }
  items.push(
    "Drops: at the generator's end of the veth (sender), at the capture interface (if), inside the method (method).",
  );
  items.push(
    "resent: frames the sender's veth refused under backpressure and the generator sent again; not lost.",
  );
  if (results.rows.some((r) => (r.perThread?.length ?? 0) > 1)) {
    items.push(
      "per reader: with several reader threads, each one's packets received (under rx pps) and its own CPU time over its own packets (under read); hover for its CPU and drops.",
    );
  }
  const lopsided = oneReaderNote(results);
  if (lopsided !== null) items.push(lopsided);
  items.push(
    "cyc/pkt: total = deliver + read, what a packet costs the machine; rme is total's. busy Δ under it is a cross-check from /proc/stat (machine-wide busy time less the none baseline, in 10 ms ticks).",
  );
  const unmeasured = results.rows.filter(
    (r) =>
      r.available && r.cyclesPerPacket.deliver === null && r.cyclesPerPacket.deliverNote !== null,
  );
  for (const note of unique(unmeasured.map((r) => r.cyclesPerPacket.deliverNote!)))
    items.push(`deliver ${DASH}: ${note}`);
  return `<ul class="notes">${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`;
}

export function renderHtml(results: Results): string {
  const flat = results.rows.filter((r) => r.point === null);
  const charts = [ppsChart(flat), cyclesChart(flat)].filter((c) => c !== '');
  const sweeps = sweepCharts(results.rows);
  const title = `capbench: ${describeRun(results)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>capbench results</h1>
<p class="lead">${esc(describeRun(results))} — started ${esc(results.startedAt)}</p>
${hostAndConfig(results)}
${charts.length > 0 ? `<h2>Throughput and cost</h2>\n<div class="charts">\n${charts.join('\n')}\n</div>` : ''}
${sweeps !== '' ? `<h2>Sweeps</h2>\n<div class="charts">\n${sweeps}\n</div>` : ''}
${scalingSection(results)}
<h2>All rows</h2>
${rowsTable(results)}
${notes(results)}
<script>${SELF_CHECK}</script>
</body>
</html>
`;
}
