import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermissionError } from '../../src/shared/errors.js';
import {
  effectiveCapabilities,
  missingCapabilities,
  requireCapabilities,
} from '../../src/core/privileges.js';

test('CapEff is read from /proc/self/status text', () => {
  assert.equal(effectiveCapabilities('Name:\tnode\nCapEff:\t0000000000003000\n'), 0x3000n);
});

test('missing capabilities are named', () => {
  // bit 12 (NET_ADMIN) set, 13 (NET_RAW) and 21 (SYS_ADMIN) not
  assert.deepEqual(
    missingCapabilities(['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN'], 0x1000n),
    ['CAP_NET_RAW', 'CAP_SYS_ADMIN'],
  );
});

test('a missing capability is one PermissionError line that says how to fix it', () => {
  assert.throws(
    () => requireCapabilities(['CAP_NET_RAW'], 'capbench run', 0n),
    (e: unknown) =>
      e instanceof PermissionError &&
      e.message ===
        'capbench run needs CAP_NET_RAW: run as root (sudo capbench ...) or grant the capabilities',
  );
});
