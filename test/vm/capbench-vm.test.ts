/**
 * capbench's own checks of fastnet-read and fastnet-ring, run inside the test VM (test/vm/run-vm.sh)
 * with kmod/fastnet loaded: the real CLI, the real test bed, exact counts. Not part of `npm test`
 * (the development machine's kernel cannot load modules); `npm run test:vm` runs it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { native, type FastnetHandle } from '../../src/native/binding.js';
import { capbenchLeftovers, cli, runJson } from '../integration/harness.js';

const METHODS = 'fastnet-read,fastnet-ring';

test('the module is loaded', () => {
  assert.ok(existsSync('/dev/fastnet'), 'no /dev/fastnet: the rig loads kmod/fastnet before this test');
});

test('capbench list shows both fastnet methods available', async () => {
  const r = await cli(['list']);
  assert.equal(r.code, 0, r.stderr);
  for (const name of ['fastnet-read', 'fastnet-ring']) {
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `${name} missing from:\n${r.stdout}`);
    assert.match(line, /\savailable\s/, line);
  }
});

function summary(row: { method: string; tier: string; sent: number | null; received: number; dropped: number | null; ipv4Counted: number | null; ipv4Expected: number | null }): string {
  return `${row.method}/${row.tier}: sent ${row.sent} received ${row.received} dropped ${row.dropped} IPv4 ${row.ipv4Counted}/${row.ipv4Expected}`;
}

test('drain on mixed.pcap: both methods and tiers receive all that was sent and count IPv4 exactly', async (t) => {
  const before = capbenchLeftovers();
  const { result, results } = await runJson([
    '--methods', METHODS, '--mode', 'drain', '--count', '20000', '--fixture', 'mixed', '--tier', 'both',
    '--trials', '1',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const rows = results.rows.filter((r) => r.method !== 'none');
  assert.deepEqual(rows.map((r) => `${r.method}/${r.tier}`).sort(), [
    'fastnet-read/js', 'fastnet-read/native', 'fastnet-ring/js', 'fastnet-ring/native',
  ]);
  for (const row of rows) {
    const what = `${row.method}/${row.tier}`;
    t.diagnostic(summary(row));
    assert.ok(row.available, `${what}: ${row.reason}`);
    assert.equal(row.sent, 20000, what);
    assert.equal(row.received, row.sent, what);
    assert.equal(row.dropped, 0, what);
    assert.equal(row.dropsSource, 'kernel', what);
    // mixed.pcap: 5 of every 10 frames are untagged IPv4; its VLAN-tagged IPv4 frame must not count.
    assert.equal(row.ipv4Expected, 10000, what);
    assert.equal(row.ipv4Counted, row.ipv4Expected, what);
    assert.ok(row.ok, `${what}: ${row.reason}`);
  }
  assert.deepEqual(capbenchLeftovers(), before);
});

test('live: received + dropped == sent for both methods and tiers', async (t) => {
  const before = capbenchLeftovers();
  const { result, results } = await runJson([
    '--methods', METHODS, '--mode', 'live', '--duration', '2', '--fixture', 'mixed', '--tier', 'both',
    '--trials', '1',
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const rows = results.rows.filter((r) => r.method !== 'none');
  assert.equal(rows.length, 4);
  for (const row of rows) {
    const what = `${row.method}/${row.tier}`;
    t.diagnostic(summary(row));
    assert.ok(row.available && row.ok, `${what}: ${row.reason}`);
    assert.ok(row.sent !== null && row.sent > 0, what);
    assert.ok(row.dropped !== null, `${what}: drops unknown`);
    assert.equal(row.received + row.dropped, row.sent, `${what}: ${JSON.stringify(row.drops)}`);
    assert.ok(row.received > 0, what);
  }
  assert.deepEqual(capbenchLeftovers(), before);
});

/** A silent veth pair of our own for the handle checks, removed afterwards. */
function withVeth(fn: (ifname: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    execFileSync('ip', ['link', 'add', 'cbfn8', 'type', 'veth', 'peer', 'name', 'cbfn9']);
    try {
      execFileSync('ip', ['link', 'set', 'dev', 'cbfn8', 'up']);
      await fn('cbfn8');
    } finally {
      execFileSync('ip', ['link', 'del', 'cbfn8']);
    }
  };
}

test('FastnetHandle: close() detaches the ring, a second handle gets EBUSY, close() lets go', withVeth((ifname) => {
  const { FastnetHandle: Handle } = native();
  const h = new Handle({ ifname, mode: 'ring', depth: 64 });
  assert.ok(h.ring instanceof ArrayBuffer);
  assert.equal(h.ring.byteLength, 64 * 2048);
  assert.throws(() => new Handle({ ifname, mode: 'read', depth: 0 }), (e: Error & { errno?: number }) => {
    assert.equal(e.errno, 16, e.message); // EBUSY
    assert.match(e.message, /taken/);
    return true;
  });
  const view = new Uint8Array(h.ring);
  h.close();
  assert.equal(h.ring?.byteLength, 0, 'the ring is detached, not left pointing at unmapped memory');
  assert.equal(view.length, 0);
  h.close(); // idempotent
  assert.throws(() => h.stats(), /already closed/);
  const r = new Handle({ ifname, mode: 'read', depth: 0 });
  assert.equal(r.ring, null);
  assert.deepEqual(r.stats(), { received: 0, delivered: 0, dropped: 0, full: 0, discarded: 0, queued: 0 });
  assert.throws(() => r.nextSlots(new Uint32Array(2), 1, 0), /READ mode/);
  r.close();
}));

test('FastnetHandle: a handle collected without close() lets the interface go; its ring stays valid', withVeth(async (ifname) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { FastnetHandle: Handle } = native();
  let kept: ArrayBuffer | null = null;
  (() => {
    const h: FastnetHandle = new Handle({ ifname, mode: 'ring', depth: 16 });
    kept = h.ring; // JS keeps the ring, drops the handle
  })();
  let rebound: FastnetHandle | null = null;
  for (let i = 0; i < 50 && rebound === null; i++) {
    gc();
    await tick();
    try {
      rebound = new Handle({ ifname, mode: 'read', depth: 0 });
    } catch {
      // not collected yet
    }
  }
  assert.ok(rebound, 'the collected handle still holds the interface');
  rebound.close();
  assert.ok(kept !== null);
  assert.equal(new Uint8Array(kept)[0], 0, 'the orphaned ring is still mapped and readable');
  // eslint-disable-next-line no-useless-assignment -- the last reference goes, so gc() can collect the ring
  kept = null;
  gc();
  await tick();
}));
