/**
 * The README shows what capbench does: its method table lists every method `capbench list` knows,
 * and its quick start is what CI runs (scripts/readme-command.sh reads it for .ci/run and the
 * workflow), with the packages scripts/ci-packages.sh lists.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { METHOD_NAMES } from '../../src/core/config.js';
import { SEND_METHOD_NAMES } from '../../src/core/send-config.js';

// This file runs as dist/test/unit/readme.test.js; the repository is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

const script = (...args: string[]): string =>
  execFileSync('bash', args, { cwd: ROOT, encoding: 'utf8' }).trim();
const readmeCommand = (which: string): string => script('scripts/readme-command.sh', which);

/** The README's table headed `| head |`: its rows' first cells, the method names in backquotes. */
function methodTable(head = 'method'): string[] {
  const lines = README.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${head} |`));
  assert.ok(start >= 0, `README.md has no method table (| ${head} | ...)`);
  const rows = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(/^\| `([\w-]+)` \|/.exec(line)?.[1] ?? line);
  }
  return rows;
}

test('the README method table lists every method --methods takes (capbench list shows the same), in their order', () => {
  assert.deepEqual(methodTable(), [...METHOD_NAMES]);
});

test('the README send method table lists every method `capbench send --methods` takes, in their order', () => {
  assert.deepEqual(methodTable('send method'), [...SEND_METHOD_NAMES]);
});

test('the quick start installs the build packages, then runs the main job, which is capbench run with no options', () => {
  const build = script('scripts/ci-packages.sh', 'build').split(' ');
  const main = readmeCommand('main');
  assert.equal(main, './bin/capbench.js run');
  const install = readmeCommand('install');
  const m = /^apt-get update && apt-get install -y ([\w+. -]+) && npm ci && (.+)$/.exec(install);
  assert.ok(
    m,
    `the quick start's first line is not "apt-get update && apt-get install -y PACKAGES && npm ci && COMMAND": ${install}`,
  );
  assert.deepEqual(m[1]!.split(' ').sort(), [...build].sort());
  assert.equal(m[2], main);
});

test('the README test command is npm test', () => {
  assert.equal(readmeCommand('test'), 'npm test');
});

test('readme-command.sh refuses what it does not know, with its usage', () => {
  assert.throws(
    () =>
      execFileSync('bash', ['scripts/readme-command.sh', 'nothing'], { cwd: ROOT, stdio: 'pipe' }),
    (err: { status: number; stderr: Buffer }) => {
      assert.equal(err.status, 2);
      assert.match(
        err.stderr.toString(),
        /usage: bash scripts\/readme-command.sh install\|main\|test/,
      );
      return true;
    },
  );
});
