import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASELINE, CAPTURE_METHOD_NAMES, METHOD_NAMES } from '../../src/core/config.js';
import { METHOD_OPTIONS, METHODS } from '../../src/methods/registry.js';

test('every name --methods takes is the baseline or a registered method, filed under its own name, in order', () => {
  assert.deepEqual([BASELINE, ...METHODS.keys()], [...METHOD_NAMES]);
  assert.deepEqual([...METHODS.keys()], [...CAPTURE_METHOD_NAMES]);
  for (const [name, method] of METHODS) assert.equal(method.name, name);
});

test('every option a method declares is offered once, and an option several methods read is one declaration', () => {
  assert.deepEqual(
    METHOD_OPTIONS.map((o) => o.name),
    ['batch', 'ring-mb', 'block-kb', 'queues', 'zerocopy', 'dpdk-pmd', 'dpdk-port'],
  );
  const batchReaders = [...METHODS.values()]
    .filter((m) => m.options?.some((o) => o.name === 'batch'))
    .map((m) => m.name);
  assert.deepEqual(batchReaders, [
    'socket-mmsg',
    'pcap-native',
    'af-xdp',
    'fastnet-ring',
    'fastnet-zc',
  ]);
  for (const m of METHODS.values())
    for (const o of m.options ?? [])
      assert.equal(
        METHOD_OPTIONS.find((x) => x.name === o.name),
        o,
      );
});

test('an option with an argument parses it; a switch has none and defaults to off', () => {
  for (const o of METHOD_OPTIONS) {
    assert.equal(o.arg === undefined, o.parse === undefined, o.name);
    if (o.parse === undefined) assert.equal(o.default, false, o.name);
  }
});
