/** `capbench list`: every known method, capture and send, whether it can run here, and why not. */
import type { Command } from 'commander';
import { BASELINE, BASELINE_SUMMARY } from '../../core/config.js';
import { METHODS } from '../../methods/registry.js';
import { SEND_METHODS } from '../../senders/registry.js';

export function registerList(program: Command): void {
  program
    .command('list')
    .description(
      'list the capture methods (run) and send methods (send), whether each can run on this machine, and why not',
    )
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
      const sends = [...SEND_METHODS.values()].map((m) => {
        const a = m.probe();
        return {
          name: m.name,
          tiers: m.tiers.join(','),
          status: a.available ? 'available' : 'unavailable',
          summary: m.summary,
          why: a.available ? null : a.reason,
        };
      });
      const all = [...rows, ...sends];
      const nameW = Math.max(...all.map((r) => r.name.length));
      const tierW = Math.max(...all.map((r) => r.tiers.length));
      for (const r of all) {
        if (r === sends[0]) process.stdout.write('\nsend methods (capbench send):\n');
        process.stdout.write(
          `${r.name.padEnd(nameW)}  ${r.tiers.padEnd(tierW)}  ${r.status.padEnd(11)}  ${r.summary}\n`,
        );
        if (r.why) process.stdout.write(`${' '.repeat(nameW + tierW + 17)}why: ${r.why}\n`);
      }
    });
}
