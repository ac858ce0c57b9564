import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { capbenchLeftovers, cli } from './harness.js';

function rxPackets(ifname: string): number {
  return Number(readFileSync(`/sys/class/net/${ifname}/statistics/rx_packets`, 'utf8'));
}

test('env up makes a test bed that gen can send into, env down removes it', async () => {
  const up = await cli(['env', 'up']);
  assert.equal(up.code, 0, up.stderr);
  const netns = /^(capbench-[0-9a-z]+): persistent/m.exec(up.stdout)?.[1];
  const capture = /capture interface (\S+)/.exec(up.stdout)?.[1];
  const sender = /sender interface\s+(\S+)/.exec(up.stdout)?.[1];
  assert.ok(netns && capture && sender, up.stdout);
  try {
    const status = await cli(['env', 'status']);
    assert.match(status.stdout, new RegExp(`${netns}: persistent`));

    const rx0 = rxPackets(capture);
    const gen = await cli([
      'gen',
      '--netns',
      netns,
      '--iface',
      sender,
      '--count',
      '1000',
      '--rate',
      '100000',
    ]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(
      gen.stdout,
      new RegExp(`^sent 1,000 frames of udp64 on ${sender} in [0-9.]+ s: [0-9,]+ pps$`, 'm'),
    );
    // The test bed is silent: exactly the generator's frames arrive.
    assert.equal(rxPackets(capture) - rx0, 1000);
  } finally {
    const down = await cli(['env', 'down']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`removed ${netns}`));
  }
  const left = capbenchLeftovers();
  assert.ok(!left.includes(netns) && !left.includes(capture), `left behind: ${left.join(', ')}`);
});

test('a test bed left by a crashed run is found and removed by the next run', async () => {
  // A test bed whose owner is a process that has exited: what a crash leaves.
  const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const tag = Number(dead).toString(36) + 'zzz';
  execFileSync('ip', ['netns', 'add', `capbench-${tag}`]);
  execFileSync('ip', [
    'link',
    'add',
    `cb${tag}c`,
    'type',
    'veth',
    'peer',
    'name',
    `cb${tag}g`,
    'netns',
    `capbench-${tag}`,
  ]);
  const status = await cli(['env', 'status']);
  assert.match(status.stdout, new RegExp(`capbench-${tag}: stale`));
  const run = await cli([
    'run',
    '--methods',
    'socket',
    '--count',
    '1000',
    '--trials',
    '1',
    '--no-color',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(!capbenchLeftovers().some((n) => n.includes(tag)), 'stale test bed still there');
});
