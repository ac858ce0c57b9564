/** A fixed Results object for reporter tests: one good row, one failed, one unavailable. */
import type { CyclesPerPacket, Results, Row, TrialResult } from '../../src/core/results.js';

/** The good row's cycles: deliver and read measured, total their sum. */
export const SAMPLE_CYCLES: CyclesPerPacket = {
  deliver: 480,
  read: 2001,
  total: 2481,
  totalRme: 1.5,
  deliverSource: 'sender-clocks-vs-twin',
  deliverNote: null,
  user: 800.4,
  sys: 1200.6,
  systemBusy: 2500,
  source: 'tsc',
};

const base: Row = {
  method: 'socket',
  tier: 'js',
  mode: 'drain',
  available: true,
  reason: null,
  sent: 20000,
  received: 20000,
  dropped: 0,
  drops: { senderIf: 0, captureIf: 0, method: 0 },
  resent: 0,
  dropsSource: 'kernel',
  ipv4Counted: 10000,
  ipv4Expected: 10000,
  pps: 1234567,
  ppsRme: 2.345,
  ppsP50: 1230000,
  ppsP99: 1300000,
  ppsSamples: [1200000, 1234567, 1269134],
  noisy: false,
  point: null,
  latency: null,
  cyclesPerPacket: SAMPLE_CYCLES,
  trials: [],
  ok: true,
};

export function sampleResults(): Results {
  return {
    schema: 'capbench.results/3',
    startedAt: '2026-11-23T05:00:00.000Z',
    host: {
      kernel: '6.18.44',
      cpuModel: 'Test CPU @ 2.60GHz',
      cpus: 2,
      tscHz: 2_596_000_000,
      node: 'v20.20.2',
    },
    config: {
      methods: ['socket', 'pcap', 'pcap-native'],
      mode: 'drain',
      count: 20000,
      durationSec: 2,
      rate: 'max',
      fixturePath: '/repo/fixtures/mixed.pcap',
      trials: 3,
      tiers: ['js'],
      iface: null,
      genIface: null,
      methodOptions: { batch: 64, 'ring-mb': null, queues: 1, zerocopy: false },
      generatorCpu: 0,
      captureCpu: 1,
      noisyRme: 10,
      threads: 1,
      fanout: 'hash',
      captureCpus: [1, 0],
      generatorThreads: 1,
      countGiven: true,
      precision: null,
      maxTimeSec: null,
      deliver: true,
    },
    rows: [
      base,
      {
        ...base,
        method: 'pcap',
        received: 19990,
        dropped: 10,
        drops: { senderIf: 0, captureIf: 0, method: 10 },
        dropsSource: 'derived',
        ipv4Counted: 9995,
        ok: false,
        reason: 'drain lost 10 of 20000 frames',
      },
      {
        ...base,
        method: 'pcap-native',
        available: false,
        reason: 'libpcap.so.0.8 not found',
        sent: null,
        received: 0,
        ipv4Counted: null,
        ipv4Expected: null,
        pps: null,
        ppsRme: null,
        ok: false,
      },
    ],
  };
}

/** One window of the good row: its pps and read cycles, deliver as in SAMPLE_CYCLES. */
export function sampleTrial(pps: number, read: number): TrialResult {
  const deliver = SAMPLE_CYCLES.deliver!;
  return {
    sent: 20000,
    received: 20000,
    drops: { senderIf: 0, captureIf: 0, method: 0 },
    resent: 0,
    latency: null,
    ipv4Counted: 10000,
    ipv4Expected: 10000,
    windowSec: 0.02,
    pps,
    delivery: null,
    cyclesPerPacket: {
      ...SAMPLE_CYCLES,
      read,
      total: deliver + read,
      totalRme: null,
      user: null,
      sys: null,
      systemBusy: null,
    },
  };
}

/** The sample with per-trial figures on the good row, so that its cycles have a spread (a new row object: rows are shared). */
export function sampleWithTrials(): Results {
  const r = sampleResults();
  const row = r.rows[0]!;
  r.rows[0] = {
    ...row,
    trials: row.ppsSamples.map((pps, i) => sampleTrial(pps, [1990, 2001, 2012][i]!)),
  };
  return r;
}
