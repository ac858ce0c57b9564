import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MethodName } from '../../src/core/config.js';
import type { Results, Row } from '../../src/core/results.js';
import { renderHtml } from '../../src/report/html.js';
import { barChart, escapeXml, niceScale } from '../../src/report/svg-chart.js';
import { sampleResults } from './sample-results.js';

/** The sample plus a frame-size × offered-rate sweep for two methods. */
export function sweepResults(): Results {
  const r = sampleResults();
  const row = r.rows[0]!;
  const sweep: Row[] = [];
  for (const method of ['socket', 'packet-mmap'] as MethodName[]) {
    for (const frameBytes of [64, 256, 1518]) {
      for (const offeredPps of [100_000, 400_000, null]) {
        const ceiling = (method === 'socket' ? 900_000 : 1_600_000) * (64 / frameBytes) ** 0.3;
        const pps = Math.min(offeredPps ?? Infinity, ceiling);
        sweep.push({
          ...row,
          method,
          pps,
          ppsSamples: [pps * 0.98, pps, pps * 1.02],
          point: { frameBytes, offeredPps },
        });
      }
    }
  }
  r.rows.push(...sweep);
  return r;
}

test('html: one page with inline SVG charts and no http(s) references, src or href', () => {
  const html = renderHtml(sampleResults());
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<svg class="chart"/);
  assert.ok((html.match(/<svg /g) ?? []).length >= 2, 'a pps chart and a cycles chart');
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /\s(src|href)=|url\(|@import/i);
  assert.match(html, /<rect class="bar mark"[^>]* height="[1-9]/);
});

test('html: host, config, every row with its verdict and reason', () => {
  const html = renderHtml(sampleResults());
  assert.match(html, /2 × Test CPU @ 2\.60GHz/);
  assert.match(html, /Linux 6\.18\.44/);
  assert.match(html, /\/repo\/fixtures\/mixed\.pcap/);
  assert.match(html, /<span class="ok">ok<\/span>/);
  assert.match(
    html,
    /<span class="fail">FAIL<\/span><span class="sub">drain lost 10 of 20000 frames<\/span>/,
  );
  assert.match(
    html,
    /<span class="na">unavailable<\/span><span class="sub">libpcap\.so\.0\.8 not found<\/span>/,
  );
  assert.match(html, /1\.23 M/);
});

test('html: every string from the results is escaped', () => {
  const r = sampleResults();
  const evil = '<script>alert("x")</script><img onerror=alert(1) src=x>&amp;';
  r.rows[0] = { ...r.rows[0]!, method: evil as MethodName, reason: evil };
  r.host.cpuModel = evil;
  r.config.fixturePath = `/tmp/${evil}.pcap`;
  const html = renderHtml(r);
  assert.doesNotMatch(html, /<script>alert/);
  assert.doesNotMatch(html, /<img/);
  assert.match(
    html,
    /&#60;script&#62;alert\(&#34;x&#34;\)&#60;\/script&#62;&#60;img onerror=alert\(1\) src=x&#62;&#38;amp;/,
  );
  // Only the page's own self-check script remains.
  assert.equal((html.match(/<script>/g) ?? []).length, 1);
});

