/**
 * From command-line strings to typed values. Every function throws a UsageError whose message is
 * one line saying what was wrong and what is allowed.
 */
import os from 'node:os';
import {
  defaultCpus,
  FANOUT_MODES,
  METHOD_NAMES,
  RUN_DEFAULTS,
  type FanoutMode,
  type MeasureDefaults,
  type MethodName,
  type Mode,
  type RunConfig,
  type Tier,
} from '../core/config.js';
import {
  optionKey,
  type MethodOption,
  type MethodOptionValues,
  type OptionValue,
} from '../core/method-options.js';
import { METHOD_OPTIONS } from '../methods/registry.js';
import { UsageError } from '../shared/errors.js';
import { positiveInt, positiveNumber } from '../shared/parse-number.js';
import { fixturePath } from '../net/fixture.js';
import { parseCpuList } from '../net/nic-queues.js';

export function cpuIndex(flag: string, value: string): number {
  const n = Number(value);
  const cpus = os.cpus().length;
  if (!/^-?\d+$/.test(value.trim()) || n < -1 || n >= cpus) {
    throw new UsageError(
      `${flag} must be a CPU number from 0 to ${cpus - 1}, or -1 to leave it unpinned, got '${value}'`,
    );
  }
  return n;
}

/** A CPU list as taskset and /sys write them: "1,3", "0-3", "0-1,4". */
export function cpuList(flag: string, value: string): number[] {
  const cpus = os.cpus().length;
  const list = parseCpuList(value);
  if (list === null || list.length === 0 || list.some((c) => c >= cpus)) {
    throw new UsageError(
      `${flag} must be a list of CPUs from 0 to ${cpus - 1} such as 1,3 or 0-3, got '${value}'`,
    );
  }
  return list;
}

export function fanout(value: string): FanoutMode {
  if (!(FANOUT_MODES as readonly string[]).includes(value))
    throw new UsageError(`--fanout must be one of ${FANOUT_MODES.join(', ')}, got '${value}'`);
  return value as FanoutMode;
}

/** Reader threads: a socket each; more than 64 would only measure the scheduler. */
export function threads(flag: string, value: string): number {
  const n = positiveInt(flag, value);
  if (n > 64) throw new UsageError(`${flag} must be at most 64, got '${value}'`);
  return n;
}

export function rate(value: string): number | 'max' {
  return value === 'max' ? 'max' : positiveInt('--rate', value);
}

