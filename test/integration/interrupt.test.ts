import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { leftoversOf, startCli } from './harness.js';

// Moments chosen to land in setup, the baseline, a drain fill, a consume and a live window.
const MOMENTS_MS = [50, 400, 900, 1600, 2500];

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  for (const at of MOMENTS_MS) {
    test(`${signal} after ${at} ms leaves no namespace, veth or socket behind (exit ${code})`, async () => {
      const mode = at % 2 === 0 ? 'drain' : 'live';
      const run = startCli([
        'run',
        '--methods',
        'socket,pcap,pcap-native',
        '--mode',
        mode,
        '--count',
        '200000',
        '--duration',
        '2',
        '--trials',
        '3',
      ]);
      await sleep(at);
      run.child.kill(signal);
      const result = await run.done;
      // Killed before its handlers were installed (nothing created yet), or finished before a late
      // signal on a fast machine (exit 0); otherwise it must have cleaned up and said why it stopped.
      if (result.signal !== null) {
        assert.equal(result.signal, signal);
      } else if (result.code !== 0) {
        assert.equal(result.code, code, result.stderr);
        assert.match(result.stderr, new RegExp(`interrupted by ${signal}`));
      }
      assert.deepEqual(leftoversOf(result.pid), []);
    });
  }
}
