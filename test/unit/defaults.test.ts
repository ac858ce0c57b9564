import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { RUN_DEFAULTS, SWEEP_DEFAULTS, type MeasureDefaults } from '../../src/core/config.js';
import { runConfig } from '../../src/cli/parse-options.js';
import { addMeasureOptions } from '../../src/cli/shared-options.js';
import { fixturePath } from '../../src/net/fixture.js';

/** What commander hands the action for a command line, with the shared options registered. */
function parsed(argv: string[], d: MeasureDefaults): Record<string, string | undefined> {
  const cmd = addMeasureOptions(new Command('x').exitOverride(), d);
  cmd.parse(argv, { from: 'user' });
  return cmd.opts();
}

test('an option not given comes from the defaults table, not from commander', () => {
  const c = runConfig(parsed([], RUN_DEFAULTS));
  assert.deepEqual(
    [c.mode, c.count, c.durationSec, c.rate, c.trials, c.tiers, c.noisyRme, c.fixturePath],
    [
      RUN_DEFAULTS.mode,
      RUN_DEFAULTS.count,
      RUN_DEFAULTS.durationSec,
      RUN_DEFAULTS.rate,
      RUN_DEFAULTS.trials,
      RUN_DEFAULTS.tiers,
      RUN_DEFAULTS.noisyRme,
      fixturePath(RUN_DEFAULTS.fixture),
    ],
  );
});

test('a changed default table changes what a run does and what --help says', () => {
  const d: MeasureDefaults = { ...RUN_DEFAULTS, count: 4321, trials: 7 };
  const c = runConfig(parsed([], d), d);
  assert.deepEqual([c.count, c.trials], [4321, 7]);
  const help = addMeasureOptions(new Command('x'), d).helpInformation();
  assert.match(help, /drain: frames per trial \(default:\s+4321\)/);
  assert.match(help, /\(default: 7\)/);
});

test('sweep has its own shorter windows and fewer trials, from its own table', () => {
  const c = runConfig(parsed([], SWEEP_DEFAULTS), SWEEP_DEFAULTS);
  assert.deepEqual([c.durationSec, c.trials], [SWEEP_DEFAULTS.durationSec, SWEEP_DEFAULTS.trials]);
  assert.notDeepEqual([c.durationSec, c.trials], [RUN_DEFAULTS.durationSec, RUN_DEFAULTS.trials]);
});
