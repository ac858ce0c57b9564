/**
 * XDP programs a crashed capbench left attached, found and removed.
 *
 * af-xdp attaches its redirect program through a BPF link where the kernel has XDP links (5.9+),
 * and the kernel detaches a link's program when its last file descriptor closes, so on such
 * kernels even SIGKILL leaves nothing behind. Older kernels get a netlink attach, which outlives
 * the process. For that case, and as a record of what is attached where, every session writes a
 * state file here while its program is attached and removes it on close:
 *
 *   /run/capbench/xdp-<owner pid>-<ifindex>.json
 *
 * sweepStaleXdp() looks at files whose owner is gone and detaches the program only if the
 * interface still has exactly the recorded program id attached (ids are not reused while the
 * kernel runs): a program capbench did not attach is never touched.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SystemError } from '../shared/errors.js';
import { ip } from './ip-command.js';

export const XDP_STATE_DIR = '/run/capbench';

export interface XdpAttachRecord {
  ifindex: number;
  ifname: string;
  /** The kernel's id of the attached program. */
  progId: number;
  /** How it was attached: a BPF link (detached by the kernel when the owner exits) or netlink. */
  attach: 'link' | 'netlink';
  /** The process that attached it, and that process's start time (clock ticks after boot). */
  owner: number;
  ownerStart: number | null;
  createdAt: string;
}

const FILE_RE = /^xdp-(\d+)-(\d+)\.json$/;
/** What a write cut short by a crash leaves: nothing refers to it. */
const TEMP_RE = /^\.xdp-(\d+)-(\d+)\.json\.tmp$/;

/** Field 22 of /proc/PID/stat, which tells a live process from a later one reusing its pid. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

export function ownerAlive(pid: number, start: number | null): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return start === null || processStartTime(pid) === start;
}

/**
 * Records an attachment; returns the file's path, for forgetXdpAttach(). Synchronous because
 * sessions open synchronously, and atomic (temporary file, fsync, rename) like
 * shared/atomic-write.ts, so a sweep never reads half a record.
 */
export function recordXdpAttach(
  rec: Omit<XdpAttachRecord, 'owner' | 'ownerStart' | 'createdAt'>,
  dir: string = XDP_STATE_DIR,
): string {
  const full: XdpAttachRecord = {
    ...rec,
    owner: process.pid,
    ownerStart: processStartTime(process.pid),
    createdAt: new Date().toISOString(),
  };
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const path = join(dir, `xdp-${process.pid}-${rec.ifindex}.json`);
  const temp = join(dir, `.xdp-${process.pid}-${rec.ifindex}.json.tmp`);
  try {
    const fd = openSync(temp, 'w', 0o644);
    try {
      writeSync(fd, JSON.stringify(full) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // It was never created.
    }
    throw new SystemError(
      `record the XDP program attached to ${rec.ifname} in ${path}: ${(err as Error).message}`,
    );
  }
  return path;
}

export function forgetXdpAttach(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

interface IpXdpProg {
  id?: number;
  name?: string;
}
interface IpXdp {
  mode?: number;
  prog?: IpXdpProg;
  attached?: { mode?: number; prog?: IpXdpProg }[];
}
interface IpLink {
  ifindex: number;
  ifname: string;
  xdp?: IpXdp;
}

/** `ip -j link` XDP modes and the keyword that detaches each. */
const MODE_KEYWORD: Record<number, string> = { 1: 'xdpdrv', 2: 'xdpgeneric', 3: 'xdpoffload' };

/** The (mode, prog id) pairs attached to a link, whether ip reports one program or several. */
function attachedPrograms(link: IpLink): { mode: number; id: number }[] {
  const xdp = link.xdp;
  if (!xdp) return [];
  const list = xdp.attached ?? [{ mode: xdp.mode, prog: xdp.prog }];
  return list.flatMap((a) =>
    a.mode !== undefined && a.prog?.id !== undefined ? [{ mode: a.mode, id: a.prog.id }] : [],
  );
}

function parseRecord(text: string): XdpAttachRecord | null {
  try {
    const r = JSON.parse(text) as Partial<XdpAttachRecord>;
    if (
      typeof r.ifindex !== 'number' ||
      typeof r.progId !== 'number' ||
      typeof r.owner !== 'number' ||
      typeof r.ifname !== 'string'
    ) {
      return null;
    }
    return {
      ifindex: r.ifindex,
      ifname: r.ifname,
      progId: r.progId,
      attach: r.attach === 'netlink' ? 'netlink' : 'link',
      owner: r.owner,
      ownerStart: typeof r.ownerStart === 'number' ? r.ownerStart : null,
      createdAt: String(r.createdAt ?? ''),
    };
  } catch {
    return null;
  }
}

/**
 * For every state file whose owner has exited: if the interface with the recorded ifindex still
 * has the recorded program attached, detaches it; then removes the file. Returns one line per
 * program removed. Throws (after trying every file) if a program could not be removed; its file
 * is kept so the next sweep tries again.
 */
export async function sweepStaleXdp(dir: string = XDP_STATE_DIR): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (m && !ownerAlive(Number(m[1]), null)) await unlink(join(dir, name)).catch(() => undefined);
  }
  const files = names.filter((n) => FILE_RE.test(n));
  if (files.length === 0) return [];
  const removed: string[] = [];
  const failed: string[] = [];
  let links: IpLink[] | null = null;
  for (const name of files) {
    const path = join(dir, name);
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text === null) continue; // removed meanwhile by its owner
    const rec = parseRecord(text);
    const owner = Number(FILE_RE.exec(name)![1]);
    if (ownerAlive(rec?.owner ?? owner, rec?.ownerStart ?? null)) continue;
    if (rec !== null) {
      links ??= JSON.parse(await ip('-j', 'link', 'show')) as IpLink[];
      const link = links.find((l) => l.ifindex === rec.ifindex);
      const ours = link ? attachedPrograms(link).find((a) => a.id === rec.progId) : undefined;
      if (link && ours) {
        const keyword = MODE_KEYWORD[ours.mode] ?? 'xdp';
        try {
          await ip('link', 'set', 'dev', link.ifname, keyword, 'off');
          removed.push(
            `removed XDP program ${rec.progId} that capbench process ${rec.owner} left attached to ${link.ifname}`,
          );
        } catch (err) {
          failed.push(
            `XDP program ${rec.progId} on ${link.ifname} (left by capbench process ${rec.owner}): ${(err as Error).message}`,
          );
          continue;
        }
      }
    }
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  if (failed.length > 0) throw new SystemError(`could not remove ${failed.join('; ')}`);
  return removed;
}
