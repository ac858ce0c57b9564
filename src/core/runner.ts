/**
 * The runner: a RunConfig in, Results out. It checks what can be checked before anything is
 * created, builds the test bed (unless the traffic crosses real ports: --iface, with or without
 * --gen-iface), measures the baseline, runs every method and tier (rows.ts), and removes the test
 * bed whatever happens.
 */
import {
  BASELINE,
  defaultCaptureCpus,
  generatorCpus,
  ratePps,
  testbedQueues,
  trafficFrom,
  type CaptureMethodName,
  type MethodName,
  type RunConfig,
} from './config.js';
import type { LinkKind } from './accounting.js';
import { runSpeed } from './drift.js';
import { checkTwoPort } from './two-port.js';
import { UsageError } from '../shared/errors.js';
import type { Machine } from './machine.js';
import type { Availability, CaptureMethod, MethodOptions } from './method.js';
import {
  methodLabel,
  RESULTS_SCHEMA,
  type CycleSource,
  type HostInfo,
  type Results,
  type Row,
  type Stopping,
} from './results.js';
import {
  buildBaselineRow,
  buildRow,
  planBaseline,
  planRow,
  pointReference,
  runInterleaved,
  unavailableRow,
  type Progress,
  type RoundsRule,
  type RowPlan,
} from './rows.js';
import { largestFrame, loadFixture, type Fixture } from '../net/fixture.js';
import type { Testbed } from '../net/testbed.js';
import type { WindowSpec } from './window.js';

export interface RunDeps {
  /** The capture methods (methods/registry.ts); the `none` baseline is the runner's own. */
  methods: ReadonlyMap<CaptureMethodName, CaptureMethod>;
  /** What the run touches: realMachine (real-machine.ts), or a fake in tests. */
  machine: Machine;
  signal: AbortSignal;
  /** Told before every window, for progress output; the runner itself never prints. */
  onProgress?: (progress: Progress) => void;
}

/** The test bed's queues for this run: its threads', and what its methods need (af-xdp's --queues). */
export function bedQueues(config: RunConfig, methods: RunDeps['methods']): number {
  const need = config.methods.map((n) =>
    n === BASELINE ? 1 : (methods.get(n)?.queuesNeeded?.(config.methodOptions) ?? 1),
  );
  return testbedQueues(config, Math.max(1, ...need));
}

/**
 * What methods are told. `readers`: the reader threads' CPUs (readerCpus); `queues`: the test
 * bed's queues, as built (a sweep builds it once for its most threads), 0 without a test bed.
 */
export function methodOptions(
  config: RunConfig,
  readers: readonly number[],
  queues: number,
): MethodOptions {
  return {
    values: config.methodOptions,
    ratePps: ratePps(config.rate),
    threads: config.threads,
    fanout: config.fanout,
    captureCpus: readers,
    testbedQueues: queues,
  };
}

/**
 * Where reader threads run unless --cap-cpus says. On a NIC (--iface), reader t on the CPU that
 * takes receive queue t's interrupt: af-xdp's reader t reads queue t first, and PACKET_FANOUT's
 * cpu and qm modes hand a queue's frames to the reader of the same number when the queues'
 * interrupts go to CPUs 0, 1, ... in order; the kernel's delivery and the reading then share a
 * cache. Elsewhere (veth has no interrupts), every CPU, those without a generator thread first.
 */
export function readerCpus(
  config: RunConfig,
  machine: Pick<Machine, 'queueIrqCpus'>,
  cpus: number,
): number[] {
  if (config.captureCpus !== null) return config.captureCpus;
  if (config.iface !== null && config.threads > 1) {
    const irq = machine.queueIrqCpus(config.iface);
    if (irq.length > 0) return irq;
  }
  return defaultCaptureCpus(generatorCpus(config, cpus), cpus);
}

/** What validate() found: the fixture, and in two-port mode what links the ports (else null). */
interface Checked {
  fixture: Fixture;
  link: LinkKind | null;
}

/**
 * Everything that can be refused before anything is created; returns the loaded fixture. `known`:
 * what the run's own config found, reused by a point with the same fixture (a sweep's points
 * differ in size, rate and threads; only a fixture of its own must be loaded and fit the ports).
 */
