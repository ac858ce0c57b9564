/**
 * PACKET_FANOUT in the addon, below any method: two capture sockets of one group on the test bed
 * share the generator's frames, each frame reaching exactly one of them, and each socket's own
 * PACKET_STATISTICS count only what it was given. Also: the addon and its handles work inside a
 * worker_threads Worker, which is where the readers of `--threads N` run.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  native,
  type FanoutOptions,
  type NativeCount,
  type PacketMmapRing,
  type PacketSocket,
} from '../../src/native/binding.js';
import { fixturePath, loadFixture, type Fixture } from '../../src/net/fixture.js';
import { RunningGenerator } from '../../src/net/generator.js';
import { createTestbed, destroyTestbed, type Testbed } from '../../src/net/testbed.js';

const FRAMES = 2000;
const EINVAL = 22;

let tb: Testbed | undefined;
let fixture: Fixture;

before(async () => {
  fixture = await loadFixture(fixturePath('udp64'));
  tb = await createTestbed();
});

after(async () => {
  if (tb) await destroyTestbed(tb);
});

function bed(): Testbed {
  assert.ok(tb, 'no test bed');
  return tb;
}

interface Member {
  fanoutGroup: number;
  consume(): NativeCount;
  stats(): { packets: number; drops: number };
  close(): void;
}

function socketMember(fanout: FanoutOptions | null): Member {
  const s: PacketSocket = new (native().PacketSocket)({
    ifname: bed().captureIf,
    rcvbufBytes: 8 << 20,
    fanout,
  });
  return {
    get fanoutGroup() {
      return s.fanoutGroup;
    },
    consume: () => s.consumeNative(FRAMES * 2, 64, 2000, 100),
    stats: () => s.stats(),
    close: () => s.close(),
  };
}

function ringMember(fanout: FanoutOptions | null): Member {
  const r: PacketMmapRing = new (native().PacketMmapRing)({
    ifname: bed().captureIf,
    blockBytes: 1 << 16,
    blockCount: 16,
    retireMs: 5,
    fanout,
  });
  return {
    get fanoutGroup() {
      return r.fanoutGroup;
    },
    consume: () => r.consumeNative(FRAMES * 2, 2000, 100),
    stats: () => r.stats(),
    close: () => r.close(),
  };
}

/** Sends FRAMES frames of udp64 flat out from the test bed's namespace; returns how many went. */
function send(): number {
  const gen = new RunningGenerator({
    netnsPath: bed().netnsPath,
    ifname: bed().senderIf,
    fixture,
    count: FRAMES,
    durationMs: 0,
    ratePps: 0,
    cpu: -1,
  });
  return gen.waitBlocking().sent;
}

function closeAll(members: Member[]): void {
  for (const m of members) m.close();
}

