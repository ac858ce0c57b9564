/**
 * The CI perf suite: one fixed, short capbench run whose results a CI job keeps and compares with
 * the last accepted ones (`capbench compare BASE NEW`, exit 1 on a regression). It must finish in
 * well under a minute on a 2-core machine, so it drains rather than waits on live windows, and it
 * measures each method as several short trials so that the comparison has samples to judge noise.
 *
 *   node dist/bench/ci-perf.js [OUT_DIR]     writes OUT_DIR/results.json, gha.json, gha.cycles.json
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/capbench.js', import.meta.url));
const METHODS = 'socket-mmsg,pcap-native,packet-mmap,af-xdp';
const BUDGET_SEC = 60;

const out = process.argv[2] ?? 'perf';
mkdirSync(out, { recursive: true });
const started = performance.now();
const run = spawnSync(
  process.execPath,
  [
    BIN,
    'run',
    '--methods',
    METHODS,
    '--tier',
    'both',
    '--mode',
    'drain',
    '--count',
    '100000',
    '--fixture',
    'udp64',
    '--trials',
    '5',
    '--json',
    join(out, 'results.json'),
    '--format',
    'gha',
    '--out',
    join(out, 'gha.json'),
    '--no-color',
  ],
  { stdio: 'inherit' },
);
const sec = (performance.now() - started) / 1000;
process.stdout.write(
  `ci perf suite: ${sec.toFixed(1)} s (budget ${BUDGET_SEC} s); results in ${out}/\n`,
);
if (sec > BUDGET_SEC) process.stdout.write(`warning: over the ${BUDGET_SEC} s budget\n`);
process.exitCode = run.status ?? 1;