async function validate(
  config: RunConfig,
  { methods, machine }: RunDeps,
  known: (Checked & { fixturePath: string }) | null = null,
): Promise<Checked> {
  if (config.genIface !== null && config.iface === null) {
    throw new UsageError(
      '--gen-iface GEN needs --iface CAP: the port its frames arrive on, where the methods capture',
    );
  }
  const from = trafficFrom(config);
  if (from === 'elsewhere' && config.mode === 'drain') {
    throw new UsageError(
      "--iface alone captures traffic from elsewhere, so only --mode live can be used with it (or send capbench's own with --gen-iface GEN)",
    );
  }
  if (from === 'elsewhere') machine.requireInterface(config.iface!);
  const same = known !== null && known.fixturePath === config.fixturePath;
  const fixture = same ? known.fixture : await loadFixture(config.fixturePath);
  const link = same
    ? known.link
    : from === 'two-port'
      ? await checkTwoPort(config.iface!, config.genIface!, fixture, machine)
      : null;
  for (const name of config.methods) {
    const method = name === BASELINE ? undefined : methods.get(name);
    const queues = trafficFrom(config) === 'testbed' ? bedQueues(config, methods) : 0;
    if (method?.probe(config.iface).available)
      method.checkOptions?.(methodOptions(config, [], queues), config.iface);
  }
  return { fixture, link };
}

/**
 * Frames a drain row fills per trial: --count, where the method's kernel buffer holds it. Asked
 * only of a method that will run, on the interface it captures on. A --count the user gave that
 * does not fit refuses the run, naming the most that does; the default count is cut to that
 * instead, and the row says so.
 */
export function drainCount(
  method: CaptureMethod,
  config: RunConfig,
  frameBytes: number,
  options: MethodOptions,
): { count: number; note: string | null } {
  const max = config.mode === 'drain' ? method.maxHoldFrames(frameBytes, options) : null;
  if (max === null || config.count <= max) return { count: config.count, note: null };
  const fits = `at most ${max} frames of ${frameBytes} bytes`;
  if (config.countGiven || max < 1) {
    throw new UsageError(
      `--count ${config.count} does not fit in ${method.name}'s kernel buffer: ${fits} (give --count ${max} or less)`,
    );
  }
  return {
    count: max,
    note: `drained ${max} frames per trial, not the default ${config.count}: ${method.name}'s kernel buffer holds ${fits}`,
  };
}

/** What stays the same across the points of a run or a sweep: the machine and the test bed. */
export interface BenchContext {
  host: HostInfo;
  /**
   * Measures the baseline and then every method and tier of `config`; rows in config order. The
   * baseline row is included when config.methods names it. `baseline: false` skips it (sweeps
   * searching a rate need only loss).
   */
  measure(config: RunConfig, options?: { baseline?: boolean }): Promise<Point>;
}

/** A point's rows, and what ended its rounds. */
export interface Point {
  rows: Row[];
  stopping: Stopping;
}

/**
 * Checks privileges, sweeps what crashed runs left, builds the test bed, hands a BenchContext to
 * `use`, and removes the test bed whatever happens.
 */
export async function withBench<T>(
  config: RunConfig,
  deps: RunDeps,
  use: (bench: BenchContext) => Promise<T>,
): Promise<T> {
  const { machine } = deps;
  const started = performance.now();
  const checked = await validate(config, deps);
  // Only the test bed needs a namespace (ip netns, setns); ports are used where they are.
  const withTestbed = trafficFrom(config) === 'testbed';
  machine.requireCapabilities(
    ['CAP_NET_ADMIN', 'CAP_NET_RAW', ...(withTestbed ? (['CAP_SYS_ADMIN'] as const) : [])],
    'capbench',
  );
  const { info: host, cycles } = machine.host();
  await machine.sweepLeftovers();
  let testbed: Testbed | null = null;
  try {
    if (withTestbed) testbed = await machine.createTestbed(bedQueues(config, deps.methods));
    const bed = testbed;
    return await use({
      host,
      measure: async (point, options = {}) => {
        const pointChecked = await validate(point, deps, {
          ...checked,
          fixturePath: config.fixturePath,
        });
        const deadlineMs = started + (point.maxTimeSec ?? Infinity) * 1000;
        return measurePoint(point, pointChecked, bed, host, cycles, deps, {
          withBaseline: options.baseline ?? true,
          deadlineMs,
        });
      },
    });
  } finally {
    for (const method of deps.methods.values()) method.release?.();
    if (testbed) await machine.destroyTestbed(testbed);
  }
}

