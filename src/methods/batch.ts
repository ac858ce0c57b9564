/**
 * --batch, the one option several methods read: frames per call, the same in both tiers, so the
 * tiers differ only in who counts. recvmmsg() takes at most UIO_MAXIOV (1024) messages a call.
 */
import type { MethodOption } from '../core/method-options.js';
import { UsageError } from '../shared/errors.js';
import { positiveInt } from '../shared/parse-number.js';

const MAX_BATCH = 1024;

export const BATCH: MethodOption<number> = {
  name: 'batch',
  arg: '<n>',
  help: "socket-mmsg, pcap-native, af-xdp, fastnet-ring: frames per call (recvmmsg(), pcap_dispatch(), an af-xdp rx peek, a js step over fastnet's slots), both tiers",
  default: 64,
  parse(value) {
    const n = positiveInt('--batch', value);
    if (n > MAX_BATCH)
      throw new UsageError(
        `--batch must be at most ${MAX_BATCH} (the kernel's limit per recvmmsg call), got '${value}'`,
      );
    return n;
  },
};
