/** `capbench env up|down|status`: the test bed alone, for people who point their own tools at it. */
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { requireCapabilities } from '../../core/privileges.js';
import {
  createTestbed,
  destroyTestbed,
  isStale,
  listTestbeds,
  type Testbed,
} from '../../net/testbed.js';
import { sweepStaleXdp } from '../../net/xdp-leftovers.js';

function describe(tb: Testbed): string {
  const owner =
    tb.owner === 0
      ? 'persistent (env up)'
      : isStale(tb)
        ? `stale (process ${tb.owner} is gone)`
        : `in use by process ${tb.owner}`;
  return [
    `${tb.netns}: ${owner}`,
    `  capture interface ${tb.captureIf} (${tb.captureAddr}/30), here`,
    `  sender interface  ${tb.senderIf} (${tb.senderAddr}/30), in network namespace ${tb.netns}`,
    `  twin pair         ${tb.twinCaptureIf} / ${tb.twinSenderIf}: the uncaptured reference for the kernel's delivery cost`,
  ].join('\n');
}

export function registerEnv(program: Command): void {
  program
    .command('env')
    .description('create, remove or show the test bed on its own')
    .argument(
      '<action>',
      'up: create a test bed that stays; down: remove every test bed not in use by a running capbench; status: show them',
    )
    .addHelpText(
      'after',
      `
After \`capbench env up\`, send from the namespace and capture on the capture interface, e.g.
  ip netns exec <netns> trafgen --dev <sender> --conf packet.cfg
  tcpdump -ni <capture>`,
    )
    .action(async (action: string) => {
      if (action === 'status') {
        const beds = listTestbeds();
        process.stdout.write(
          beds.length === 0 ? 'no capbench test beds\n' : beds.map(describe).join('\n') + '\n',
        );
        return;
      }
      if (action !== 'up' && action !== 'down')
        throw new UsageError(`env takes up, down or status, not '${action}'`);
      requireCapabilities(['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'], `capbench env ${action}`);
      if (action === 'up') {
        const tb = await createTestbed({ persistent: true });
        process.stdout.write(describe(tb) + '\nremove it with: capbench env down\n');
        return;
      }
      const gone = listTestbeds().filter((tb) => tb.owner === 0 || isStale(tb));
      for (const tb of gone) await destroyTestbed(tb);
      const xdp = await sweepStaleXdp();
      const lines = [...gone.map((tb) => `removed ${tb.netns}`), ...xdp];
      process.stdout.write(
        lines.length === 0 ? 'nothing to remove\n' : lines.map((l) => `${l}\n`).join(''),
      );
    });
}
