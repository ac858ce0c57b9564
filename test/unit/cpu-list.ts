/** Reading /proc's Cpus_allowed_list ("0-2,5") for the CPU-placement tests. */
import { readFileSync } from 'node:fs';

export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const range of list.trim().split(',')) {
    const [lo, hi = lo] = range.split('-').map(Number);
    if (lo === undefined || hi === undefined || !Number.isInteger(lo) || !Number.isInteger(hi)) {
      throw new Error(`not a CPU list: "${list}"`);
    }
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

/** The CPUs a thread may run on, from its /proc status file (undefined when it has gone). */
export function allowedCpus(statusPath: string): number[] | undefined {
  let status: string;
  try {
    status = readFileSync(statusPath, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  return m ? parseCpuList(m[1]!) : undefined;
}
