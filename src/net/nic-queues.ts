/**
 * An interface's receive queues: how many the kernel shows, and on a multi-queue NIC which CPU
 * takes each one's interrupt: where its NAPI poll, and so
 * the kernel's delivery into every capture socket, runs. A reader on that CPU finds the frames in
 * its cache; a reader elsewhere pulls them across. Drivers name their queue vectors after the
 * interface in /proc/interrupts (ixgbe, i40e, ice: "eth0-TxRx-3"; igb: "eth0-rx-3"; mlx4:
 * "eth0-3"); the CPU is the IRQ's effective affinity, which irqbalance or the driver set.
 */
import { readdirSync, readFileSync } from 'node:fs';

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** RX queues under /sys/class/net/IF/queues; null when the kernel does not say (no such interface). */
export function rxQueueCount(ifname: string): number | null {
  try {
    const n = readdirSync(`/sys/class/net/${ifname}/queues`).filter((q) =>
      q.startsWith('rx-'),
    ).length;
    return n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** A CPU list as the kernel and taskset write it, "0-2,5" → [0, 1, 2, 5] (repeats dropped); null if malformed. */
export function parseCpuList(text: string): number[] | null {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m || Number(m[2] ?? m[1]) < Number(m[1])) return null;
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** Queue vectors of `ifname` in /proc/interrupts: IRQ number by queue index, receive-capable ones only. */
export function queueIrqs(ifname: string, procInterrupts: string): Map<number, number> {
  const escaped = ifname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const name = new RegExp(`^${escaped}[-_](?:(?:rx|txrx|rxtx|combined|fp)[-_]?)?(\\d+)$`, 'i');
  const irqs = new Map<number, number>();
  for (const line of procInterrupts.split('\n')) {
    const irq = /^\s*(\d+):/.exec(line);
    const m = name.exec(line.trim().split(/\s+/).at(-1) ?? '');
    if (irq && m && !irqs.has(Number(m[1]))) irqs.set(Number(m[1]), Number(irq[1]));
  }
  return irqs;
}

/**
 * The CPU of each receive queue's interrupt, queue 0 first, up to the first queue that has none
 * found; [] when the driver names no queue vectors after the interface (veth has no interrupts).
 */
export function queueIrqCpus(
  ifname: string,
  read: (path: string) => string = (p) => readOr(p, ''),
): number[] {
  const irqs = queueIrqs(ifname, read('/proc/interrupts'));
  const cpus: number[] = [];
  for (let q = 0; irqs.has(q); q++) {
    const irq = irqs.get(q)!;
    const list =
      parseCpuList(
        read(`/proc/irq/${irq}/effective_affinity_list`) ||
          read(`/proc/irq/${irq}/smp_affinity_list`),
      ) ?? [];
    if (list.length === 0) break;
    cpus.push(list[0]!);
  }
  return cpus;
}
