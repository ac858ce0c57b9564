/**
 * The HTML report in a real browser: headless Chromium loads the page, the page's own inline
 * script measures every chart mark with getBBox(), and --dump-dom shows the count it wrote on
 * <html data-marks-drawn="drawn/total">. Fails (does not skip) without Chromium: CI installs it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { MethodName } from '../../src/core/config.js';
import type { Results, Row } from '../../src/core/results.js';
import { renderHtml } from '../../src/report/html.js';
import { sampleResults } from '../unit/sample-results.js';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function findChromium(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of CANDIDATES)
      if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  assert.fail(
    `no Chromium on PATH (looked for ${CANDIDATES.join(', ')}): install it with \`apt-get install -y chromium\``,
  );
}

/** Loads `file` in a fresh headless profile and returns the DOM after the page's scripts ran. */
function dumpDom(chromium: string, file: string, profile: string): Promise<string> {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    // Belt and braces for "self-contained": any host name the page tried to reach would not resolve.
    '--host-resolver-rules=MAP * ~NOTFOUND',
    '--dump-dom',
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(chromium, args, { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The sample plus a frame-size sweep and a rate sweep, so line charts are drawn as well. */
function withSweeps(): Results {
  const r = sampleResults();
  const row = r.rows[0]!;
  const sweep: Row[] = [];
  for (const method of ['socket', 'packet-mmap'] as MethodName[]) {
    for (const frameBytes of [64, 512, 1518]) {
      for (const offeredPps of [200_000, 800_000, null]) {
        const pps = Math.min(
          offeredPps ?? Infinity,
          (method === 'socket' ? 700_000 : 1_500_000) * (64 / frameBytes) ** 0.25,
        );
        sweep.push({
          ...row,
          method,
          pps,
          ppsSamples: [pps * 0.97, pps, pps * 1.03],
          ppsRme: 7.4,
          point: { frameBytes, offeredPps },
        });
      }
    }
  }
  return { ...r, rows: [...r.rows, ...sweep] };
}

for (const [name, results] of [
  ['sample results', sampleResults()],
  ['sample results with sweeps', withSweeps()],
] as const) {
  test(`report in Chromium: every chart mark of the ${name} is drawn with a non-empty box`, async () => {
    const chromium = findChromium();
    const dir = mkdtempSync(join(tmpdir(), 'capbench-report-'));
    try {
      const html = renderHtml(results);
      const file = join(dir, 'report.html');
      writeFileSync(file, html);
      const dom = await dumpDom(chromium, file, join(dir, 'profile'));

      const marks = (html.match(/class="(bar|point) mark"/g) ?? []).length;
      assert.ok(marks > 0, 'the page has chart marks to draw');
      const drawn = /<html[^>]* data-marks-drawn="(\d+)\/(\d+)"/.exec(dom);
      assert.ok(
        drawn,
        `the page's self-check did not run; dumped DOM starts: ${dom.slice(0, 300)}`,
      );
      assert.equal(Number(drawn[2]), marks, 'the browser found every mark the page has');
      assert.equal(Number(drawn[1]), marks, 'every mark has a non-empty layout box');
      assert.equal(
        (dom.match(/<svg class="chart"/g) ?? []).length,
        (html.match(/<svg class="chart"/g) ?? []).length,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
