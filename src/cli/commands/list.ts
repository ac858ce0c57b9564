/** `capbench list`: every known method, whether it can run here, and why not. */
import type { Command } from 'commander';
import { BASELINE, BASELINE_SUMMARY } from '../../core/config.js';
import { METHODS } from '../../methods/registry.js';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list the capture methods, whether each can run on this machine, and why not')
    .action(() => {
      const rows = [
        { name: BASELINE, tiers: 'js', status: 'available', summary: BASELINE_SUMMARY, why: null },
        ...[...METHODS.values()].map((m) => {
          const a = m.probe(null);
          return {
            name: m.name,
            tiers: m.tiers.join(','),
            status: a.available ? 'available' : 'unavailable',
            summary: m.summary,
            why: a.available ? null : a.reason,
          };
        }),
      ];
      const nameW = Math.max(...rows.map((r) => r.name.length));
      const tierW = Math.max(...rows.map((r) => r.tiers.length));
      for (const r of rows) {
        process.stdout.write(
          `${r.name.padEnd(nameW)}  ${r.tiers.padEnd(tierW)}  ${r.status.padEnd(11)}  ${r.summary}\n`,
        );
        if (r.why) process.stdout.write(`${' '.repeat(nameW + tierW + 17)}why: ${r.why}\n`);
      }
    });
}