/**
 * Where a point's frames go from and to: the test bed's veth pair (and its twin, beside every
 * drain fill; live windows are charged against the none baseline, window.ts); two ports, with the
 * generator on --gen-iface in this namespace; or only a capture port, the traffic from elsewhere.
 */
function wiring(
  config: RunConfig,
  fixture: Fixture,
  link: LinkKind | null,
  testbed: Testbed | null,
  cpus: number,
): Pick<WindowSpec, 'captureIf' | 'sender' | 'traffic' | 'twin' | 'link' | 'deliveryClock'> {
  const send = {
    fixture,
    ratePps: ratePps(config.rate),
    cpu: config.generatorCpu,
    threads: config.generatorThreads,
    cpus: generatorCpus(config, cpus),
  };
  if (testbed) {
    return {
      captureIf: testbed.captureIf,
      sender: { ifname: testbed.senderIf, netns: testbed.netns },
      traffic: { netnsPath: testbed.netnsPath, ifname: testbed.senderIf, ...send },
      // The twin is deliver's reference: with --deliver off nothing sends into it.
      twin:
        config.mode === 'drain' && config.deliver
          ? { senderIf: testbed.twinSenderIf, captureIf: testbed.twinCaptureIf }
          : null,
      link: 'veth',
      deliveryClock: 'sender',
    };
  }
  if (link !== null) {
    // On a NIC the receive path runs on the capture port's interrupt CPU: the machine's clocks.
    return {
      captureIf: config.iface!,
      sender: { ifname: config.genIface!, netns: null },
      traffic: { netnsPath: null, ifname: config.genIface!, ...send },
      twin: null,
      link,
      deliveryClock: 'system',
    };
  }
  return {
    captureIf: config.iface!,
    sender: null,
    traffic: null,
    twin: null,
    link: 'veth',
    deliveryClock: 'sender',
  };
}

/** Whether the method runs here, and with --threads above 1, whether it can spread. */
function spreadable(
  method: CaptureMethod,
  config: RunConfig,
  options: MethodOptions,
  captureIf: string,
): Availability {
  const here = method.probe(captureIf);
  if (!here.available || config.threads <= 1) return here;
  return (
    method.spread?.(options, config.iface) ?? {
      available: false,
      reason: `${method.name} reads on one thread only`,
    }
  );
}

/**
 * Where the speed probe runs: the CPU of each reader thread that reads (the capturing thread's
 * with one), and the generator's first, which on veth also runs the delivery.
 */
function probeCpus(config: RunConfig, readers: readonly number[]): WindowSpec['probeCpus'] {
  const reading =
    config.threads > 1 && readers.length > 0
      ? [...new Set(Array.from({ length: config.threads }, (_, i) => readers[i % readers.length]!))]
      : [config.captureCpu];
  return { readers: reading, sender: config.generatorCpu };
}

/**
 * The rows whose figure at reference speed (total, else read) is not yet known to `precision`
 * percent, as "method/tier"; a row that failed, or rests on too few packets, is not waited for.
 */
function impreciseRows(
  basePlan: RowPlan | null,
  plans: readonly RowPlan[],
  config: RunConfig,
  cycles: CycleSource,
  precision: number,
  methods: RunDeps['methods'],
): string[] {
  const reference = pointReference(basePlan, plans, config.mode);
  return plans
    .filter((p) => p !== basePlan && p.failure === null)
    .filter((p) => {
      const n = buildRow(p, config, reference, cycles).normalised;
      const rme = n === null || n === undefined ? null : n.total !== null ? n.totalRme : n.readRme;
      return rme !== null && rme > precision;
    })
    .map(
      (p) =>
        `${methodLabel({ method: p.method, variant: variantOf(methods, p.method, config) })}/${p.tier}`,
    );
}

/** What a method says its rows ran beyond its name (CaptureMethod.variant); undefined for most. */
function variantOf(
  methods: RunDeps['methods'],
  name: MethodName,
  config: RunConfig,
): string | undefined {
  const method = name === BASELINE ? undefined : methods.get(name);
  return method?.variant?.(config.methodOptions);
}

