/**
 * Two small chart builders that return inline SVG markup: a grouped or stacked bar chart with
 * error bars and a line chart for sweep curves. No xmlns and no links: the SVG is meant to sit
 * inside an HTML page, where the parser puts <svg> in the SVG namespace by itself, and the page
 * must stay free of http(s) references. Every drawn data mark has class "mark", so a browser test can check that
 * each one was laid out with a non-empty box.
 */

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Okabe–Ito colours (without yellow, too pale on white): distinguishable with colour blindness. */
export const PALETTE = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#555555',
  '#999999',
];

const color = (i: number): string => PALETTE[i % PALETTE.length]!;

/** Numbers inside SVG attributes: two decimals are plenty and keep the file small. */
const f = (n: number): string => (Math.round(n * 100) / 100).toString();

/** A round upper bound and a tick step: 0, step, 2·step, … ≥ max, about five ticks. */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.2 };
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step =
    [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  return { top: Math.ceil(max / step - 1e-9) * step, step };
}

export interface BarValue {
  value: number | null;
  /** Relative 95% margin of error in percent, drawn as an error bar; null or absent for none. */
  errorPct?: number | null;
  /** Tooltip text; the value is shown when absent. */
  tip?: string;
}

export interface BarChartSpec {
  title: string;
  /** Axis caption, e.g. "packets per second". */
  yLabel: string;
  /** One group of bars per category. */
  categories: string[];
  /** One bar per series in every group; a single series draws no legend. */
  series: string[];
  /** values[category][series]. */
  values: BarValue[][];
  /**
   * Pile each category's values into one bar, in series order from the axis up, instead of setting
   * them side by side: the pile is their sum. A value's errorPct is then relative to the pile up to
   * its own top, and the sum is printed above the pile when every value is known. A negative value
   * adds nothing to the drawing (its tooltip still says it).
   */
  stacked?: boolean;
  format: (n: number) => string;
  width?: number;
  height?: number;
}

const MARGIN = { right: 16, left: 72 };
const FONT = 12;
/** Height of the plotting area when the caller gives no overall height. */
const PLOT_H = 250;
/** Two charts side by side fit a laptop-wide page. */
const WIDTH = 600;
/** Rough width of a character of the chart font, for deciding when labels need rotating. */
const CHAR_W = 6.6;

function yAxis(
  top: number,
  step: number,
  x0: number,
  x1: number,
  yOf: (v: number) => number,
  format: (n: number) => string,
): string {
  const out: string[] = [];
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = f(yOf(v));
    out.push(`<line class="grid" x1="${f(x0)}" x2="${f(x1)}" y1="${y}" y2="${y}"/>`);
    out.push(
      `<text class="tick" x="${f(x0 - 6)}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(format(v))}</text>`,
    );
  }
  return out.join('');
}

/**
 * Legend items left to right under the title, wrapping onto more rows; none for a single series
 * unless `dashed` (a reference line's caption) is given.
 */
function legend(
  series: string[],
  x0: number,
  x1: number,
  dashed?: string,
): { svg: string; rows: number } {
  if (series.length < 2 && dashed === undefined) return { svg: '', rows: 0 };
  const items: string[] = [];
  let x = x0;
  let row = 0;
  const place = (label: string, swatch: (x: number, y: number) => string): void => {
    const w = 18 + label.length * CHAR_W + 16;
    if (x > x0 && x + w > x1) {
      x = x0;
      row++;
    }
    const y = 30 + row * 18;
    items.push(
      `${swatch(x, y)}<text class="legend" x="${f(x + 16)}" y="${y + 10}">${escapeXml(label)}</text>`,
    );
    x += w;
  };
  series.forEach((s, i) =>
    place(s, (x, y) => `<rect x="${f(x)}" y="${y}" width="12" height="12" fill="${color(i)}"/>`),
  );
  if (dashed !== undefined)
    place(dashed, (x, y) => `<path class="identity" d="M${f(x)} ${y + 6}h12"/>`);
  return { svg: items.join(''), rows: row + 1 };
}

/** Space above the plot: the title, then the legend's rows. */
const topMargin = (legendRows: number): number => 34 + legendRows * 18 + (legendRows > 0 ? 8 : 0);

function errorBar(x: number, yLow: number, yHigh: number): string {
  return `<path class="err" d="M${f(x)} ${f(yLow)}V${f(yHigh)}M${f(x - 4)} ${f(yLow)}h8M${f(x - 4)} ${f(yHigh)}h8"/>`;
}