export function methods(value: string): MethodName[] {
  if (value === 'all') return [...METHOD_NAMES];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    throw new UsageError(`--methods needs at least one of: ${METHOD_NAMES.join(', ')}`);
  for (const name of names) {
    if (!(METHOD_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(
        `unknown method '${name}': choose from ${METHOD_NAMES.join(', ')} (or all)`,
      );
    }
  }
  return [...new Set(names)] as MethodName[];
}

export function mode(value: string): Mode {
  if (value !== 'drain' && value !== 'live')
    throw new UsageError(`--mode must be drain or live, got '${value}'`);
  return value;
}

export function onOff(flag: string, value: string): boolean {
  if (value !== 'on' && value !== 'off')
    throw new UsageError(`${flag} must be on or off, got '${value}'`);
  return value === 'on';
}

export function tiers(value: string): Tier[] {
  if (value === 'both') return ['js', 'native'];
  if (value === 'js' || value === 'native') return [value];
  throw new UsageError(`--tier must be js, native or both, got '${value}'`);
}

/** Options as commander hands them over: strings, booleans and absences. */
export interface RawRunOptions {
  methods?: string;
  mode?: string;
  count?: string;
  duration?: string;
  rate?: string;
  fixture?: string;
  trials?: string;
  tier?: string;
  iface?: string;
  genIface?: string;
  genCpu?: string;
  capCpu?: string;
  capCpus?: string;
  threads?: string;
  fanout?: string;
  genThreads?: string;
  noisyRme?: string;
  deliver?: string;
  precision?: string;
  maxTime?: string;
  /** The methods' own options (METHOD_OPTIONS), under commander's keys: strings, or true for a switch. */
  [methodOption: string]: string | boolean | undefined;
}

/**
 * The methods' own options as commander hands them over (its key for `--ring-mb` is `ringMb`),
 * parsed by their declarations, each not given at its default: the results then say what ran.
 */
export function methodOptionValues(
  raw: RawRunOptions,
  options: readonly MethodOption[] = METHOD_OPTIONS,
): MethodOptionValues {
  const values: Record<string, OptionValue> = {};
  for (const o of options) {
    const given = raw[optionKey(o)];
    values[o.name] =
      given === undefined
        ? o.default
        : o.parse === undefined
          ? given === true
          : o.parse(String(given));
  }
  return values;
}

/** Options as given, over `defaults` (core/config.ts) for what was not. */
/**
 * How many rounds: --trials N is exactly N; otherwise the command's precision rule (run: until
 * every row is known to --precision at reference speed, within --max-time), if it has one.
 */
function rounds(
  raw: RawRunOptions,
  d: MeasureDefaults,
): Pick<RunConfig, 'precision' | 'maxTimeSec'> {
  if (raw.trials !== undefined) {
    if (raw.precision !== undefined || raw.maxTime !== undefined) {
      throw new UsageError(
        '--trials N runs exactly N rounds: leave out --precision and --max-time, or --trials',
      );
    }
    return { precision: null, maxTimeSec: null };
  }
  const precision =
    raw.precision === undefined ? d.precision : positiveNumber('--precision', raw.precision);
  const maxTimeSec =
    raw.maxTime === undefined ? d.maxTimeSec : positiveNumber('--max-time', raw.maxTime);
  return precision === null ? { precision: null, maxTimeSec: null } : { precision, maxTimeSec };
}

export function runConfig(raw: RawRunOptions, d: MeasureDefaults = RUN_DEFAULTS): RunConfig {
  const cpus = defaultCpus(os.cpus().length);
  const generatorCpu =
    raw.genCpu === undefined ? cpus.generatorCpu : cpuIndex('--gen-cpu', raw.genCpu);
  const generatorThreads =
    raw.genThreads === undefined ? d.generatorThreads : threads('--gen-threads', raw.genThreads);
  const captureCpus = raw.capCpus === undefined ? null : cpuList('--cap-cpus', raw.capCpus);
  // One reader runs on the calling thread: --cap-cpu, or the first of --cap-cpus.
  const captureCpu =
    raw.capCpu !== undefined
      ? cpuIndex('--cap-cpu', raw.capCpu)
      : captureCpus !== null
        ? captureCpus[0]!
        : cpus.captureCpu;
  return {
    methods: raw.methods === undefined ? [...METHOD_NAMES] : methods(raw.methods),
    // Traffic from elsewhere cannot be held back: live by default. With --gen-iface it is ours again.
    mode:
      raw.mode === undefined
        ? raw.iface !== undefined && raw.genIface === undefined
          ? 'live'
          : d.mode
        : mode(raw.mode),
    count: raw.count === undefined ? d.count : positiveInt('--count', raw.count),
    countGiven: raw.count !== undefined,
    durationSec:
      raw.duration === undefined ? d.durationSec : positiveNumber('--duration', raw.duration),
    rate: raw.rate === undefined ? d.rate : rate(raw.rate),
    fixturePath: fixturePath(raw.fixture ?? d.fixture),
    trials: raw.trials === undefined ? d.trials : positiveInt('--trials', raw.trials),
    ...rounds(raw, d),
    tiers: raw.tier === undefined ? [...d.tiers] : tiers(raw.tier),
    iface: raw.iface ?? null,
    genIface: raw.genIface ?? null,
    generatorCpu,
    captureCpu,
    threads: raw.threads === undefined ? d.threads : threads('--threads', raw.threads),
    fanout: raw.fanout === undefined ? d.fanout : fanout(raw.fanout),
    captureCpus,
    generatorThreads,
    methodOptions: methodOptionValues(raw),
    noisyRme: raw.noisyRme === undefined ? d.noisyRme : positiveNumber('--noisy-rme', raw.noisyRme),
    deliver: raw.deliver === undefined ? d.deliver : onOff('--deliver', raw.deliver),
  };
}
