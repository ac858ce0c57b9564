/**
 * The composition root: builds the command line, wires SIGINT/SIGTERM to an AbortSignal that the
 * runner checks, and maps whatever comes out to one line on stderr and an exit code.
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { exitCodeFor, UsageError } from '../shared/errors.js';
import { destroyAllSync } from '../net/testbed.js';
import { registerCompare } from './commands/compare.js';
import { registerEnv } from './commands/env.js';
import { registerGen } from './commands/gen.js';
import { registerList } from './commands/list.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSend } from './commands/send.js';
import { registerSweep } from './commands/sweep.js';
import type { CliContext } from './context.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

function context(): CliContext {
  const controller = new AbortController();
  const onSignal = (sig: 'SIGINT' | 'SIGTERM'): void => {
    // The first signal asks everything to stop and clean up; later ones are ignored so that the
    // cleanup itself is not cut short.
    if (!controller.signal.aborted) controller.abort(sig);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // Last resort for paths that skip the finally blocks (process.exit elsewhere): synchronous.
  process.on('exit', destroyAllSync);
  let shown = false;
  return {
    signal: controller.signal,
    progress(text) {
      if (!process.stderr.isTTY) return;
      if (text === '' && !shown) return;
      process.stderr.write(`\r\x1b[2K${text}`);
      shown = text !== '';
    },
  };
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('capbench')
    .version(version)
    .description(
      'How does Linux deliver packets to a program, and what does each way cost? capbench replays ' +
        'traffic through a private veth test bed and measures every capture method with the same ' +
        'per-packet counter: packets per second, drops, CPU cycles per packet, exact IPv4 counts. ' +
        'Needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN).',
    )
    // One line, like every other error capbench prints.
    .configureOutput({
      outputError: (text, write) =>
        write(`capbench: ${text.replace(/^error: /, '').trimEnd()} (see capbench --help)\n`),
    })
    .exitOverride();
  registerRun(program, ctx);
  registerSweep(program, ctx);
  registerSend(program, ctx);
  registerList(program);
  registerEnv(program);
  registerGen(program, ctx);
  registerCompare(program);
  registerReport(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // `capbench list | head` closes stdout early; that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const ctx = context();
  try {
    await buildProgram(ctx).parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed help, a version or its own one-line error.
      return err.exitCode === 0 ? 0 : exitCodeFor(new UsageError(err.message));
    }
    process.stderr.write(`capbench: ${err instanceof Error ? err.message : String(err)}\n`);
    return exitCodeFor(err);
  }
}