export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? WIDTH;
  const groups = Math.max(1, spec.categories.length);
  const plotW = width - MARGIN.left - MARGIN.right;
  const groupW = plotW / groups;
  const longest = Math.max(0, ...spec.categories.map((c) => c.length)) * CHAR_W;
  const rotate = longest > groupW - 6;
  const bottom = rotate ? Math.min(140, 28 + longest * 0.6) : 40;
  const key = legend(spec.series, MARGIN.left, width - MARGIN.right);
  const top0 = topMargin(key.rows);
  // The plot keeps its height however many legend rows or rotated labels there are.
  const height = spec.height ?? PLOT_H + top0 + bottom;
  const plotH = height - top0 - bottom;
  const x0 = MARGIN.left;
  const y0 = top0 + plotH;

  const stacked = spec.stacked === true;
  // Each value's bar from `low` to `high` (in data units): on the axis, or on the pile beneath it.
  const bars = spec.values.map((row) => {
    let pile = 0;
    return spec.series.map((_, si) => {
      const datum = row[si] ?? { value: null };
      const known = datum.value !== null && Number.isFinite(datum.value);
      const low = stacked ? pile : 0;
      const high = low + (known ? Math.max(0, datum.value!) : 0);
      if (stacked) pile = high;
      return { datum, known, low, high, err: datum.errorPct ?? null };
    });
  });
  const { top, step } = niceScale(
    Math.max(0, ...bars.flat().map((b) => b.high * (1 + Math.max(0, b.err ?? 0) / 100))),
  );
  const yOf = (v: number): number => y0 - (Math.max(0, Math.min(v, top)) / top) * plotH;

  const barW = (groupW * 0.8) / (stacked ? 1 : Math.max(1, spec.series.length));
  const marks: string[] = [];
  spec.categories.forEach((category, ci) => {
    const gx = x0 + ci * groupW + groupW * 0.1;
    const pile = bars[ci] ?? [];
    const valueLabel = (value: number, high: number, err: number | null, cx: number): void => {
      const labelY = yOf(high * (1 + Math.max(0, err ?? 0) / 100)) - 5;
      if (barW >= 40)
        marks.push(
          `<text class="value" x="${f(cx)}" y="${f(labelY)}" text-anchor="middle">${escapeXml(spec.format(value))}</text>`,
        );
    };
    spec.series.forEach((series, si) => {
      const { datum, known, low, high, err } = pile[si]!;
      const x = gx + (stacked ? 0 : si * barW);
      const cx = x + barW / 2;
      if (!known) {
        // In a pile a missing value is just not drawn: n/a once, and only for an empty pile.
        if (!stacked || (si === 0 && pile.every((b) => !b.known))) {
          marks.push(
            `<text class="na" x="${f(cx)}" y="${f(y0 - 4)}" text-anchor="middle">n/a</text>`,
          );
        }
        return;
      }
      const value = datum.value!;
      const errText = err === null ? '' : ` ±${err.toFixed(1)}%`;
      const tip =
        datum.tip ??
        `${category}${spec.series.length > 1 ? ` ${series}` : ''}: ${spec.format(value)}${errText}`;
      // A bar without height has no box to measure; only bars with height carry the "mark" class.
      const cls = high > low ? 'bar mark' : 'bar';
      marks.push(
        `<rect class="${cls}" x="${f(x + 1)}" y="${f(yOf(high))}" width="${f(Math.max(1, barW - 2))}" height="${f(yOf(low) - yOf(high))}" fill="${color(si)}"><title>${escapeXml(tip)}</title></rect>`,
      );
      if (err !== null && err > 0)
        marks.push(errorBar(cx, yOf(high * (1 - err / 100)), yOf(high * (1 + err / 100))));
      if (!stacked) valueLabel(value, high, err, cx);
    });
    const last = pile[pile.length - 1];
    if (stacked && last !== undefined && pile.every((b) => b.known)) {
      valueLabel(
        pile.reduce((a, b) => a + b.datum.value!, 0),
        last.high,
        last.err,
        gx + barW / 2,
      );
    }
    const lx = x0 + ci * groupW + groupW / 2;
    const label = escapeXml(category);
    marks.push(
      rotate
        ? `<text class="cat" x="${f(lx)}" y="${f(y0 + 14)}" text-anchor="end" transform="rotate(-35 ${f(lx)} ${f(y0 + 14)})">${label}</text>`
        : `<text class="cat" x="${f(lx)}" y="${f(y0 + 18)}" text-anchor="middle">${label}</text>`,
    );
  });

  return [
    `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}" font-size="${FONT}">`,
    `<text class="title" x="${x0}" y="20">${escapeXml(spec.title)}</text>`,
    key.svg,
    yAxis(top, step, x0, width - MARGIN.right, yOf, spec.format),
    `<text class="axis" transform="rotate(-90)" x="${f(-(top0 + plotH / 2))}" y="14" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
    ...marks,
    `<line class="axisline" x1="${x0}" x2="${f(width - MARGIN.right)}" y1="${f(y0)}" y2="${f(y0)}"/>`,
    '</svg>',
  ].join('\n');
}

export interface LinePoint {
  x: number;
  y: number | null;
  errorPct?: number | null;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  formatX: (n: number) => string;
  formatY: (n: number) => string;
  /** Draw y = x dashed, labelled: e.g. "offered" on a delivered-vs-offered rate chart. */
  identityLine?: string;
  width?: number;
  height?: number;
}

export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? WIDTH;
  const bottom = 52;
  // Room on the right for half of the last x tick's label.
  const plotW = width - MARGIN.left - MARGIN.right - 8 - 16;
  const key = legend(
    spec.series.map((s) => s.name),
    MARGIN.left,
    width - MARGIN.right,
    spec.identityLine,
  );
  const top0 = topMargin(key.rows);
  const height = spec.height ?? PLOT_H + top0 + bottom;
  const plotH = height - top0 - bottom;
  const x0 = MARGIN.left + 8;
  const y0 = top0 + plotH;

  const xs = [...new Set(spec.series.flatMap((s) => s.points.map((p) => p.x)))]
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const lo = xs[0] ?? 0;
  const hi = xs[xs.length - 1] ?? 1;
  // Sweeps double their steps (64…1518 B, 10k…1M pps): a log axis spaces them evenly.
  const log = lo > 0 && hi / lo >= 8;
  const tx = (x: number): number => (log ? Math.log(x) : x);
  const span = tx(hi) - tx(lo);
  const xOf = (x: number): number =>
    span === 0 ? x0 + plotW / 2 : x0 + ((tx(x) - tx(lo)) / span) * plotW;

  const ys = spec.series.flatMap((s) =>
    s.points.map((p) => (p.y ?? 0) * (1 + Math.max(0, p.errorPct ?? 0) / 100)),
  );
  const { top, step } = niceScale(
    Math.max(0, ...ys, ...(spec.identityLine !== undefined ? xs : [])),
  );
  const yOf = (v: number): number => y0 - (Math.max(0, Math.min(v, top)) / top) * plotH;

  // Tick at every measured x, thinned out when they would collide.
  const every = Math.max(1, Math.ceil((xs.length * 56) / plotW));
  const xTicks = xs
    .filter((_, i) => i % every === 0)
    .map(
      (x) =>
        `<line class="grid" x1="${f(xOf(x))}" x2="${f(xOf(x))}" y1="${top0}" y2="${f(y0)}"/><text class="tick" x="${f(xOf(x))}" y="${f(y0 + 16)}" text-anchor="middle">${escapeXml(spec.formatX(x))}</text>`,
    )
    .join('');

  const identity =
    spec.identityLine === undefined || xs.length < 2
      ? ''
      : `<path class="identity" d="${xs.map((x, i) => `${i === 0 ? 'M' : 'L'}${f(xOf(x))} ${f(yOf(x))}`).join('')}"/>`;

  const lines = spec.series.map((s, i) => {
    const pts = s.points
      .filter((p): p is LinePoint & { y: number } => p.y !== null && Number.isFinite(p.y))
      .sort((a, b) => a.x - b.x);
    const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${f(xOf(p.x))} ${f(yOf(p.y))}`).join('');
    const marks = pts.map((p) => {
      const err = p.errorPct ?? null;
      const bar =
        err !== null && err > 0
          ? errorBar(xOf(p.x), yOf(p.y * (1 - err / 100)), yOf(p.y * (1 + err / 100)))
          : '';
      const tip = `${s.name} at ${spec.formatX(p.x)}: ${spec.formatY(p.y)}${err === null ? '' : ` ±${err.toFixed(1)}%`}`;
      return `${bar}<circle class="point mark" cx="${f(xOf(p.x))}" cy="${f(yOf(p.y))}" r="3.5" fill="${color(i)}"><title>${escapeXml(tip)}</title></circle>`;
    });
    return `<g class="series"><path class="line" d="${d}" stroke="${color(i)}"/>${marks.join('')}</g>`;
  });

  return [
    `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}" font-size="${FONT}">`,
    `<text class="title" x="${MARGIN.left}" y="20">${escapeXml(spec.title)}</text>`,
    key.svg,
    yAxis(top, step, x0, x0 + plotW, yOf, spec.formatY),
    xTicks,
    `<text class="axis" transform="rotate(-90)" x="${f(-(top0 + plotH / 2))}" y="14" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
    `<text class="axis" x="${f(x0 + plotW / 2)}" y="${f(height - 8)}" text-anchor="middle">${escapeXml(spec.xLabel)}${log ? ' (log scale)' : ''}</text>`,
    identity,
    ...lines,
    `<line class="axisline" x1="${f(x0)}" x2="${f(x0 + plotW)}" y1="${f(y0)}" y2="${f(y0)}"/>`,
    '</svg>',
  ].join('\n');
}
