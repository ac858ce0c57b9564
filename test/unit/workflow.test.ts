import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// This file runs as dist/test/unit/workflow.test.js; the repository is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKFLOWS = join(ROOT, '.github/workflows');

/** A shell script's text without its comments (whole-line ones and ` # ...` after a command). */
function withoutComments(script: string): string {
  return script
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .map((line) => line.replace(/\s#\s.*$/, ''))
    .join('\n');
}

/** What a script runs that CI must not lose: `npm ci`, `npm test`, `npm run X`, `bash path.sh`. */
function commands(script: string): string[] {
  const text = withoutComments(script);
  const npm = [...text.matchAll(/\bnpm\s+(ci|test|run\s+[\w:.-]+)/g)].map(
    (m) => `npm ${m[1]!.replace(/\s+/, ' ')}`,
  );
  const bash = [...text.matchAll(/\bbash\s+((?:test|scripts)\/[\w./-]+\.sh)/g)].map(
    (m) => `bash ${m[1]!}`,
  );
  return [...npm, ...bash];
}

/** The groups each `scripts/ci-packages.sh` call in a script asks for. */
function packageGroups(script: string): string[] {
  return [...withoutComments(script).matchAll(/scripts\/ci-packages\.sh((?:\s+[\w-]+)+)/g)].flatMap(
    (m) =>
      m[1]!
        .trim()
        .split(/\s+/)
        .filter((w) => !w.startsWith('-')),
  );
}

interface Step {
  run?: unknown;
  uses?: unknown;
}
interface Workflow {
  jobs?: Record<string, { steps?: Step[] }>;
}

/** Every workflow file: its name and the `run:` scripts of each job, in order. */
function workflows(): { file: string; jobs: Map<string, string[]> }[] {
  const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
  return files.map((file) => {
    let doc: Workflow;
    try {
      doc = parse(readFileSync(join(WORKFLOWS, file), 'utf8')) as Workflow;
    } catch (err) {
      throw new Error(`.github/workflows/${file} is not valid YAML: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const jobs = new Map<string, string[]>();
    for (const [name, job] of Object.entries(doc.jobs ?? {})) {
      jobs.set(
        name,
        (job.steps ?? []).flatMap((s) => (typeof s.run === 'string' ? [s.run] : [])),
      );
    }
    return { file, jobs };
  });
}

const ciRun = readFileSync(join(ROOT, '.ci/run'), 'utf8');
const scripts = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;
/** Every `run:` script of every job of every workflow. */
const allRuns = (): string[] => workflows().flatMap((w) => [...w.jobs.values()].flat());

test('.ci/run: the commands are found (the comparisons below are not vacuous)', () => {
  const found = commands(ciRun);
  for (const c of [
    'npm ci',
    'npm run lint',
    'npm test',
    'npm run test:vm',
    'bash test/package/check-package.sh',
  ]) {
    assert.ok(found.includes(c), `${c} not found in .ci/run: ${found.join(', ')}`);
  }
});

test('the workflow runs every npm command and test script .ci/run runs', () => {
  const runs = allRuns();
  assert.ok(runs.length > 0, 'no run: steps in .github/workflows');
  const inWorkflow = new Set(runs.flatMap(commands));
  const missing = commands(ciRun).filter((c) => !inWorkflow.has(c));
  assert.deepEqual(missing, [], `.ci/run runs these, .github/workflows does not`);
});

test('every npm script .ci/run and the workflow name exists in package.json', () => {
  const named = [ciRun, ...allRuns()]
    .flatMap(commands)
    .filter((c) => c.startsWith('npm run ') || c === 'npm test')
    .map((c) => (c === 'npm test' ? 'test' : c.slice('npm run '.length)));
  assert.ok(named.includes('bench:ci'), 'the perf job runs npm run bench:ci');
  assert.deepEqual([...new Set(named.filter((s) => !(s in scripts)))], []);
});

test('the packages come from scripts/ci-packages.sh, and CI installs the same groups on both sides', () => {
  const runs = allRuns();
  for (const run of [ciRun, ...runs].filter((r) => /apt-get\s+install/.test(r))) {
    assert.match(
      run,
      /scripts\/ci-packages\.sh/,
      `an apt-get install with its own list of packages:\n${run}`,
    );
  }
  const groups = (texts: string[]) => [...new Set(texts.flatMap(packageGroups))].sort();
  assert.deepEqual(groups(runs), groups([ciRun]));
  assert.deepEqual(groups([ciRun]), ['build', 'test', 'vm']);
});

test('the perf job the README points at: bench:ci as an A/B of the base commit and this one, in one job', () => {
  const perf = workflows()
    .find((w) => w.jobs.has('perf'))
    ?.jobs.get('perf');
  assert.ok(perf, 'no job named perf in .github/workflows');
  const script = perf.join('\n');
  assert.match(script, /npm run bench:ci -- perf --base perf-base-checkout/);
  assert.doesNotMatch(
    script,
    /perf-base\/results\.json/,
    'no comparison with results kept from another run',
  );
});

test('the command finder reads sudo, env and arguments, and skips comments', () => {
  const script = [
    '# npm run not-this',
    'sudo env "PATH=$PATH" npm test',
    'npm run bench:ci -- perf # npm run nor-this',
    'npm install -g npm@11',
    'bash test/package/check-package.sh',
  ].join('\n');
  assert.deepEqual(commands(script), [
    'npm test',
    'npm run bench:ci',
    'bash test/package/check-package.sh',
  ]);
  assert.deepEqual(packageGroups('p=$(bash scripts/ci-packages.sh --ubuntu build test)'), [
    'build',
    'test',
  ]);
});

test("the README's main command runs in .ci/run and, as root, in the workflow's test job, read from the README", () => {
  assert.match(
    withoutComments(ciRun),
    /main=\$\(bash scripts\/readme-command\.sh main\)\n(?:.*\n)*bash -c "\$main"/,
  );
  const testJob = workflows()
    .find((w) => w.jobs.has('test'))
    ?.jobs.get('test');
  assert.ok(testJob, 'no job named test in .github/workflows');
  assert.ok(
    testJob.some(
      (run) =>
        run.trim() === 'sudo env "PATH=$PATH" bash -c "$(bash scripts/readme-command.sh main)"',
    ),
    `the test job does not run the README's main command under sudo:\n${testJob.join('\n')}`,
  );
});
