/**
 * `--threads auto`: how many CPUs this process may use — the smallest of Slurm's allocation
 * (`SLURM_CPUS_PER_TASK`), the cgroup CPU quota (a container's or a job's `cpu.max`, rounded up),
 * and the CPU affinity mask (`os.availableParallelism()`).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** How many CPUs, and which limit set it (for `-v`). */
export interface AvailableCpus {
  readonly cpus: number;
  /** E.g. `SLURM_CPUS_PER_TASK=4`, `cgroup cpu.max 200000 100000`, `CPU affinity`. */
  readonly limitedBy: string;
}

/** What {@link availableCpus} reads; tests pass their own. */
export interface CpuSources {
  readonly env: NodeJS.ProcessEnv;
  /** The affinity mask's CPU count. @default os.availableParallelism() */
  readonly affinity: number;
  /** Reads a file, or undefined if it cannot be read. @default readFileSync (utf8) */
  readonly read: (path: string) => string | undefined;
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The CPUs this process may use (at least 1). */
export function availableCpus(sources: Partial<CpuSources> = {}): AvailableCpus {
  const env = sources.env ?? process.env;
  const read = sources.read ?? readText;
  const limits: AvailableCpus[] = [{ cpus: Math.max(1, sources.affinity ?? availableParallelism()), limitedBy: 'CPU affinity' }];
  const slurm = env['SLURM_CPUS_PER_TASK']?.trim();
  if (slurm !== undefined && /^\d+$/.test(slurm) && Number(slurm) > 0) {
    limits.push({ cpus: Number(slurm), limitedBy: `SLURM_CPUS_PER_TASK=${slurm}` });
  }
  const quota = cgroupQuota(read);
  if (quota !== undefined) limits.push(quota);
  return limits.reduce((a, b) => (b.cpus < a.cpus ? b : a));
}

/**
 * The cgroup CPU quota of this process, if it has one: cgroup v2 `cpu.max` (`<quota> <period>`,
 * `max` for none) of its own cgroup (from /proc/self/cgroup) or of the root, else cgroup v1
 * `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1 for none), likewise. Rounded up: 1.5 CPUs allow 2 threads.
 */
function cgroupQuota(read: CpuSources['read']): AvailableCpus | undefined {
  const own = /^0::(\/.*)$/m.exec(read('/proc/self/cgroup') ?? '')?.[1];
  const candidates = [...(own !== undefined && own !== '/' ? [`/sys/fs/cgroup${own}/cpu.max`] : []), '/sys/fs/cgroup/cpu.max'];
  for (const path of candidates) {
    const text = read(path)?.trim();
    if (text === undefined) continue;
    const [quota, period] = text.split(/\s+/);
    if (quota === 'max') return undefined;
    const q = Number(quota);
    const p = Number(period ?? 100000);
    if (q > 0 && p > 0) return { cpus: Math.max(1, Math.ceil(q / p)), limitedBy: `cgroup cpu.max ${text}` };
    return undefined;
  }
  const v1 = /^\d+:(?:[^:]*,)?cpu(?:,[^:]*)?:(\/.*)$/m.exec(read('/proc/self/cgroup') ?? '')?.[1];
  for (const dir of [...(v1 !== undefined && v1 !== '/' ? [`/sys/fs/cgroup/cpu${v1}`] : []), '/sys/fs/cgroup/cpu']) {
    const q = Number(read(`${dir}/cpu.cfs_quota_us`)?.trim());
    const p = Number(read(`${dir}/cpu.cfs_period_us`)?.trim());
    if (q > 0 && p > 0) return { cpus: Math.max(1, Math.ceil(q / p)), limitedBy: `cgroup cpu.cfs_quota_us ${q} / ${p}` };
    if (q === -1) return undefined;
  }
  return undefined;
}
