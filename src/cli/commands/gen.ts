/** `capbench gen`: the generator alone. Prints what it sent and at what rate. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { ratePps } from '../../core/config.js';
import { SystemError, UsageError } from '../../shared/errors.js';
import { requireCapabilities } from '../../core/privileges.js';
import { DEFAULT_FIXTURE, fixturePath, loadFixture } from '../../net/fixture.js';
import { RunningGenerator } from '../../net/generator.js';
import { requireInterface } from '../../net/interface-stats.js';
import { cpuIndex, rate } from '../parse-options.js';
import { positiveInt, positiveNumber } from '../../shared/parse-number.js';
import type { CliContext } from '../context.js';
import { whole } from '../../report/format-number.js';

interface GenOptions {
  netns?: string;
  iface: string;
  fixture?: string;
  rate: string;
  count?: string;
  duration?: string;
  cpu: string;
}

const DEFAULT_DURATION_SEC = 5;
const { ENODEV } = constants.errno;

export function registerGen(program: Command, ctx: CliContext): void {
  program
    .command('gen')
    .description(
      'run the generator alone: replay a fixture out of an interface, print what was sent',
    )
    .requiredOption('--iface <name>', 'interface to send on (inside --netns when given)')
    .option(
      '--netns <name>',
      'network namespace the interface is in (e.g. one made by `capbench env up`)',
    )
    .option(
      '--fixture <file>',
      'pcap file of frames to replay round-robin, or a name in fixtures/',
      'udp64',
    )
    .option('--rate <pps|max>', 'packets per second, or max', 'max')
    .option('--count <n>', 'send exactly this many frames')
    .option(
      '--duration <seconds>',
      `send for this long (default ${DEFAULT_DURATION_SEC} s when --count is not given)`,
    )
    .option('--cpu <n>', 'CPU to pin the generator thread to, -1 for none', '-1')
    .action(async (opts: GenOptions) => {
      if (opts.count !== undefined && opts.duration !== undefined)
        throw new UsageError('give --count or --duration, not both');
      const count = opts.count === undefined ? 0 : positiveInt('--count', opts.count);
      const durationSec =
        opts.duration === undefined
          ? count
            ? 0
            : DEFAULT_DURATION_SEC
          : positiveNumber('--duration', opts.duration);
      const pps = rate(opts.rate);
      const cpu = cpuIndex('--cpu', opts.cpu);
      const fixture = await loadFixture(
        opts.fixture === undefined ? DEFAULT_FIXTURE : fixturePath(opts.fixture),
      );
      const netnsPath = opts.netns === undefined ? null : `/run/netns/${opts.netns}`;
      if (netnsPath !== null && !existsSync(netnsPath))
        throw new UsageError(`no network namespace named ${opts.netns}`);
      if (netnsPath === null) requireInterface(opts.iface);
      requireCapabilities(
        ['CAP_NET_RAW', ...(netnsPath ? (['CAP_SYS_ADMIN'] as const) : [])],
        'capbench gen',
      );

      let gen: RunningGenerator;
      try {
        gen = new RunningGenerator({
          netnsPath,
          ifname: opts.iface,
          fixture,
          count,
          durationMs: durationSec * 1000,
          ratePps: ratePps(pps),
          cpu,
        });
      } catch (err) {
        if (err instanceof SystemError && err.errno === ENODEV) {
          throw new UsageError(
            `no interface named ${opts.iface} in network namespace ${opts.netns ?? '(ours)'}`,
          );
        }
        throw err;
      }
      const report = (status: { sent: number; elapsedNs: number }): void => {
        const sec = status.elapsedNs / 1e9;
        process.stdout.write(
          `sent ${whole(status.sent)} frames of ${fixture.name} on ${opts.iface} in ${sec.toFixed(3)} s: ${whole(sec > 0 ? status.sent / sec : 0)} pps\n`,
        );
      };
      const status = await gen.wait(ctx.signal).catch((err: unknown) => {
        report(gen.status()); // an interrupted run still says what it sent
        throw err;
      });
      report(status);
    });
}
