import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Results } from '../../src/core/results.js';
import { sampleResults } from '../unit/sample-results.js';
import { cli } from './harness.js';

function withFiles(body: (dir: string, base: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-compare-'));
  const base = join(dir, 'base.json');
  writeFileSync(base, JSON.stringify(sampleResults()));
  return body(dir, base).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function scaled(factor: number): Results {
  const r = sampleResults();
  r.rows = r.rows.map((row) => ({
    ...row,
    pps: row.pps === null ? null : row.pps * factor,
    ppsSamples: row.ppsSamples.map((p) => p * factor),
  }));
  return r;
}

test('compare of a results file with itself exits 0', () =>
  withFiles(async (_dir, base) => {
    const r = await cli(['compare', base, base, '--no-color']);
    assert.equal(r.code, 0, r.stderr);
  }));

test('compare with pps scaled by 0.7 exits 1 at --threshold 10%', () =>
  withFiles(async (dir, base) => {
    const slower = join(dir, 'slower.json');
    writeFileSync(slower, JSON.stringify(scaled(0.7)));
    const r = await cli(['compare', base, slower, '--threshold', '10%', '--no-color']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /slower/);
  }));

test('compare --format gha writes a non-empty JSON list of {name, unit, value}', () =>
  withFiles(async (dir, base) => {
    const out = join(dir, 'bench.json');
    const r = await cli(['compare', base, base, '--format', 'gha', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(readFileSync(out, 'utf8')) as {
      name: string;
      unit: string;
      value: number;
    }[];
    assert.ok(Array.isArray(list) && list.length > 0);
    for (const item of list) {
      assert.equal(typeof item.name, 'string');
      assert.equal(typeof item.unit, 'string');
      assert.equal(typeof item.value, 'number');
    }
  }));

test('compare of a file that is not capbench results exits 2 with one line', () =>
  withFiles(async (dir, base) => {
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"hello": 1}');
    const r = await cli(['compare', base, junk]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }));
