/** What a run is asked to do. The CLI builds one of these; the runner takes nothing else. */
import type { MethodOptionValues } from './method-options.js';

/**
 * Every name --methods takes, in the order rows are run and shown: the `none` baseline, then the
 * capture methods. methods/registry.ts maps each capture method's name to its implementation,
 * typed against this list, so a name cannot be added in one place only.
 */
export const METHOD_NAMES = [
  'none',
  'socket',
  'socket-mmsg',
  'io-uring',
  'pcap',
  'pcap-native',
  'packet-mmap',
  'af-xdp',
  'dpdk',
  'fastnet-read',
  'fastnet-ring',
  'fastnet-zc',
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];
/** The baseline: nothing attached, the reference every other row's deliver is charged against. */
export const BASELINE = 'none' satisfies MethodName;
export const BASELINE_SUMMARY =
  'nothing attached: the baseline every other row is measured against';
export type CaptureMethodName = Exclude<MethodName, typeof BASELINE>;
export const CAPTURE_METHOD_NAMES = METHOD_NAMES.filter(
  (n): n is CaptureMethodName => n !== BASELINE,
);

export type Mode = 'drain' | 'live';

/**
 * How PACKET_FANOUT spreads frames over reader threads' sockets: by flow hash, by the CPU that
 * received the frame, round robin, or by the receive queue it arrived on.
 */
export const FANOUT_MODES = ['hash', 'cpu', 'lb', 'qm'] as const;
export type FanoutMode = (typeof FANOUT_MODES)[number];
export type Tier = 'js' | 'native';

export interface RunConfig {
  methods: MethodName[];
  mode: Mode;
  /** drain: frames filled per trial. live: ignored (the window is `durationSec`). */
  count: number;
  /**
   * Whether --count was given. A method whose kernel buffer cannot hold a given count refuses the
   * run; one that cannot hold the default drains the most it can hold, and its row says so.
   * Absent from files written before it existed (read as given).
   */
  countGiven: boolean;
  /** live: seconds the generator offers traffic per trial. */
  durationSec: number;
  /** Offered pps, or 'max' for flat out. */
  rate: number | 'max';
  fixturePath: string;
  /** Rounds (windows per row): exactly this many, or with `precision` at least this many. */
  trials: number;
  /**
   * Percent: rounds go on until every available row's figure at reference speed (total, else
   * read) has at most this relative margin of error, or `maxTimeSec` has passed since the run
   * began. null: exactly `trials` rounds (--trials). Absent from older files (read as null).
   */
  precision: number | null;
  maxTimeSec: number | null;
  tiers: Tier[];
  /**
   * Capture on this interface instead of a test bed: traffic from elsewhere (live only), or from
   * capbench's generator on `genIface`.
   */
  iface: string | null;
  /**
   * Two-port mode: capbench's generator sends from this interface, in this namespace, to `iface`
   * (two NIC ports cabled to each other, or two NICs on one hub). null: the test bed, or traffic
   * from elsewhere. Absent from files written before two-port mode existed (read as null).
   */
  genIface: string | null;
  /**
   * The capture methods' own options (--batch, --ring-mb, --queues, --zerocopy), by name, as each
   * method declares them (core/method-options.ts); an option not here has its default.
   */
  methodOptions: MethodOptionValues;
  /** Rows whose pps relative margin of error (percent) is above this are marked noisy. */
  noisyRme: number;
  /**
   * Whether to measure `deliver` (and so `total`). Off where the machine's clocks cannot hold the
   * kernel's delivery (under qemu's software emulation): rows then show read alone. Absent from
   * files written before it existed (read as on).
   */
  deliver: boolean;
  /** CPUs to pin the generator thread and the capturing thread to; -1 leaves them. */
  generatorCpu: number;
  captureCpu: number;
  /**
   * Reader threads per row: more than 1 spreads the frames over that many threads, one socket
   * each (PACKET_FANOUT, or af-xdp's receive queues). Files written before it existed read as 1.
   */
  threads: number;
  /** How PACKET_FANOUT spreads frames when threads > 1. */
  fanout: FanoutMode;
  /**
   * CPUs the reader threads are pinned to when threads > 1: thread i on captureCpus[i % length].
   * null: capbench chooses (runner.ts readerCpus); each row's perThread says where they ran.
   */
  captureCpus: number[] | null;
  /** Generator threads: the first on generatorCpu, the others on the next CPUs (veth picks a queue by the sending CPU). */
  generatorThreads: number;
}

/**
 * Where a run's traffic comes from: capbench's generator through its own veth test bed, capbench's
 * generator on a second port (two-port mode), or somewhere capbench does not control.
 */
