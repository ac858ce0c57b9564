import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delay } from '../../src/report/format-number.js';
import { renderJson } from '../../src/report/json.js';
import { bar, renderTable } from '../../src/report/table.js';
import { sampleResults } from './sample-results.js';

const plain = renderTable(sampleResults(), { color: false });

test('table: header says the TSC rate the cycle figures were computed at, and their source', () => {
  assert.match(
    plain,
    /cycles\/packet at 2596 MHz, from CPU time × TSC rate \(no hardware cycle counters\)/,
  );
});

test('table: a good row shows pps, its rme, deliver, read, total with its rme and the IPv4 check', () => {
  const line = plain.split('\n').find((l) => l.startsWith('socket '))!;
  assert.match(
    line,
    /1\.23 M\s+█{10}\s+±2\.3%\s+0\s+480\s+2,001\s+2,481\s+±1\.5%\s+10,000 \/ 10,000\s+ok$/,
  );
});

test('table: a failed row points at a note that gives the reason', () => {
  assert.match(plain, /pcap .*FAIL \[1\]/);
  assert.match(plain, /\[1\] pcap\/js: drain lost 10 of 20000 frames/);
});

test('table: derived drops are starred and the star explained', () => {
  assert.match(plain, /\s10\*\s/);
  assert.match(plain, /\* drops derived as sent − received/);
});

test('table: an unavailable row says so with its reason', () => {
  assert.match(plain, /pcap-native .*unavailable \[2\]/);
  assert.match(plain, /\[2\] pcap-native\/js: libpcap.so.0.8 not found/);
});

test('table: no escape codes without color, some with it', () => {
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(plain, /\x1b\[/);
  // eslint-disable-next-line no-control-regex
  assert.match(renderTable(sampleResults(), { color: true }), /\x1b\[/);
});

test('json: the results object as it is, schema first', () => {
  const text = renderJson(sampleResults());
  assert.deepEqual(JSON.parse(text), sampleResults());
  assert.match(text, /^\{\n {2}"schema": "capbench.results\/3"/);
});

test('table: a noisy row has its margin of error flagged and explained', () => {
  const results = sampleResults();
  results.rows[0] = { ...results.rows[0]!, ppsRme: 23.4, noisy: true };
  const text = renderTable(results, { color: false });
  assert.match(text, /±23%!/);
  assert.match(text, /! noisy: a margin of error is above 10%/);
});

test('bar: proportional to the fastest row in eighths of a cell, nothing for no figure', () => {
  assert.equal(bar(100, 100), '██████████');
  assert.equal(bar(50, 100), '█████');
  assert.equal(bar(5, 100), '▌');
  assert.equal(bar(null, 100), '');
  assert.equal(bar(0, 100), '');
});

test('table: live rows with timestamps show latency p50/p99, each in a unit that keeps it short', () => {
  const results = sampleResults();
  results.rows[0] = {
    ...results.rows[0]!,
    mode: 'live',
    latency: { p50Ns: 12_345, p99Ns: 148_000_000, samples: 100 },
  };
  const text = renderTable(results, { color: false });
  assert.match(text, /latency p50\/p99/);
  assert.match(
    text.split('\n').find((l) => l.startsWith('socket '))!,
    /12 µs \/ 148 ms\s+ok$/,
  );
});

test('delays: µs below a millisecond, then ms, then s', () => {
  assert.deepEqual(
    [delay(4_200), delay(250_000), delay(2_600_000), delay(1_200_000_000)],
    ['4.2 µs', '250 µs', '2.6 ms', '1.20 s'],
  );
});
