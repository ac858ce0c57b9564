/** What a run is asked to do. The CLI builds one of these; the runner takes nothing else. */

export const METHOD_NAMES = [
  'none', 'socket', 'socket-mmsg', 'pcap', 'pcap-native', 'packet-mmap', 'af-xdp', 'fastnet-read', 'fastnet-ring', 'fastnet-zc',
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export type Mode = 'drain' | 'live';
export type Tier = 'js' | 'native';

export interface RunConfig {
  methods: MethodName[];
  mode: Mode;
  /** drain: frames filled per trial. live: ignored (the window is `durationSec`). */
  count: number;
  /** live: seconds the generator offers traffic per trial. */
  durationSec: number;
  /** Offered pps, or 'max' for flat out. */
  rate: number | 'max';
  fixturePath: string;
  trials: number;
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
  /** Frames per native call for batched methods: recvmmsg(), pcap_dispatch(), an af-xdp rx peek. */
  batch: number;
  /** packet-mmap ring size in MiB; null = sized for the mode (drain: to hold `count`). */
  ringMb: number | null;
  /** af-xdp: queues to bind a socket to, from 0. */
  queues: number;
  /** af-xdp: ask for zero-copy (XDP_ZEROCOPY); an error where the driver cannot. */
  zeroCopy: boolean;
  /** Rows whose pps relative margin of error (percent) is above this are marked noisy. */
  noisyRme: number;
  /** CPUs to pin the generator thread and the capturing thread to; -1 leaves them. */
  generatorCpu: number;
  captureCpu: number;
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
  trials: number;
  tiers: readonly Tier[];
  batch: number;
  queues: number;
  noisyRme: number;
}

export const RUN_DEFAULTS: MeasureDefaults = {
  mode: 'drain',
  count: 100_000,
  durationSec: 2,
  rate: 'max',
  fixture: 'udp64',
  // Ten interleaved trials: on a VM whose speed drifts over seconds, five left most rows' margins
  // of error above 10 %; ten keep a default run near 45 s here.
  trials: 10,
  tiers: ['js'],
  batch: 64,
  queues: 1,
  noisyRme: 10,
};

/** A sweep measures many points: shorter windows and fewer trials per point. */
export const SWEEP_DEFAULTS: MeasureDefaults = { ...RUN_DEFAULTS, durationSec: 1, trials: 3 };
