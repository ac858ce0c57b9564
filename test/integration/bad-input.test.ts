import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { METHOD_NAMES } from '../../src/core/config.js';
import { assertRefused } from './harness.js';

test('an unknown method names the ones that exist', () =>
  assertRefused(
    ['run', '--methods', 'socket,carrier-pigeon'],
    new RegExp(
      `unknown method 'carrier-pigeon': choose from ${METHOD_NAMES.join(', ')} \\(or all\\)$`,
    ),
  ));

test('an unknown fixture names the fixtures that exist', () =>
  assertRefused(
    ['run', '--fixture', 'nosuch'],
    /unknown fixture 'nosuch' \(fixtures: imix, mixed, udp64, udp64-flows, udp128, .*, udp1518\)/,
  ));

test('a file that is not a pcap is refused with its magic number', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-bad-'));
  try {
    const file = join(dir, 'notes.pcap');
    writeFileSync(file, 'this is not a capture file at all');
    await assertRefused(['run', '--fixture', file], /notes\.pcap: not a pcap file \(magic 0x/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a non-positive count is refused', () =>
  assertRefused(['run', '--count', '0'], /--count must be a positive whole number, got '0'/));

test('an unknown interface is refused', () =>
  assertRefused(
    ['run', '--iface', 'nosuch0'],
    /no interface named nosuch0 \(interfaces here: .*\blo\b/,
  ));

test('drain mode with --iface is refused: traffic from elsewhere cannot be held back', () =>
  assertRefused(['run', '--iface', 'lo', '--mode', 'drain'], /only --mode live/));

test('a count no kernel buffer can hold names the largest that fits', () =>
  assertRefused(
    ['run', '--methods', 'socket', '--count', '100000000'],
    /--count 100000000 does not fit in socket's kernel buffer: at most \d+ frames of 60 bytes/,
  ));

test('without root, run names the missing capabilities and creates nothing', () =>
  assertRefused(
    ['run', '--methods', 'socket', '--count', '1000'],
    /needs CAP_NET_ADMIN and CAP_NET_RAW and CAP_SYS_ADMIN: run as root/,
    [
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
    ],
  ));

test('an unknown env action is refused', () =>
  assertRefused(['env', 'sideways'], /env takes up, down or status, not 'sideways'/));

test('gen on an unknown interface names the ones that exist', () =>
  assertRefused(
    ['gen', '--iface', 'nosuch0', '--count', '10'],
    /no interface named nosuch0 \(interfaces here: .*\blo\b/,
  ));

test('an unknown option is one line naming it', () =>
  assertRefused(
    ['run', '--nosuch'],
    /^capbench: unknown option '--nosuch' \(see capbench --help\)$/,
  ));
