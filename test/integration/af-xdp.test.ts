import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { afXdp } from '../../src/methods/af-xdp.js';
import { native } from '../../src/native/binding.js';
import { createTestbed, destroyTestbed } from '../../src/net/testbed.js';
import {
  processStartTime,
  sweepStaleXdp,
  XDP_STATE_DIR,
  type XdpAttachRecord,
} from '../../src/net/xdp-leftovers.js';
import type { Results } from '../../src/core/results.js';
import { capbenchLeftovers, startCli, type CliResult } from './harness.js';

// Skipped only where the kernel has no AF_XDP; a build without libxdp is a failure (CI installs it).
const availability = afXdp.probe();
const skip =
  !availability.available && /this kernel has no AF_XDP/.test(availability.reason)
    ? availability.reason
    : false;

/** A program capbench did not write, for attaching where the tests need "someone else's". */
const FOREIGN_OBJECT = [
  '/usr/lib/x86_64-linux-gnu/bpf',
  '/usr/lib/aarch64-linux-gnu/bpf',
  '/usr/lib/bpf',
  '/usr/local/lib/bpf',
]
  .map((d) => join(d, 'xdpfilt_alw_all.o'))
  .find((p) => existsSync(p));
function foreignObject(): string {
  if (!FOREIGN_OBJECT)
    throw new Error("xdp-tools' xdpfilt_alw_all.o not found: apt-get install xdp-tools");
  return FOREIGN_OBJECT;
}

interface IpLink {
  ifindex: number;
  xdp?: {
    mode?: number;
    prog?: { id?: number };
    attached?: { mode?: number; prog?: { id?: number } }[];
  };
}

function link(ifname: string): IpLink {
  return (
    JSON.parse(
      execFileSync('ip', ['-j', 'link', 'show', 'dev', ifname], { encoding: 'utf8' }),
    ) as IpLink[]
  )[0]!;
}

/** Ids of the XDP programs attached to an interface, in any mode. */
function xdpProgs(ifname: string): number[] {
  const x = link(ifname).xdp;
  if (!x) return [];
  return (x.attached ?? [{ prog: x.prog }]).flatMap((a) =>
    a.prog?.id === undefined ? [] : [a.prog.id],
  );
}

function stateFiles(): string[] {
  return existsSync(XDP_STATE_DIR)
    ? readdirSync(XDP_STATE_DIR)
        .filter((n) => n.startsWith('xdp-'))
        .sort()
    : [];
}

/** A pid that was a process a moment ago and is none now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.ok(r.pid);
  return r.pid;
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A veth pair named cbax*, up and silent, removed by the returned function. */
function makeVeth(): { a: string; b: string; remove: () => void } {
  const tag = randomBytes(3).toString('hex');
  const a = `cbax${tag}a`;
  const b = `cbax${tag}b`;
  execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  for (const i of [a, b]) {
    writeFileSync(`/proc/sys/net/ipv6/conf/${i}/disable_ipv6`, '1');
    execFileSync('ip', ['link', 'set', 'dev', i, 'addrgenmode', 'none', 'arp', 'off', 'up']);
  }
  return { a, b, remove: () => execFileSync('ip', ['link', 'del', a]) };
}

/** Attaches xdp-tools' allow-all filter in driver mode through netlink: it outlives any process. */
function attachForeign(ifname: string): number {
  execFileSync('ip', [
    'link',
    'set',
    'dev',
    ifname,
    'xdpdrv',
    'obj',
    foreignObject(),
    'sec',
    'xdp',
  ]);
  const [id] = xdpProgs(ifname);
  assert.ok(id !== undefined, `no program attached to ${ifname}`);
  return id;
}

/**
 * What a capbench process left behind: its test bed (names carry the owner's pid in base 36) and
 * its XDP state files. Other runs on the machine may come and go meanwhile; they are not counted.
 */