test('html: sweeps get line charts by frame size and by offered rate', () => {
  const html = renderHtml(sweepResults());
  assert.match(html, /<h2>Sweeps<\/h2>/);
  assert.match(html, /rx pps by frame size, flat out/);
  assert.match(html, /rx pps by offered rate, 64-byte frames/);
  assert.match(html, /<circle class="point mark"/);
  assert.match(html, /class="identity"/);
  assert.match(html, /64 B @ 100\.0 kpps/);
  assert.doesNotMatch(html, /https?:\/\//);
});

test('html: the cycles chart piles deliver under read, total printed on top with its margin of error', () => {
  const html = renderHtml(sampleResults());
  assert.match(html, /aria-label="CPU cycles per packet: deliver \+ read = total"/);
  assert.match(
    html,
    /<title>socket\/js deliver: 480, from the sender&#39;s CPU clocks during the fill/,
  );
  assert.match(
    html,
    /<title>socket\/js read: 2,001 \(user 800 · sys 1,201\); total 2,481 ±1\.5%<\/title>/,
  );
  assert.match(html, /<text class="value"[^>]*>2,481<\/text>/);
});

test('html: the row table shows deliver, read, total and its rme, with busy Δ under total as a cross-check', () => {
  const html = renderHtml(sampleResults());
  assert.match(
    html,
    /<th class="num">cyc\/pkt deliver<\/th><th class="num">read<\/th><th class="num">total<\/th><th class="num">rme<\/th>/,
  );
  assert.match(
    html,
    /<td class="num">480<\/td><td class="num">2,001<span class="sub">user 800 · sys 1,201<\/span><\/td><td class="num" title="busy Δ: [^"]*cross-check[^"]*">2,481<span class="sub">busy Δ 2,500<\/span><\/td><td class="num">±1\.5%<\/td>/,
  );
});

test('html: rows without deliver are drawn as read alone, and the notes say why', () => {
  const r = sampleResults();
  const gone = {
    deliver: null,
    total: null,
    totalRme: null,
    deliverSource: null,
    deliverNote: 'no none baseline in this run',
  };
  r.rows = r.rows.map((row) => ({ ...row, cyclesPerPacket: { ...row.cyclesPerPacket, ...gone } }));
  const html = renderHtml(r);
  assert.match(html, /aria-label="CPU cycles per packet of the capturing thread"/);
  assert.doesNotMatch(html, /deliver: 480/);
  assert.match(
    html,
    /<title>socket\/js read: 2,001 \(user 800 · sys 1,201\); deliver not measured: no none baseline in this run<\/title>/,
  );
  assert.match(html, /<li>deliver —: no none baseline in this run<\/li>/);
  assert.match(html, /<td>deliver from<\/td><td>not measured<\/td>/);
});

test('svg: stacked bars pile up in series order, the sum printed once on top', () => {
  const svg = barChart({
    title: 't',
    yLabel: 'y',
    categories: ['a', 'b'],
    series: ['low', 'high'],
    format: String,
    stacked: true,
    width: 400,
    values: [
      [{ value: 30 }, { value: 50, errorPct: 10 }],
      [{ value: null }, { value: 40 }],
    ],
  });
  const rects = [
    ...svg.matchAll(
      /<rect class="bar mark" x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g,
    ),
  ].map((m) => m.slice(1).map(Number));
  assert.equal(rects.length, 3);
  const [low, high] = rects as [number[], number[]];
  assert.equal(low[0], high[0], 'one bar per category');
  assert.ok(Math.abs(high[1]! + high[2]! - low[1]!) < 0.02, 'the second value sits on the first');
  assert.ok(Math.abs(high[2]! / low[2]! - 50 / 30) < 0.01);
  assert.deepEqual(
    [...svg.matchAll(/<text class="value"[^>]*>(\d+)</g)].map((m) => m[1]),
    ['80'],
  );
  assert.equal((svg.match(/class="err"/g) ?? []).length, 1);
  assert.doesNotMatch(svg, />n\/a</);
});

test('svg: bars scale to a round axis, error bars drawn, zero bars are not marks', () => {
  const svg = barChart({
    title: 't',
    yLabel: 'y',
    categories: ['a', 'b', 'c'],
    series: ['s'],
    format: String,
    values: [[{ value: 80, errorPct: 10 }], [{ value: 0 }], [{ value: null }]],
  });
  assert.equal((svg.match(/class="bar mark"/g) ?? []).length, 1);
  assert.equal((svg.match(/class="bar"/g) ?? []).length, 1);
  assert.match(svg, /class="err"/);
  assert.match(svg, />n\/a</);
  assert.deepEqual(niceScale(88), { top: 100, step: 20 });
  assert.deepEqual(niceScale(1_234_567), { top: 1_250_000, step: 250_000 });
  assert.equal(
    escapeXml(`<a href="x">'&'</a>`),
    '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;',
  );
});

test('html: a rate search (every method at its own rate) gets one frame-size chart, or bars at one size', () => {
  const r = sampleResults();
  const row = r.rows[0]!;
  const searched = (sizes: number[]): Row[] =>
    (['socket', 'packet-mmap'] as MethodName[]).flatMap((method, m) =>
      sizes.map((frameBytes, i) => ({
        ...row,
        method,
        pps: 300_000 * (m + 1) - i * 1000,
        point: { frameBytes, offeredPps: 300_000 * (m + 1) - i * 1000 },
      })),
    );
  const many = renderHtml({ ...r, rows: searched([64, 512, 1518]) });
  assert.match(many, /rx pps by frame size</);
  assert.match(many, /measured at its own offered rate/);
  const one = renderHtml({ ...r, rows: searched([64]) });
  assert.match(one, /rx pps at each sweep point/);
  assert.match(one, /socket\/js 64 B @ 300\.0 kpps/);
});

/**
 * A sweep over 1, 2 and 4 reader threads: the none baseline (no reader) and socket and packet-mmap
 * measured at each, pcap unavailable at 4 and a packet-mmap row at 4 that received too little to
 * be a rate.
 */
export function threadsResults(): Results {
  const r = sampleResults();
  const row = r.rows[0]!;
  const rows: Row[] = [];
  for (const threads of [1, 2, 4]) {
    const point = { threads, frameBytes: null, offeredPps: null };
    const noReader = {
      ...row.cyclesPerPacket,
      deliver: 0,
      read: null,
      total: null,
      totalRme: null,
    };
    rows.push({
      ...row,
      method: 'none',
      mode: 'live',
      threads,
      point,
      pps: 2_000_000,
      cyclesPerPacket: noReader,
    });
    for (const method of ['socket', 'packet-mmap'] as MethodName[]) {
      const pps = (method === 'socket' ? 400_000 : 900_000) * Math.sqrt(threads);
      const starved = method === 'packet-mmap' && threads === 4;
      const cyclesPerPacket = { ...row.cyclesPerPacket, total: 2000 + 300 * threads };
      rows.push({
        ...row,
        method,
        mode: 'live',
        threads,
        point,
        pps,
        cyclesPerPacket,
        ...(starved ? { received: 3, pps: 10 } : {}),
      });
    }
    if (threads === 4) rows.push({ ...r.rows[2]!, method: 'pcap', mode: 'live', threads, point });
    else rows.push({ ...row, method: 'pcap', mode: 'live', threads, point, pps: 100_000 });
  }
  r.rows = rows;
  return r;
}

/** The SVG of the chart titled `title`. */
function chart(html: string, title: string): string {
  const m = new RegExp(`<svg [^>]*aria-label="${title}"[\\s\\S]*?</svg>`).exec(html);
  assert.ok(m, `no chart "${title}"`);
  return m[0];
}

test('html: rows at several thread counts get scaling curves of pps and cycles, measured rows only, and the CPU note', () => {
  const html = renderHtml(threadsResults());
  assert.match(html, /<h2>Scaling over reader threads<\/h2>/);
  const pps = chart(html, 'rx pps by reader threads, the run&#39;s fixture, flat out');
  assert.match(pps, /reader threads/);
  const tips = [...pps.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!.replace(/:.*/, ''));
  // packet-mmap at 4 received 3 frames and pcap at 4 did not run: neither is a point.
  assert.deepEqual(tips, [
    'socket/js at 1',
    'socket/js at 2',
    'socket/js at 4',
    'packet-mmap/js at 1',
    'packet-mmap/js at 2',
    'pcap/js at 1',
    'pcap/js at 2',
  ]);
  const cycles = chart(html, 'total cycles/pkt by reader threads, the run&#39;s fixture, flat out');
  const legend = (svg: string): string[] =>
    [...svg.matchAll(/<text class="legend"[^>]*>([^<]*)</g)].map((m) => m[1]!);
  assert.deepEqual(legend(cycles), legend(pps));
  assert.deepEqual(legend(pps), ['socket/js', 'packet-mmap/js', 'pcap/js']);
  assert.match(cycles, /<title>socket\/js at 4: 3,200 ±1\.5%<\/title>/);
  assert.match(
    html,
    /<p class="note">This machine has 2 CPUs: readers and the generator share them/,
  );
  assert.match(html, /<td>reader threads<\/td><td>1, 2, 4, one row per count/);
  // The table names each row's count; there is no per-point bar chart repeating the curves.
  assert.match(html, /<th>point<\/th><th>threads<\/th>/);
  assert.doesNotMatch(html, /rx pps at each sweep point/);
});

test('html: no scaling section at one thread count, even in a sweep', () => {
  for (const results of [sampleResults(), sweepResults()]) {
    const html = renderHtml(results);
    assert.doesNotMatch(html, /Scaling over reader threads|by reader threads|This machine has/);
    assert.doesNotMatch(html, /<th>threads<\/th>/);
  }
});

test('html: sizes × threads draw one line per method, tier and thread count on the frame-size chart', () => {
  const r = sampleResults();
  const row = r.rows[0]!;
  r.rows = [64, 1518].flatMap((frameBytes) =>
    [1, 2].map((threads): Row => ({
      ...row,
      threads,
      pps: 100_000 * threads,
      point: { threads, frameBytes, offeredPps: null },
    })),
  );
  const html = renderHtml(r);
  const bySize = chart(html, 'rx pps by frame size, flat out');
  assert.match(bySize, /<text class="legend"[^>]*>socket\/js, 1 reader<\/text>/);
  assert.match(bySize, /<text class="legend"[^>]*>socket\/js, 2 readers<\/text>/);
  chart(html, 'rx pps by reader threads, 64-byte frames, flat out');
  chart(html, 'rx pps by reader threads, 1518-byte frames, flat out');
});

test("html: a row with several readers shows each one's packets and read cycles, with its CPU and drops on hover", () => {
  const r = sampleResults();
  r.rows[0] = {
    ...r.rows[0]!,
    threads: 2,
    perThread: [
      { index: 1, cpu: 1, received: 9_000, drops: 0, read: 2100 },
      { index: 0, cpu: 0, received: 11_000, drops: null, read: 1900.4 },
    ],
  };
  const html = renderHtml(r);
  assert.match(
    html,
    /<span class="sub">p50 1\.23 M · p99 1\.30 M\nper reader 11\.0 k · 9000 rx<\/span>/,
  );
  assert.match(html, /<span class="sub">user 800 · sys 1,201\nper reader 1,900 · 2,100<\/span>/);
  assert.match(
    html,
    /title="reader 0 on CPU 0: 11,000 received \(55\.0%\), drops unknown, read 1,900 cycles\/pkt\nreader 1 on CPU 1: 9,000 received \(45\.0%\), 0 dropped, read 2,100 cycles\/pkt"/,
  );
  assert.match(html, /<li>per reader: /);
});
