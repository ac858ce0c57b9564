import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Row } from '../../src/core/results.js';
import { assertRefused, leftoversOf, runJson, startCli } from './harness.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
// CI installs libdpdk-dev (scripts/ci-packages.sh): a build without it is a failure there.
const built = spawnSync('pkg-config', ['--exists', 'libdpdk']).status === 0;

/** What a dpdk session must not leave: EAL's runtime files, its temporary directory, an XDP program. */
function dpdkLeftovers(): string[] {
  const found: string[] = [];
  for (const dir of ['/var/run/dpdk', '/run/dpdk']) if (existsSync(dir)) found.push(dir);
  for (const name of readdirSync(tmpdir()))
    if (name.startsWith('capbench-dpdk-')) found.push(join(tmpdir(), name));
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
    ifname: string;
    xdp?: unknown;
  }[];
  for (const l of links) if (l.xdp !== undefined && /^cb/.test(l.ifname)) found.push(l.ifname);
  return found;
}

function assertExact(rows: Row[], label: string): void {
  assert.equal(rows.length, 2, `${label}: a row per tier`);
  for (const row of rows) {
    assert.ok(row.ok, `${label} ${row.tier}: ${row.reason}`);
    assert.equal(row.received + (row.dropped ?? 0), row.sent, `${label} ${row.tier}`);
    // Live on a busy machine a spinning reader loses its CPU and frames are dropped (counted).
    if (row.dropped === 0) assert.equal(row.ipv4Counted, row.ipv4Expected, `${label} ${row.tier}`);
  }
}

for (const pmd of ['af_packet', 'af_xdp'] as const) {
  test(`dpdk --dpdk-pmd ${pmd} drains exactly in both tiers, beside af-xdp on the same port`, async (t) => {
    if (!built) return t.skip('libdpdk-dev is not installed');
    const { result, results } = await runJson([
      '--methods',
      'af-xdp,dpdk',
      '--dpdk-pmd',
      pmd,
      '--tier',
      'both',
      '--count',
      '2000',
      '--trials',
      '2',
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const rows = results.rows.filter((r) => r.method === 'dpdk');
    assertExact(rows, pmd);
    for (const row of rows) assert.equal(row.variant, pmd);
    // af-xdp's rows ran between dpdk's on the same queue: the PMD's socket was gone each time.
    for (const row of results.rows.filter((r) => r.method === 'af-xdp'))
      assert.ok(row.ok, `af-xdp ${row.tier}: ${row.reason}`);
    assert.match(result.stdout, new RegExp(`dpdk:${pmd}\\s+native`));
    assert.deepEqual(leftoversOf(result.pid), []);
    assert.deepEqual(dpdkLeftovers(), []);
  });

  test(`dpdk --dpdk-pmd ${pmd} live: every frame sent is counted or dropped`, async (t) => {
    if (!built) return t.skip('libdpdk-dev is not installed');
    const { result, results } = await runJson([
      '--methods',
      'dpdk',
      '--dpdk-pmd',
      pmd,
      '--mode',
      'live',
      '--rate',
      '100000',
      '--duration',
      '1',
      '--tier',
      'both',
      '--trials',
      '1',
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assertExact(
      results.rows.filter((r) => r.method === 'dpdk'),
      `${pmd} live`,
    );
    assert.deepEqual(dpdkLeftovers(), []);
  });
}

test('dpdk af_xdp refuses a --count its PMD cannot hold unread, and cuts the default to it', async (t) => {
  if (!built) return t.skip('libdpdk-dev is not installed');
  await assertRefused(
    ['run', '--methods', 'dpdk', '--dpdk-pmd', 'af_xdp', '--count', '5000'],
    /--count 5000 does not fit in dpdk's kernel buffer: at most 2048 frames/,
  );
});

test('dpdk: bad PMD names and ports get one line and exit 2', async (t) => {
  await assertRefused(
    ['run', '--methods', 'dpdk', '--dpdk-pmd', 'ixgbe'],
    /--dpdk-pmd ixgbe: no such PMD here \(af_packet, af_xdp\)/,
  );
  await assertRefused(
    ['run', '--methods', 'dpdk', '--dpdk-port', 'eth0'],
    /--dpdk-port eth0: not a PCI address/,
  );
  if (!built) return t.skip('libdpdk-dev is not installed: the rest needs the method');
  await assertRefused(
    ['run', '--methods', 'dpdk', '--dpdk-port', '0000:00:00.0'],
    /--dpdk-port 0000:00:00\.0: a PCI port is for --iface runs/,
  );
});

test('two dpdk runs at once each get their own EAL and test bed, and leave nothing', async (t) => {
  if (!built) return t.skip('libdpdk-dev is not installed');
  const args = ['--methods', 'dpdk', '--tier', 'both', '--count', '2000', '--trials', '2'];
  const [a, b] = await Promise.all([runJson(args), runJson([...args, '--dpdk-pmd', 'af_xdp'])]);
  for (const { result, results } of [a, b]) {
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assertExact(
      results.rows.filter((r) => r.method === 'dpdk'),
      `pid ${result.pid}`,
    );
    assert.deepEqual(leftoversOf(result.pid), []);
  }
  assert.deepEqual(dpdkLeftovers(), []);
});

for (const pmd of ['af_packet', 'af_xdp'] as const) {
  test(`SIGINT during a dpdk ${pmd} live window: exit 130, port, program and EAL files gone`, async (t) => {
    if (!built) return t.skip('libdpdk-dev is not installed');
    const run = startCli([
      'run',
      '--methods',
      'dpdk',
      '--dpdk-pmd',
      pmd,
      '--mode',
      'live',
      '--duration',
      '5',
      '--trials',
      '2',
    ]);
    await sleep(2500);
    run.child.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted by SIGINT/);
    assert.deepEqual(leftoversOf(result.pid), []);
    assert.deepEqual(dpdkLeftovers(), []);
  });
}

test('an addon built without libdpdk-dev: dpdk is unavailable and says why, the rest runs', () => {
  // The same sources built where pkg-config finds no libdpdk: the stubs in dpdk_port.c.
  const dir = mkdtempSync(join(tmpdir(), 'capbench-nodpdk-'));
  try {
    for (const f of ['binding.gyp', 'package.json']) cpSync(join(REPO, f), join(dir, f));
    for (const d of ['src', 'node_modules', 'fixtures']) symlinkSync(join(REPO, d), join(dir, d));
    cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true });
    // package.json's install script: node-gyp as npm runs it (its own copy, the machine's nodedir).
    const empty = join(dir, 'no-pkgconfig');
    execFileSync('npm', ['run', 'install', '--silent'], {
      cwd: dir,
      env: { ...process.env, PKG_CONFIG_LIBDIR: empty, PKG_CONFIG_PATH: empty },
      stdio: 'ignore',
    });
    const list = spawnSync(process.execPath, [join(dir, 'bin/capbench.js'), 'list'], {
      encoding: 'utf8',
    });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /dpdk .*unavailable[^]*why: capbench was built without DPDK/);
    const run = spawnSync(
      process.execPath,
      [
        join(dir, 'bin/capbench.js'),
        'run',
        '--methods',
        'socket,dpdk',
        '--count',
        '2000',
        '--trials',
        '1',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /dpdk:af_packet\s+js\s+drain[^\n]*unavailable/);
    assert.match(run.stdout, /capbench was built without DPDK \(install libdpdk-dev/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
