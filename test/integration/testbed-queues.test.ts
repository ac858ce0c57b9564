import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath, loadFixture } from '../../src/net/fixture.js';
import { RunningGenerator } from '../../src/net/generator.js';
import { readCounters } from '../../src/net/interface-stats.js';
import {
  createTestbed,
  destroyTestbed,
  listTestbeds,
  type Testbed,
} from '../../src/net/testbed.js';
import { allowedCpus } from '../unit/cpu-list.js';

const mine = allowedCpus('/proc/self/status')!;
/** Two CPUs that feed different queues of a 2-queue veth: one even, one odd. */
const cpus = [mine.find((c) => c % 2 === 0), mine.find((c) => c % 2 === 1)];
const skip = cpus.includes(undefined) ? 'needs an even and an odd CPU to send from' : false;

interface IpLinkDetail {
  num_tx_queues?: number;
  num_rx_queues?: number;
}

function queuesOf(ifname: string, netns: string | null): [tx: number, rx: number] {
  const args = [...(netns ? ['-n', netns] : []), '-d', '-j', 'link', 'show', 'dev', ifname];
  const [l] = JSON.parse(execFileSync('ip', args, { encoding: 'utf8' })) as IpLinkDetail[];
  return [l?.num_tx_queues ?? -1, l?.num_rx_queues ?? -1];
}

/** veth's per-RX-queue counters; they count only frames that pass through the queue's NAPI. */
function rxQueuePackets(ifname: string): Map<number, number> {
  const out = execFileSync('ethtool', ['-S', ifname], { encoding: 'utf8' });
  return new Map(
    [...out.matchAll(/^\s*rx_queue_(\d+)_xdp_packets: (\d+)$/gm)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]),
  );
}

/**
 * Puts veth's receive side on its per-queue NAPI path, where per-queue counters exist: GRO on
 * the receiving end gives each RX queue a NAPI instance, and with TSO off on the sender veth
 * hands every frame to it (otherwise it takes frames it cannot aggregate straight to the backlog).
 */
function perQueuePath(tb: Testbed): void {
  execFileSync('ethtool', ['-K', tb.captureIf, 'gro', 'on']);
  execFileSync('ip', ['netns', 'exec', tb.netns, 'ethtool', '-K', tb.senderIf, 'tso', 'off']);
}

test(
  'a test bed with 2 queues has 2 TX and 2 RX queues on all four veth ends',
  { timeout: 60_000 },
  async () => {
    const tb = await createTestbed({ queues: 2 });
    try {
      assert.equal(tb.queues, 2);
      const sysfs = readdirSync(`/sys/class/net/${tb.captureIf}/queues`).sort();
      assert.deepEqual(sysfs, ['rx-0', 'rx-1', 'tx-0', 'tx-1']);
      assert.deepEqual(queuesOf(tb.captureIf, null), [2, 2]);
      assert.deepEqual(queuesOf(tb.twinCaptureIf, null), [2, 2]);
      assert.deepEqual(queuesOf(tb.senderIf, tb.netns), [2, 2]);
      assert.deepEqual(queuesOf(tb.twinSenderIf, tb.netns), [2, 2]);
      assert.equal(
        listTestbeds().find((b) => b.netns === tb.netns)?.queues,
        2,
        'listTestbeds reads the count back',
      );
    } finally {
      await destroyTestbed(tb);
    }
  },
);

test(
  'a test bed without queues keeps one queue per end, as before',
  { timeout: 60_000 },
  async () => {
    const tb = await createTestbed();
    try {
      assert.equal(tb.queues, 1);
      assert.deepEqual(queuesOf(tb.captureIf, null), [1, 1]);
      assert.deepEqual(queuesOf(tb.senderIf, tb.netns), [1, 1]);
    } finally {
      await destroyTestbed(tb);
    }
  },
);

test(
  'two generator threads on two CPUs send an exact count, each into the RX queue of its CPU',
  { skip, timeout: 60_000 },
  async () => {
    const count = 20_001;
    const tb = await createTestbed({ queues: 2 });
    try {
      perQueuePath(tb);
      const before = await readCounters(tb.captureIf, null);
      const queuesBefore = rxQueuePackets(tb.captureIf);
      const gen = new RunningGenerator({
        netnsPath: tb.netnsPath,
        ifname: tb.senderIf,
        fixture: await loadFixture(fixturePath('udp64-flows')),
        count,
        durationMs: 0,
        ratePps: 0,
        cpu: -1,
        threads: 2,
        cpus: cpus as number[],
      });
      const s = await gen.wait(new AbortController().signal);
      const after = await readCounters(tb.captureIf, null);
      const queuesAfter = rxQueuePackets(tb.captureIf);

      assert.deepEqual(s.threadSent, [10_001, 10_000]);
      assert.equal(s.sent, count);
      assert.equal(
        after.rxPackets - before.rxPackets,
        count,
        'the capture end received exactly what was sent',
      );
      // The kernel chose each frame's TX queue as (sending CPU % 2), and veth kept the index.
      const received = (q: number): number =>
        (queuesAfter.get(q) ?? 0) - (queuesBefore.get(q) ?? 0);
      assert.equal(received(cpus[0]! % 2), s.threadSent[0], `RX queue of CPU ${cpus[0]}`);
      assert.equal(received(cpus[1]! % 2), s.threadSent[1], `RX queue of CPU ${cpus[1]}`);
    } finally {
      await destroyTestbed(tb);
    }
  },
);