async function measurePoint(
  config: RunConfig,
  { fixture, link }: Checked,
  testbed: Testbed | null,
  host: HostInfo,
  cycles: CycleSource,
  deps: RunDeps,
  { withBaseline, deadlineMs }: { withBaseline: boolean; deadlineMs: number },
): Promise<Point> {
  // Node's helper threads go elsewhere, or the scheduler runs them on the capture CPU mid-window.
  // Before each point: a thread Node started since the last (libuv's pool is lazy) inherited the pin.
  // With reader threads of its own the thread that runs the window only waits: it keeps its place.
  const { machine } = deps;
  if (config.captureCpu >= 0 && config.threads === 1) machine.reserveCpu(config.captureCpu);
  if (testbed) await machine.fitFrames(testbed, largestFrame(fixture));
  const readers = readerCpus(config, machine, host.cpus);
  const base = {
    mode: config.mode,
    ...wiring(config, fixture, link, testbed, host.cpus),
    fixture,
    count: config.count,
    durationSec: config.durationSec,
    options: methodOptions(config, readers, testbed?.queues ?? 0),
    probeCpus: probeCpus(config, readers),
    machine,
    tscHz: host.tscHz,
    cpus: host.cpus,
    signal: deps.signal,
  };

  // The baseline is measured alongside the rows: every other row's deliver is relative to it.
  const showNone = config.methods.includes(BASELINE);
  const basePlan = withBaseline || showNone ? planBaseline(base) : null;
  // Rows in config order, the baseline's first: finished (unavailable) rows, or plans still to be measured.
  const slots: Array<Row | RowPlan> = showNone ? [basePlan!] : [];
  for (const name of config.methods) {
    if (name === BASELINE) continue;
    const method = deps.methods.get(name);
    if (!method) throw new UsageError(`unknown method ${name}`);
    const availability = spreadable(method, config, base.options, base.captureIf);
    const { count, note } = availability.available
      ? drainCount(method, config, largestFrame(fixture), base.options)
      : { count: config.count, note: null };
    for (const tier of config.tiers) {
      if (!availability.available)
        slots.push(unavailableRow(config, name, tier, availability.reason));
      else if (!method.tiers.includes(tier))
        slots.push(unavailableRow(config, name, tier, `${name} has no ${tier} tier`));
      else slots.push(planRow({ ...base, count, method, tier }, note));
    }
  }
  const isPlan = (s: Row | RowPlan): s is RowPlan => 'measure' in s;
  const plans = [...(basePlan && !showNone ? [basePlan] : []), ...slots.filter(isPlan)];
  const rule: RoundsRule =
    config.precision === null
      ? { kind: 'fixed', rounds: config.trials }
      : {
          kind: 'precision',
          minRounds: config.trials,
          deadlineMs,
          imprecise: () =>
            impreciseRows(basePlan, plans, config, cycles, config.precision!, deps.methods),
        };
  const ran = await runInterleaved(plans, rule, deps.onProgress);
  const reference = pointReference(basePlan, plans, config.mode);
  const rows = slots.map((s): Row => {
    const row = !isPlan(s)
      ? s
      : s === basePlan
        ? buildBaselineRow(s, config, cycles)
        : buildRow(s, config, reference, cycles);
    const variant = variantOf(deps.methods, row.method, config);
    return variant === undefined ? row : { ...row, variant };
  });
  return {
    rows,
    stopping: {
      ...ran,
      precisionPct: config.precision,
      maxTimeSec: config.precision === null ? null : config.maxTimeSec,
    },
  };
}

export async function runBenchmark(config: RunConfig, deps: RunDeps): Promise<Results> {
  const startedAt = new Date().toISOString();
  return withBench(config, deps, async (bench) => {
    const { rows, stopping } = await bench.measure(config);
    // After the windows, on the CPU they captured on (reserved for the capturing thread).
    const counterFloor = await deps.machine.counterFloor(await loadFixture(config.fixturePath));
    return {
      schema: RESULTS_SCHEMA,
      startedAt,
      host: bench.host,
      config,
      rows,
      stopping,
      speed: runSpeed(rows),
      counterFloor,
    };
  });
}