export type TrafficFrom = 'testbed' | 'two-port' | 'elsewhere';

export function trafficFrom(config: Pick<RunConfig, 'iface' | 'genIface'>): TrafficFrom {
  if (config.iface === null) return 'testbed';
  return (config.genIface ?? null) === null ? 'elsewhere' : 'two-port';
}

/**
 * Receive (and transmit) queues the test bed's veth pairs get: one, unless the run spreads. veth
 * hands a frame to the receive queue numbered as the transmit queue it was sent on, which the
 * kernel picks by the sending CPU, so several generator threads feed several queues. A method may
 * need more (`methodsNeed`: af-xdp binds a socket to each of --queues, CaptureMethod.queuesNeeded).
 */
export function testbedQueues(
  config: Pick<RunConfig, 'threads' | 'generatorThreads'>,
  methodsNeed = 1,
): number {
  return Math.max(1, config.threads, config.generatorThreads, methodsNeed);
}

/**
 * The generator threads' CPUs: the first on --gen-cpu, the others on the CPUs after it, so that
 * each sends on a queue of its own (veth picks the queue by the sending CPU). [] leaves them.
 */
export function generatorCpus(
  config: Pick<RunConfig, 'generatorCpu' | 'generatorThreads'>,
  cpus: number,
): number[] {
  if (config.generatorCpu < 0) return [];
  return Array.from(
    { length: Math.min(config.generatorThreads, cpus) },
    (_, i) => (config.generatorCpu + i) % cpus,
  );
}

/**
 * Where reader threads go unless --cap-cpus says: every CPU, those no generator thread is pinned
 * to first, so that N readers keep off the generator while N CPUs are free of it, and share
 * with it only past that. Reader i runs on entry i % length.
 */
export function defaultCaptureCpus(generator: readonly number[], cpus: number): number[] {
  const all = Array.from({ length: cpus }, (_, c) => c);
  return [
    ...all.filter((c) => !generator.includes(c)),
    ...all.filter((c) => generator.includes(c)),
  ];
}

/** An offered rate as the generator takes it: packets per second, 0 for flat out. */
export function ratePps(rate: number | 'max'): number {
  return rate === 'max' ? 0 : rate;
}

/**
 * What `run` and `sweep` do when an option is not given: the one place a default is written.
 * The command line's fallbacks and its --help text are both made from these tables.
 */
export interface MeasureDefaults {
  mode: Mode;
  count: number;
  durationSec: number;
  rate: number | 'max';
  /** A name in fixtures/ (see net/fixture.ts). */
  fixture: string;
  /** With --trials: that many rounds. Without, with a precision: the least rounds before judging it. */
  trials: number;
  /** Rounds go on until every row's figures at reference speed have this rme, percent; null: --trials. */
  precision: number | null;
  /** ...or until this many seconds have passed since the run began. */
  maxTimeSec: number;
  tiers: readonly Tier[];
  noisyRme: number;
  threads: number;
  fanout: FanoutMode;
  generatorThreads: number;
  deliver: boolean;
}

export const RUN_DEFAULTS: MeasureDefaults = {
  mode: 'drain',
  count: 100_000,
  durationSec: 2,
  rate: 'max',
  fixture: 'udp64',
  // Interleaved rounds until every row is known to 3 % at reference speed, as BenchmarkDotNet
  // runs iterations until its relative error is 2 %, within 90 s, as tachometer samples for up to
  // 3 minutes; at least 5 rounds, the fewest a margin of error or a cluster check says much from.
  trials: 5,
  precision: 3,
  maxTimeSec: 90,
  tiers: ['js'],
  noisyRme: 10,
  threads: 1,
  fanout: 'hash',
  generatorThreads: 1,
  deliver: true,
};

/**
 * The kernel buffer every method gets in live mode (its socket buffer, ring, UMEM or queue), so
 * that live drops compare mechanisms rather than sizes. Drain sizes each to hold --count.
 */
export const LIVE_BUFFER_BYTES = 16 * 2 ** 20;

/** The generator and the capturing thread on CPUs of their own where there are two; -1 leaves them. */
export function defaultCpus(cpus: number): { generatorCpu: number; captureCpu: number } {
  return cpus >= 2 ? { generatorCpu: 0, captureCpu: 1 } : { generatorCpu: -1, captureCpu: -1 };
}

/** A sweep measures many points: shorter windows and fewer trials per point. */
export const SWEEP_DEFAULTS: MeasureDefaults = {
  ...RUN_DEFAULTS,
  durationSec: 1,
  trials: 3,
  precision: null,
};
