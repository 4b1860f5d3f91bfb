/**
 * A real one-node Slurm cluster for the tests (never a mock of sbatch): the Debian packages
 * `slurm-wlm` (slurmctld, slurmd, the client commands) and `munge`, started as root from a
 * generated slurm.conf in a temporary directory that holds everything they write (state, spool,
 * logs, pid files, munge's key and socket), on free ports, and stopped by pid afterwards.
 *
 * The node is this machine under its real hostname, with its CPUs; no cgroup plugin
 * (proctrack/linuxproc, task/none), so it runs in a container. Time limits are enforced exactly
 * (OverTimeLimit=0) and quickly (KillWait=5); the scheduler runs every second.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The programs the cluster needs, by Debian package. */
const PROGRAMS: Readonly<Record<string, string>> = {
  munged: 'munge',
  mungekey: 'munge',
  slurmctld: 'slurm-wlm',
  slurmd: 'slurm-wlm',
  sbatch: 'slurm-wlm',
  squeue: 'slurm-wlm',
  sinfo: 'slurm-wlm',
  scancel: 'slurm-wlm',
};

/** Why the cluster cannot be started here (the tests are then skipped, saying it), or undefined. */
export function slurmUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the Slurm tests start slurmctld, slurmd and munged as root, and this is not root';
  const missing = Object.keys(PROGRAMS).filter((p) => which(p) === undefined);
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((p) => PROGRAMS[p]))].join(' ');
  return `${missing.join(', ')} not found: install the Debian packages ${packages} (apt-get install -y slurm-wlm munge; .ci/run does)`;
}

/** The path of a program on PATH (or in an sbin directory, where Debian puts the daemons). */
function which(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  return dirs.filter((d) => d !== '').map((d) => join(d, name)).find((p) => existsSync(p));
}

/** A started cluster. */
export interface SlurmCluster {
  /** The temporary directory of everything the daemons write. */
  readonly dir: string;
  /** Environment for the client commands (and jug submit): SLURM_CONF. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs a client command (sinfo, squeue, scancel, …) to its end. */
  run(program: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string };
  /** The daemons' logs, for assertion messages. */
  logs(): string;
  /** Cancels every job, stops the daemons by pid, removes the directory; returns what is left running (should be nothing). */
  stop(): Promise<string[]>;
}

/** Starts munged, slurmctld and slurmd; resolves once sinfo shows the node idle. */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'jug-slurm-'));
  chmodSync(dir, 0o755);
  for (const sub of ['munge', 'state', 'spool', 'log']) mkdirSync(join(dir, sub), { mode: 0o755 });
  const conf = join(dir, 'slurm.conf');
  const socket = join(dir, 'munge', 'munge.sock');
  writeFileSync(conf, slurmConf(dir, socket, await freePort(), await freePort()));
  const env = { SLURM_CONF: conf };
  const stepdsBefore = processesNamed('slurmstepd');
  const daemons: ChildProcess[] = [];
  const cluster: SlurmCluster = {
    dir,
    env,
    run: (program, args) => runSync(program, args, env),
    logs: () => readLogs(dir),
    stop: () => stopCluster(dir, env, daemons, stepdsBefore),
  };
  try {
    daemons.push(startMunge(dir, socket));
    await waitUntil(() => existsSync(socket), 10_000, 'munged did not create its socket');
    daemons.push(daemon('slurmctld', ['-D', '-f', conf], dir), daemon('slurmd', ['-D', '-f', conf], dir));
    await waitUntil(() => /^idle/.test(cluster.run('sinfo', ['--noheader', '--format', '%t']).stdout.trim()), 30_000, 'the node did not become idle');
  } catch (e) {
    const logs = readLogs(dir);
    await cluster.stop();
    throw new Error(`${(e as Error).message}\n${logs}`, { cause: e });
  }
  return cluster;
}

function slurmConf(dir: string, socket: string, ctldPort: number, slurmdPort: number): string {
  const host = hostname();
  return `# A one-node cluster for jug's tests (test/slurm-cluster.ts).
ClusterName=jugtest
SlurmctldHost=${host}
SlurmctldPort=${ctldPort}
SlurmdPort=${slurmdPort}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${socket}
StateSaveLocation=${join(dir, 'state')}
SlurmdSpoolDir=${join(dir, 'spool')}
SlurmctldPidFile=${join(dir, 'slurmctld.pid')}
SlurmdPidFile=${join(dir, 'slurmd.pid')}
SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}
SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
MessageTimeout=10
KillWait=5
OverTimeLimit=0
InactiveLimit=0
MinJobAge=300
NodeName=${host} CPUs=${availableParallelism()} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
`;
}

/** munged in the foreground with its own key, socket, pid, seed and log files. */
function startMunge(dir: string, socket: string): ChildProcess {
  const key = join(dir, 'munge', 'munge.key');
  const made = spawnSync(which('mungekey')!, ['--create', '--keyfile', key, '--bits', '1024'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mungekey failed: ${made.stderr}`);
  const m = (f: string): string => join(dir, 'munge', f);
  return daemon(
    'munged',
    ['--foreground', '--force', `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${m('munged.pid')}`, `--log-file=${m('munged.log')}`, `--seed-file=${m('munged.seed')}`],
    dir,
  );
}

/** Starts a daemon in the foreground, its output appended to log/<name>.out. */
function daemon(name: string, args: readonly string[], dir: string): ChildProcess {
  const child = spawn(which(name)!, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (s: Buffer): void => {
    out += s.toString('utf8');
    writeFileSync(join(dir, 'log', `${name}.out`), out);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (e) => writeFileSync(join(dir, 'log', `${name}.out`), `${out}\nspawn error: ${e.message}\n`));
  return child;
}

function runSync(program: string, args: readonly string[], env: Readonly<Record<string, string>>): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(which(program) ?? program, [...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Cancels the jobs, waits for them to leave, stops slurmd, slurmctld and munged (TERM, then KILL), removes `dir`. */
async function stopCluster(dir: string, env: Readonly<Record<string, string>>, daemons: ChildProcess[], stepdsBefore: Set<number>): Promise<string[]> {
  const queued = (): string => runSync('squeue', ['--noheader'], env).stdout.trim();
  if (daemons.length === 3) {
    runSync('scancel', ['--full', '--user', 'root'], env);
    await waitUntil(() => queued() === '', 30_000, '').catch(() => {});
  }
  for (const child of [...daemons].reverse()) await stopProcess(child);
  await waitUntil(() => newStepds(stepdsBefore).length === 0, 10_000, '').catch(() => {});
  const left = [
    ...daemons.filter((c) => c.pid !== undefined && alive(c.pid)).map((c) => `${c.spawnfile} (pid ${c.pid})`),
    ...newStepds(stepdsBefore).map((pid) => `slurmstepd (pid ${pid})`),
  ];
  rmSync(dir, { recursive: true, force: true });
  return left;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const ended = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await ended;
  clearTimeout(timer);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the processes whose command name is `name` (from /proc). */
function processesNamed(name: string): Set<number> {
  const out = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'comm'), 'utf8').trim() === name) out.add(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

function newStepds(before: Set<number>): number[] {
  return [...processesNamed('slurmstepd')].filter((p) => !before.has(p));
}

function readLogs(dir: string): string {
  const logDir = join(dir, 'log');
  if (!existsSync(logDir)) return '';
  return readdirSync(logDir)
    .map((f) => `--- ${f} ---\n${readFileSync(join(logDir, f), 'utf8').split('\n').slice(-40).join('\n')}`)
    .join('\n');
}

/** A TCP port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
