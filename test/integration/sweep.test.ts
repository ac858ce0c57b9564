import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Results } from '../../src/core/results.js';
import { cli } from './harness.js';

async function sweep(args: string[]): Promise<Results> {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-sweep-'));
  try {
    const file = join(dir, 'sweep.json');
    const r = await cli(['sweep', ...args, '--json', file, '--no-color']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return JSON.parse(readFileSync(file, 'utf8')) as Results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a size sweep gives one exact row per frame size', async () => {
  const results = await sweep([
    '--sizes',
    '64,1518',
    '--methods',
    'socket-mmsg',
    '--count',
    '5000',
    '--trials',
    '1',
  ]);
  assert.deepEqual(
    results.rows.map((r) => r.point?.frameBytes),
    [64, 1518],
  );
  for (const row of results.rows) {
    assert.ok(row.ok, row.reason ?? '');
    assert.equal(row.received, row.sent);
  }
});

test('a rate search on packet-mmap returns a rate whose measured loss is within --loss', async () => {
  const results = await sweep([
    '--rates',
    'search',
    '--loss',
    '0',
    '--methods',
    'packet-mmap',
    '--duration',
    '0.5',
    '--trials',
    '1',
  ]);
  const [row] = results.rows;
  assert.ok(row && row.ok, row?.reason ?? 'no row');
  assert.ok(row.point !== null && row.point.offeredPps !== null && row.point.offeredPps > 0);
  assert.equal(row.dropped, 0);
  assert.equal(row.mode, 'live');
});

test('sweep without --sizes, --rates or --threads is refused', async () => {
  const r = await cli(['sweep', '--methods', 'socket']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sweep needs --sizes, --rates, --threads or several of them/);
});

test('a thread sweep gives one row per reader thread count, each saying its count', async () => {
  const results = await sweep([
    '--threads',
    '1,2',
    '--methods',
    'packet-mmap',
    '--mode',
    'live',
    '--duration',
    '0.5',
    '--trials',
    '1',
  ]);
  assert.deepEqual(
    results.rows.map((r) => [r.point?.threads, r.threads]),
    [
      [1, 1],
      [2, 2],
    ],
  );
  for (const row of results.rows) assert.ok(row.ok, row.reason ?? '');
  assert.equal(results.rows[1]!.perThread?.length, 2);
});

test('a bad --threads list is one usage line', async () => {
  const r = await cli(['sweep', '--methods', 'socket', '--threads', '1,0']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--threads must be a positive whole number, got '0'/);
});
