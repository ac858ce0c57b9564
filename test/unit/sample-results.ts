/** A fixed Results object for reporter tests: one good row, one failed, one unavailable. */
import type { Results, Row } from '../../src/core/results.js';

const base: Row = {
  method: 'socket', tier: 'js', mode: 'drain', available: true, reason: null,
  sent: 20000, received: 20000, dropped: 0, drops: { senderIf: 0, captureIf: 0, method: 0 }, resent: 0, dropsSource: 'kernel',
  ipv4Counted: 10000, ipv4Expected: 10000, pps: 1234567, ppsRme: 2.345, ppsP50: 1230000, ppsP99: 1300000,
  ppsSamples: [1200000, 1234567, 1269134], noisy: false, point: null, latency: null,
  cyclesPerPacket: { thread: 2001, user: 800.4, sys: 1200.6, system: 2500, source: 'tsc' }, trials: [], ok: true,
};

export function sampleResults(): Results {
  return {
    schema: 'capbench.results/1',
    startedAt: '2026-11-23T05:00:00.000Z',
    host: { kernel: '6.18.44', cpuModel: 'Test CPU @ 2.60GHz', cpus: 2, tscHz: 2_596_000_000, node: 'v20.20.2' },
    config: {
      methods: ['socket', 'pcap', 'pcap-native'], mode: 'drain', count: 20000, durationSec: 2, rate: 'max',
      fixturePath: '/repo/fixtures/mixed.pcap', trials: 3, tiers: ['js'], iface: null, batch: 64, generatorCpu: 0, captureCpu: 1,
      ringMb: null, queues: 1, zeroCopy: false, noisyRme: 10,
    },
    rows: [
      base,
      {
        ...base, method: 'pcap', received: 19990, dropped: 10, drops: { senderIf: 0, captureIf: 0, method: 10 },
        dropsSource: 'derived', ipv4Counted: 9995, ok: false, reason: 'drain lost 10 of 20000 frames',
      },
      {
        ...base, method: 'pcap-native', available: false, reason: 'libpcap.so.0.8 not found', sent: null, received: 0,
        ipv4Counted: null, ipv4Expected: null, pps: null, ppsRme: null, ok: false,
      },
    ],
  };
}
