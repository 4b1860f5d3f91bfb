/**
 * Who holds the locks of running tasks, as `jug status` and `jug cleanup` tell it: the hosts
 * running them (`Running on node01 (4), node02 (3).`), and holders on other hosts whose
 * heartbeat stopped but whose lease has not run out yet (a dead or frozen host): how long ago
 * it stopped and when their locks become stale, instead of calling them running processes.
 */
import { fmtDuration } from './progress/format.js';
import { plural } from './table.js';
import type { LockInfo } from '../store/store.js';

/**
 * A heartbeat older than this is called stopped: holders beat every 2 s, and a filesystem's
 * attribute cache (NFS: up to a minute by default) may delay what another host sees, so this
 * is a hint, not the verdict: the lease decides.
 */
export const SILENT_AFTER_MS = 15_000;

/** `Running on node01 (4), node02 (3).` for the live locks given, busiest host first; '' if none. */
export function runningHostsLine(locks: Iterable<LockInfo>): string {
  const byHost = new Map<string, number>();
  for (const l of locks) {
    if (l.failed || l.stale) continue;
    const host = l.holder?.host ?? 'unknown host';
    byHost.set(host, (byHost.get(host) ?? 0) + 1);
  }
  if (byHost.size === 0) return '';
  const hosts = [...byHost].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return `Running on ${hosts.map(([h, n]) => `${h} (${n})`).join(', ')}.\n`;
}

/** Live (not stale) locks whose holder's heartbeat stopped, grouped by holder: one entry each. */
interface SilentHolder {
  readonly host: string;
  readonly pid: number;
  readonly count: number;
  /** Oldest heartbeat among its locks, epoch ms (they share one when the holder is a jug). */
  readonly heartbeatAt: number;
  /** When the first of its locks becomes stale, epoch ms. */
  readonly staleAt: number;
}

/** Holders (of other hosts, under a lease) whose heartbeat is older than SILENT_AFTER_MS. */
export function silentHolders(locks: Iterable<LockInfo>, now = Date.now()): SilentHolder[] {
  const groups = new Map<string, SilentHolder>();
  for (const l of locks) {
    if (l.failed || l.stale || l.holder === undefined || l.heartbeatAt === undefined || l.staleAt === undefined) continue;
    if (now - l.heartbeatAt < SILENT_AFTER_MS) continue;
    const key = `${l.holder.pid}@${l.holder.host}`;
    const g = groups.get(key);
    groups.set(key, {
      host: l.holder.host,
      pid: l.holder.pid,
      count: (g?.count ?? 0) + 1,
      heartbeatAt: Math.min(g?.heartbeatAt ?? Infinity, l.heartbeatAt),
      staleAt: Math.min(g?.staleAt ?? Infinity, l.staleAt),
    });
  }
  return [...groups.values()].sort((a, b) => a.staleAt - b.staleAt);
}

/**
 * One line per silent holder: `3 locks of PID 1 on node02: its heartbeat stopped 47s ago (a dead
 * or frozen host?); they become stale in 4m13s, then the next `jug execute` takes them over.`
 */
export function silentHolderLines(holders: readonly SilentHolder[], now = Date.now()): string {
  return holders
    .map(
      (h) =>
        `${plural(h.count, 'lock')} of PID ${h.pid} on ${h.host}: its heartbeat stopped ${fmtDuration((now - h.heartbeatAt) / 1000)} ago ` +
        `(a dead or frozen host?); ${h.count === 1 ? 'it becomes' : 'they become'} stale in ${fmtDuration((h.staleAt - now) / 1000)} ` +
        '(--lock-lease), then the next `jug execute` takes them over.\n',
    )
    .join('');
}
