/** `capbench send`'s command-line strings to a SendConfig: one line and exit 2 for anything wrong. */
import os from 'node:os';
import { defaultCpus } from '../core/config.js';
import {
  SEND_DEFAULTS,
  SEND_METHOD_NAMES,
  type SendConfig,
  type SendMethodName,
} from '../core/send-config.js';
import { fixturePath } from '../net/fixture.js';
import { UsageError } from '../shared/errors.js';
import { positiveInt } from '../shared/parse-number.js';
import { cpuIndex, tiers } from './parse-options.js';

export interface RawSendOptions {
  methods?: string;
  tier?: string;
  count?: string;
  payload?: string;
  gsoSize?: string;
  batch?: string;
  qdiscBypass?: boolean;
  fixture?: string;
  trials?: string;
  senderCpu?: string;
  sinkCpu?: string;
  iface?: string;
  genIface?: string;
}

/** The largest batch: sendmmsg() takes at most UIO_MAXIOV (1024) messages. */
const MAX_BATCH = 1024;
/** A UDP_SEGMENT segment must fit in one frame of the test bed's 1,500-byte MTU. */
const MAX_GSO_SIZE = 1472;

export function sendMethods(value: string): SendMethodName[] {
  if (value === 'all') return [...SEND_METHOD_NAMES];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    throw new UsageError(`--methods needs at least one of: ${SEND_METHOD_NAMES.join(', ')}`);
  for (const name of names) {
    if (!(SEND_METHOD_NAMES as readonly string[]).includes(name))
      throw new UsageError(
        `unknown send method '${name}': choose from ${SEND_METHOD_NAMES.join(', ')} (or all)`,
      );
  }
  return [...new Set(names)] as SendMethodName[];
}

function boundedInt(flag: string, value: string, max: number): number {
  const n = positiveInt(flag, value);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}, got '${value}'`);
  return n;
}

/** "1472" or a sweep, "64,1472,16384,65507": distinct, in the order given. */
export function payloadList(value: string): number[] {
  const list = value.split(',').map((p) => positiveInt('--payload', p.trim()));
  return [...new Set(list)];
}

/**
 * Two-port mode's ports: both or neither. `send` has no traffic from elsewhere to measure, so
 * --iface alone is as wrong as --gen-iface alone. The ports themselves are checked by the runner
 * (core/two-port.ts), which reads them.
 */
export function sendPorts(raw: Pick<RawSendOptions, 'iface' | 'genIface'>): {
  iface: string | null;
  genIface: string | null;
} {
  if (raw.genIface !== undefined && raw.iface === undefined)
    throw new UsageError(
      '--gen-iface GEN needs --iface CAP: the port its frames arrive on, where the sink reads',
    );
  if (raw.iface !== undefined && raw.genIface === undefined)
    throw new UsageError(
      '--iface CAP needs --gen-iface GEN: send measures only what capbench sends, from GEN to CAP (two-port mode)',
    );
  return { iface: raw.iface ?? null, genIface: raw.genIface ?? null };
}

export function sendConfig(raw: RawSendOptions): SendConfig {
  const cpus = defaultCpus(os.cpus().length);
  const senderCpu =
    raw.senderCpu !== undefined ? cpuIndex('--sender-cpu', raw.senderCpu) : cpus.generatorCpu;
  const sinkCpu = raw.sinkCpu !== undefined ? cpuIndex('--sink-cpu', raw.sinkCpu) : cpus.captureCpu;
  return {
    methods: raw.methods !== undefined ? sendMethods(raw.methods) : [...SEND_METHOD_NAMES],
    methodsGiven: raw.methods !== undefined && raw.methods !== 'all',
    tiers: raw.tier !== undefined ? tiers(raw.tier) : [...SEND_DEFAULTS.tiers],
    count: raw.count !== undefined ? positiveInt('--count', raw.count) : SEND_DEFAULTS.count,
    countGiven: raw.count !== undefined,
    // Each method's own limit is checked by the runner, which knows the method.
    payloads: raw.payload !== undefined ? payloadList(raw.payload) : null,
    gsoSize:
      raw.gsoSize !== undefined
        ? boundedInt('--gso-size', raw.gsoSize, MAX_GSO_SIZE)
        : SEND_DEFAULTS.gsoSize,
    batch:
      raw.batch !== undefined ? boundedInt('--batch', raw.batch, MAX_BATCH) : SEND_DEFAULTS.batch,
    qdiscBypass: raw.qdiscBypass ?? SEND_DEFAULTS.qdiscBypass,
    fixturePath: fixturePath(raw.fixture ?? SEND_DEFAULTS.fixture),
    trials: raw.trials !== undefined ? positiveInt('--trials', raw.trials) : SEND_DEFAULTS.trials,
    senderCpu,
    sinkCpu,
    ...sendPorts(raw),
  };
}