for (const [kind, open] of [
  ['PacketSocket', socketMember],
  ['PacketMmapRing', ringMember],
] as const) {
  test(`${kind}: two members of an lb group share the frames; per-socket statistics add up to what was sent`, () => {
    const members: Member[] = [];
    try {
      const first = open({ mode: 'lb', group: 0 });
      members.push(first);
      assert.ok(
        first.fanoutGroup >= 1 && first.fanoutGroup <= 65535,
        `new group id ${first.fanoutGroup}`,
      );
      const second = open({ mode: 'lb', group: first.fanoutGroup });
      members.push(second);
      assert.equal(second.fanoutGroup, first.fanoutGroup);

      const sent = send();
      assert.equal(sent, FRAMES);
      const got = members.map((m) => m.consume());
      const stats = members.map((m) => m.stats());
      for (const [i, s] of stats.entries()) {
        assert.equal(s.drops, 0, `member ${i} dropped`);
        assert.ok(got[i]!.received > 0, `member ${i} received nothing: ${JSON.stringify(got)}`);
        // Each socket's own counters describe only its own share.
        assert.equal(got[i]!.received, s.packets - s.drops, `member ${i}`);
        assert.equal(got[i]!.ipv4, got[i]!.received, `member ${i}: udp64 is all IPv4`);
      }
      assert.equal(stats[0]!.packets + stats[1]!.packets, sent, JSON.stringify(stats));
      // Round robin: an even split, give or take the counter's phase.
      assert.ok(Math.abs(got[0]!.received - got[1]!.received) <= 2, JSON.stringify(got));
    } finally {
      closeAll(members);
    }
  });

  test(`${kind}: joining a group of another mode fails with EINVAL and a message naming group and mode`, () => {
    const members: Member[] = [];
    try {
      const first = open({ mode: 'lb', group: 0 });
      members.push(first);
      const group = first.fanoutGroup;
      assert.throws(
        () => members.push(open({ mode: 'hash', group })),
        (err: Error & { errno?: number }) => {
          assert.equal(err.errno, EINVAL, err.message);
          assert.match(
            err.message,
            new RegExp(
              `^PACKET_FANOUT join group ${group} \\(hash\\) on ${bed().captureIf}\\b.*: Invalid argument$`,
            ),
          );
          return true;
        },
      );
    } finally {
      closeAll(members);
    }
  });

  test(`${kind}: fanoutGroup is 0 without fanout and after close; a bad mode is a TypeError`, () => {
    const members: Member[] = [];
    try {
      members.push(open(null));
      assert.equal(members[0]!.fanoutGroup, 0);
      const joined = open({ mode: 'hash', group: 0 });
      members.push(joined);
      assert.ok(joined.fanoutGroup > 0);
      joined.close();
      assert.equal(joined.fanoutGroup, 0);
      assert.throws(() => open({ mode: 'rollover' as FanoutOptions['mode'], group: 0 }), TypeError);
      assert.throws(() => open({ mode: 'lb', group: 65536 }), RangeError);
    } finally {
      closeAll(members);
    }
  });
}

/**
 * Inside a Worker: the addon loads a second time (its own env), pins the worker's thread, opens a
 * socket that joins the main thread's group, and counts its share. Evaluated as CommonJS, so the
 * ES module binding is brought in with import().
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.binding).then(({ native }) => {
  const n = native();
  n.pinThread(workerData.cpu);
  const fs = require('node:fs');
  const name = fs.readFileSync('/proc/thread-self/comm', 'utf8').trim();
  const cpus = /^Cpus_allowed_list:\\s*(\\S+)$/m.exec(fs.readFileSync('/proc/thread-self/status', 'utf8'))[1];
  const s = new n.PacketSocket({ ifname: workerData.ifname, rcvbufBytes: 8 << 20, fanout: { mode: 'lb', group: workerData.group } });
  parentPort.postMessage({ joined: s.fanoutGroup, name, cpus });
  parentPort.once('message', () => {
    const got = s.consumeNative(workerData.frames * 2, 64, 2000, 100);
    const stats = s.stats();
    s.close();
    parentPort.postMessage({ got, stats });
  });
}).catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

interface WorkerReply {
  error?: string;
  joined?: number;
  name?: string;
  cpus?: string;
  got?: NativeCount;
  stats?: { packets: number; drops: number };
}

function nextMessage(w: Worker): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

test("in a worker thread: the addon loads, pinThread pins and names the thread, a PacketSocket joins the main thread's group", async () => {
  const main = socketMember({ mode: 'lb', group: 0 });
  const cpu = 0;
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      binding: new URL('../../src/native/binding.js', import.meta.url).href,
      ifname: bed().captureIf,
      group: main.fanoutGroup,
      frames: FRAMES,
      cpu,
    },
  });
  try {
    const ready = await nextMessage(worker);
    assert.equal(ready.error, undefined, ready.error);
    assert.equal(ready.joined, main.fanoutGroup);
    assert.equal(ready.name, 'cb-pinned');
    assert.equal(ready.cpus, String(cpu));

    const sent = send();
    const done = nextMessage(worker);
    worker.postMessage('go');
    const theirs = await done;
    assert.equal(theirs.error, undefined, theirs.error);
    const mine = main.consume();
    const mineStats = main.stats();
    assert.ok(mine.received > 0 && theirs.got!.received > 0, JSON.stringify({ mine, theirs }));
    assert.equal(mine.received, mineStats.packets - mineStats.drops);
    assert.equal(theirs.got!.received, theirs.stats!.packets - theirs.stats!.drops);
    assert.equal(mineStats.packets + theirs.stats!.packets, sent);
  } finally {
    main.close();
    await worker.terminate();
  }
});