function leftoversOf(pid: number): string[] {
  const tag = pid.toString(36);
  const bed = new RegExp(`^(capbench-${tag}[0-9a-z]{3}|cb${tag}[0-9a-z]{3}[cg])$`);
  return [
    ...capbenchLeftovers().filter((n) => bed.test(n)),
    ...stateFiles().filter((n) => n.startsWith(`xdp-${pid}-`)),
  ];
}

/** `capbench run ... --json FILE`: the process result, its results and its pid. */
async function runJson(
  args: string[],
): Promise<{ result: CliResult; results: Results; pid: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'capbench-test-'));
  try {
    const file = join(dir, 'out.json');
    const run = startCli(['run', ...args, '--json', file, '--no-color']);
    const result = await run.done;
    assert.ok(
      existsSync(file),
      `no results written (exit ${result.code}): ${result.stderr}\n${result.stdout}`,
    );
    return {
      result,
      results: JSON.parse(readFileSync(file, 'utf8')) as Results,
      pid: run.child.pid!,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `capbench ARGS`: the process result and its pid. */
async function cli(args: string[]): Promise<CliResult & { pid: number }> {
  const run = startCli(args);
  return { ...(await run.done), pid: run.child.pid! };
}

function writeRecord(dir: string, rec: XdpAttachRecord): string {
  const path = join(dir, `xdp-${rec.owner}-${rec.ifindex}.json`);
  writeFileSync(path, JSON.stringify(rec));
  return path;
}

function record(
  ifname: string,
  progId: number,
  owner: number,
  ownerStart: number | null = null,
): XdpAttachRecord {
  return {
    ifindex: link(ifname).ifindex,
    ifname,
    progId,
    attach: 'netlink',
    owner,
    ownerStart,
    createdAt: new Date().toISOString(),
  };
}

test(
  'drain on mixed.pcap: both tiers receive every frame and count IPv4 exactly (the VLAN frame not)',
  { skip, timeout: 120_000 },
  async () => {
    const { result, results, pid } = await runJson([
      '--methods',
      'af-xdp',
      '--mode',
      'drain',
      '--count',
      '20000',
      '--fixture',
      'mixed',
      '--trials',
      '3',
      '--tier',
      'both',
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const rows = results.rows.filter((r) => r.method === 'af-xdp');
    assert.deepEqual(
      rows.map((r) => r.tier),
      ['js', 'native'],
    );
    for (const row of rows) {
      const what = `af-xdp/${row.tier}`;
      assert.ok(row.available && row.ok, `${what}: ${row.reason}`);
      assert.equal(row.sent, 60000, what);
      assert.equal(row.received, row.sent, what);
      assert.equal(row.dropped, 0, what);
      // mixed.pcap: 5 of every 10 frames are untagged IPv4; the 802.1Q-tagged IPv4 frame is not one.
      assert.equal(row.ipv4Expected, 30000, what);
      assert.equal(row.ipv4Counted, 30000, what);
    }
    assert.deepEqual(leftoversOf(pid), []);
  },
);

test(
  'the UMEM is not copied into child processes (every `ip` capbench runs would copy it)',
  { skip, timeout: 60_000 },
  async () => {
    const mappings = (): Map<string, string> =>
      new Map(
        readFileSync('/proc/self/smaps', 'utf8')
          .split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
          .map((m) => [m.slice(0, m.indexOf(' ')), m]),
      );
    const bed = await createTestbed();
    try {
      const frames = 3000;
      const before = mappings();
      const sock = new (native().AfXdpSocket)({
        ifname: bed.captureIf,
        queue: 0,
        frameBytes: 2048,
        frameCount: frames,
        ringSize: 4096,
        batch: 64,
        zeroCopy: false,
      });
      try {
        const size = new RegExp(`^Size:\\s+${(frames * 2048) / 1024} kB$`, 'm');
        const umem = [...mappings()].filter(([range, m]) => !before.has(range) && size.test(m));
        assert.equal(umem.length, 1, "one new mapping of the UMEM's size");
        // VM_DONTCOPY, from madvise(MADV_DONTFORK), shows as "dc".
        assert.match(umem[0]![1], /^VmFlags:.* dc( |$)/m);
      } finally {
        sock.close();
      }
    } finally {
      await destroyTestbed(bed);
    }
  },
);

test(
  'live at the maximum rate: received + dropped == sent in every trial of both tiers',
  { skip, timeout: 120_000 },
  async () => {
    const { result, results, pid } = await runJson([
      '--methods',
      'af-xdp',
      '--mode',
      'live',
      '--duration',
      '1',
      '--fixture',
      'mixed',
      '--trials',
      '2',
      '--tier',
      'both',
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const rows = results.rows.filter((r) => r.method === 'af-xdp');
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.ok(row.ok, `af-xdp/${row.tier}: ${row.reason}`);
      assert.equal(row.dropsSource, 'kernel');
      for (const t of row.trials) {
        assert.ok(t.sent !== null && t.sent > 0);
        assert.equal(
          t.received + t.drops.senderIf + t.drops.captureIf + t.drops.method!,
          t.sent,
          `af-xdp/${row.tier}`,
        );
      }
    }
    assert.deepEqual(leftoversOf(pid), []);
  },
);

test(
  '--zerocopy on the veth test bed is refused as a usage error (exit 2) and leaves nothing',
  { skip, timeout: 60_000 },
  async () => {
    const r = await cli([
      'run',
      '--methods',
      'af-xdp',
      '--zerocopy',
      '--mode',
      'drain',
      '--count',
      '1000',
      '--trials',
      '1',
      '--no-color',
    ]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(r.stderr, /--zerocopy: zero-copy AF_XDP is not supported by veth/);
    assert.equal(r.stdout, '', 'refused before anything was measured');
    assert.deepEqual(leftoversOf(r.pid), []);
  },
);

test(
  '--queues 2 on the test bed: its veth gets two queues, two generator threads feed both, nothing is missed',
  { skip, timeout: 60_000 },
  async () => {
    const { result, results } = await runJson([
      '--methods',
      'af-xdp',
      '--queues',
      '2',
      '--gen-threads',
      '2',
      '--mode',
      'drain',
      '--count',
      '4000',
      '--trials',
      '1',
      '--tier',
      'both',
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    for (const row of results.rows.filter((r) => r.method === 'af-xdp')) {
      assert.ok(row.ok, `${row.tier}: ${row.reason}`);
      assert.equal(row.received, 4000, row.tier);
    }
    assert.deepEqual(leftoversOf(result.pid), []);
  },
);

test(
  "--queues beyond the interface's receive queues is a usage error naming how many there are",
  { skip, timeout: 60_000 },
  async () => {
    const r = await cli([
      'run',
      '--methods',
      'af-xdp',
      '--queues',
      '2',
      '--iface',
      'lo',
      '--mode',
      'live',
      '--trials',
      '1',
      '--no-color',
    ]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(r.stderr, /--queues\/--threads 2: lo has 1 receive queue/);
    assert.equal(r.stdout, '', 'refused before anything was measured');
  },
);

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  test(
    `${signal} during a live af-xdp run on --iface leaves no XDP program on the interface`,
    { skip, timeout: 120_000 },
    async () => {
      const tb = await createTestbed();
      const gen = startCli([
        'gen',
        '--netns',
        tb.netns,
        '--iface',
        tb.senderIf,
        '--duration',
        '20',
        '--fixture',
        'mixed',
        '--rate',
        '100000',
      ]);
      try {
        const run = startCli([
          'run',
          '--methods',
          'af-xdp',
          '--iface',
          tb.captureIf,
          '--mode',
          'live',
          '--duration',
          '3',
          '--trials',
          '2',
          '--no-color',
        ]);
        // The none baseline runs first; af-xdp attaches after it, and records the attachment.
        const stateFile = join(
          XDP_STATE_DIR,
          `xdp-${run.child.pid}-${link(tb.captureIf).ifindex}.json`,
        );
        const recorded = (): number | null => {
          try {
            return (JSON.parse(readFileSync(stateFile, 'utf8')) as XdpAttachRecord).progId;
          } catch {
            return null;
          }
        };
        await until(
          'af-xdp to attach its program and record it',
          () => run.child.exitCode !== null || (xdpProgs(tb.captureIf)[0] ?? -1) === recorded(),
          30_000,
        );
        assert.equal(run.child.exitCode, null, 'the run ended before af-xdp attached');
        await sleep(1000);
        run.child.kill(signal);
        const result = await run.done;
        if (signal === 'SIGINT') {
          assert.equal(result.code, 130, result.stderr);
          assert.match(result.stderr, /interrupted by SIGINT/);
          assert.equal(existsSync(stateFile), false, 'state file left behind');
        } else {
          assert.equal(result.signal, 'SIGKILL');
        }
        // SIGKILL: the program was attached through a BPF link, which the kernel drops with the process.
        await until('the program to go', () => xdpProgs(tb.captureIf).length === 0, 2000);
        // Whatever the record says, a sweep now finds nothing to detach and removes the record.
        const removed = await sweepStaleXdp();
        assert.ok(
          removed.every((line) => !line.includes(tb.captureIf)),
          removed.join('\n'),
        );
        assert.equal(existsSync(stateFile), false);
      } finally {
        gen.child.kill('SIGINT');
        await gen.done;
        await destroyTestbed(tb);
      }
    },
  );
}

test(
  'a stale state file (owner dead) gets its program detached and the file removed',
  { skip, timeout: 30_000 },
  async () => {
    const veth = makeVeth();
    const dir = mkdtempSync(join(tmpdir(), 'capbench-xdp-'));
    try {
      const id = attachForeign(veth.a);
      const path = writeRecord(dir, record(veth.a, id, deadPid()));
      const removed = await sweepStaleXdp(dir);
      assert.equal(removed.length, 1);
      assert.match(removed[0]!, new RegExp(`XDP program ${id} .* ${veth.a}$`));
      assert.deepEqual(xdpProgs(veth.a), []);
      assert.equal(existsSync(path), false);

      // A pid that is alive but belongs to a later process (start time differs) is also stale.
      const id2 = attachForeign(veth.a);
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {
        stdio: 'ignore',
      });
      try {
        const pid = other.pid!;
        const start = processStartTime(pid);
        assert.ok(start !== null);
        writeRecord(dir, record(veth.a, id2, pid, start - 1));
        assert.equal((await sweepStaleXdp(dir)).length, 1);
        assert.deepEqual(xdpProgs(veth.a), []);
      } finally {
        other.kill();
      }
    } finally {
      veth.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('a program capbench did not attach is left alone', { skip, timeout: 30_000 }, async () => {
  const veth = makeVeth();
  const dir = mkdtempSync(join(tmpdir(), 'capbench-xdp-'));
  try {
    const id = attachForeign(veth.a);
    // No record at all.
    assert.deepEqual(await sweepStaleXdp(dir), []);
    // A dead owner's record of another program id: the record goes, the program stays.
    const stale = writeRecord(dir, record(veth.a, id + 1_000_000, deadPid()));
    assert.deepEqual(await sweepStaleXdp(dir), []);
    assert.equal(existsSync(stale), false);
    // A dead owner's record of this program id but on another interface.
    writeRecord(dir, { ...record(veth.b, id, deadPid()) });
    assert.deepEqual(await sweepStaleXdp(dir), []);
    // The right id, but its owner (this process) is alive: not stale, record kept.
    const live = writeRecord(dir, record(veth.a, id, process.pid, processStartTime(process.pid)));
    assert.deepEqual(await sweepStaleXdp(dir), []);
    assert.equal(existsSync(live), true);
    assert.deepEqual(xdpProgs(veth.a), [id]);
    // And af-xdp itself refuses to replace it.
    const r = await cli([
      'run',
      '--methods',
      'af-xdp',
      '--iface',
      veth.a,
      '--mode',
      'live',
      '--duration',
      '1',
      '--trials',
      '1',
      '--no-color',
    ]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stdout + r.stderr,
      new RegExp(`already has XDP program id ${id}, which capbench did not attach`),
    );
    assert.deepEqual(xdpProgs(veth.a), [id]);
  } finally {
    veth.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});
