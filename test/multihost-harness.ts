/**
 * Simulated hosts for the multi-host tests (test/multihost.test.ts), with Linux namespaces.
 *
 * A "host" is `unshare --uts --pid --mount --fork --mount-proc /bin/sh <script>`: its own
 * hostname (set by the script with `hostname NAME` before anything else runs), its own pid
 * space (so pids collide between hosts as on real machines: the namespace's first process is
 * PID 1), its own /proc and mount table (a FUSE mount made inside is that host's alone, with its
 * own attribute cache, as an NFS client's), and the same files as every other host: the jugdir
 * they share is an ordinary directory (or a mount of one).
 *
 * The script runs one or more `node bin/jug.js …` processes in the background and records each
 * one's stdout, stderr and exit code in files, or (`asInit`) execs the only one, which becomes
 * PID 1 of the namespace. Killing the namespace's init from outside kills every process in it at
 * once (the kernel does): that is `kill -9` of a whole host.
 *
 * Needs root (or user namespaces) and util-linux's `unshare`; {@link namespacesRefused} probes once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JUG_BIN, ROOT } from './helpers.js';

const UNSHARE = ['--uts', '--pid', '--mount', '--fork', '--mount-proc'];

let probed: string | undefined | null = null;

/** Why namespace hosts cannot be made here (printed as the skip reason), or undefined if they can. */
export function namespacesRefused(): string | undefined {
  if (probed !== null) return probed;
  if (process.platform !== 'linux') return (probed = `Linux namespaces are not available on ${process.platform}`);
  const r = spawnSync('unshare', [...UNSHARE, 'true'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error !== undefined) probed = `\`unshare\` could not run: ${r.error.message}`;
  else if (r.status !== 0) probed = `namespaces refused here: \`unshare ${UNSHARE.join(' ')} true\` exited ${r.status}: ${r.stderr.trim()}`;
  else probed = undefined;
  return probed;
}

/** Why a bindfs (FUSE) mount cannot be made inside a namespace host here, or undefined if it can. */
export function bindfsRefused(dir: string): string | undefined {
  const refused = namespacesRefused();
  if (refused !== undefined) return refused;
  const which = spawnSync('sh', ['-c', 'command -v bindfs && command -v fusermount'], { encoding: 'utf8' });
  if (which.status !== 0) return 'bindfs or fusermount is not installed (Debian: apt-get install bindfs)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse here';
  const source = join(dir, 'probe-source');
  const mnt = join(dir, 'probe-mnt');
  mkdirSync(source, { recursive: true });
  mkdirSync(mnt, { recursive: true });
  writeFileSync(join(source, 'seen'), 'yes');
  const script = `bindfs ${q(source)} ${q(mnt)} || exit 1; cat ${q(join(mnt, 'seen'))}; fusermount -u ${q(mnt)}`;
  const r = spawnSync('unshare', [...UNSHARE, 'sh', '-c', script], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0 || r.stdout.trim() !== 'yes') return `a bindfs mount failed in a namespace: exit ${r.status}: ${r.stderr.trim()}`;
  return undefined;
}

/** Shell-quotes a word. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One `jug` process of a host. */
export interface HostProcess {
  /** Arguments after `node bin/jug.js`. */
  readonly args: readonly string[];
  /** Environment variables of this process only (on top of the host's). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface HostOptions {
  /** Its hostname (what os.hostname() says inside). */
  readonly name: string;
  /** Where the host's script and its processes' outputs go (created if needed). */
  readonly dir: string;
  readonly processes: readonly HostProcess[];
  /** Exec the (only) process as the namespace's init: its pid is 1 (not with `bindfs`). */
  readonly asInit?: boolean;
  /** Environment of every process of the host (on top of this process's, cleaned). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Mount `source` on `mountpoint` with bindfs inside the host before its processes start (the
   * host's own FUSE mount: its own daemon and attribute cache), unmounted after they exit.
   */
  readonly bindfs?: { readonly source: string; readonly mountpoint: string };
  /** Kill the host after this long (the test then fails on its exit codes). @default 120 s */
  readonly timeoutMs?: number;
}

/** How one process of a host ended. */
export interface ProcessResult {
  /** Exit code; null when it did not exit by itself (its host was killed). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How a host ended. */
export interface HostResult {
  readonly name: string;
  /** `unshare`'s exit code (its init's, when it exited by itself). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the harness killed it (kill9(), stop() or the timeout). */
  readonly killed: boolean;
  readonly processes: readonly ProcessResult[];
  /** What the host's script itself printed (unshare, hostname, bindfs errors). */
  readonly output: string;
}

/** Shows a host's result in assertion messages. */
export function showHost(r: HostResult): string {
  const head = `host ${r.name}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${r.killed ? ' (killed by the test)' : ''}`;
  const procs = r.processes.map(
    (p, i) => `  process ${i}: exit ${p.code}\n  --- stdout ---\n${p.stdout}  --- stderr ---\n${p.stderr}`,
  );
  return [head, ...(r.output.trim() !== '' ? [`  --- host output ---\n${r.output}`] : []), ...procs].join('\n');
}

/** This process's environment without what would leak test-runner or debug state into children. */
function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'JUG_DEBUG', 'FORCE_COLOR']) delete env[k];
  env['NO_COLOR'] = '1';
  return { ...env, ...extra };
}

/** Pids (outside view) of this machine's processes whose parent is `ppid`. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The pids of a process in each of its pid namespaces, outermost first (`NSpid:` of /proc/<pid>/status). */
function nsPids(pid: number): number[] {
  try {
    const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? [] : m[1]!.trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** Processes of this machine whose command line contains `marker` (e.g. a test's temporary dir): `pid: cmdline`. */
export function processesMentioning(marker: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmd.includes(marker)) out.push(`${name}: ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Hosts not ended yet: killed (by pid) if this process exits while they run. */
const live = new Set<Host>();
process.on('exit', () => {
  for (const h of live) {
    try {
      h.child.kill('SIGKILL'); // unshare --kill-child: its namespace's init dies with it
    } catch {
      // gone
    }
  }
});

/** A running (or ended) namespace host. */
export class Host {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when `unshare` has exited: every process of the host is gone then. */
  readonly done: Promise<HostResult>;
  #exited = false;
  #killed = false;
  #initPid: number | undefined;
  readonly #timer: NodeJS.Timeout;

  private constructor(readonly options: HostOptions) {
    this.name = options.name;
    const { dir, processes } = options;
    if (processes.length === 0) throw new Error('a host needs a process');
    if (options.asInit === true && processes.length !== 1) throw new Error('asInit: exactly one process');
    // (A mount would have to be undone after the process, by a shell that then is not replaced.)
    if (options.asInit === true && options.bindfs !== undefined) throw new Error('asInit: no bindfs mount');
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(options.name)) throw new Error(`bad host name ${options.name}`);
    mkdirSync(dir, { recursive: true });
    const file = (i: number, ext: string): string => join(dir, `${options.name}.${i}.${ext}`);
    const lines = ['set -u', `hostname ${q(options.name)} || exit 90`];
    if (options.bindfs !== undefined) {
      lines.push(`bindfs ${q(options.bindfs.source)} ${q(options.bindfs.mountpoint)} || exit 91`);
    }
    const command = (p: HostProcess, i: number): string =>
      [
        ...Object.entries(p.env ?? {}).map(([k, v]) => `${k}=${q(v)}`),
        q(process.execPath),
        q(JUG_BIN),
        ...p.args.map(q),
        `>${q(file(i, 'out'))} 2>${q(file(i, 'err'))} </dev/null`,
      ].join(' ');
    if (options.asInit === true) {
      // The jug process replaces the shell as PID 1; its exit code is unshare's.
      lines.push(`echo 1 >${q(file(0, 'pid'))}`, `exec ${command(processes[0]!, 0)}`);
    } else {
      processes.forEach((p, i) => lines.push(`${command(p, i)} &`, `p${i}=$!`, `echo $p${i} >${q(file(i, 'pid'))}`));
      processes.forEach((_, i) => lines.push(`wait $p${i}`, `echo $? >${q(file(i, 'rc'))}`));
    }
    if (options.bindfs !== undefined) lines.push(`fusermount -u ${q(options.bindfs.mountpoint)} || exit 92`);
    lines.push('exit 0');
    const script = join(dir, `${options.name}.sh`);
    writeFileSync(script, lines.join('\n') + '\n');

    // --kill-child: should unshare itself die (a test runner killed), its namespace dies with it.
    this.child = spawn('unshare', [...UNSHARE, '--kill-child', '/bin/sh', script], {
      cwd: ROOT,
      env: childEnv(options.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
    const timeoutMs = options.timeoutMs ?? 120_000;
    this.#timer = setTimeout(() => {
      output += `\n[multihost harness: host ${this.name} killed after ${timeoutMs} ms]\n`;
      void this.stop();
    }, timeoutMs);
    live.add(this);
    this.done = new Promise<HostResult>((resolve, reject) => {
      this.child.on('error', (e) => {
        clearTimeout(this.#timer);
        this.#exited = true;
        live.delete(this);
        reject(e);
      });
      this.child.on('close', (code, signal) => {
        clearTimeout(this.#timer);
        this.#exited = true;
        live.delete(this);
        const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
        const results = processes.map((_, i): ProcessResult => {
          const rc = read(file(i, 'rc')).trim();
          // asInit: the process was the init, its exit code is unshare's (unless killed).
          const own = options.asInit === true && !this.#killed ? code : null;
          return { code: rc !== '' ? Number(rc) : own, stdout: read(file(i, 'out')), stderr: read(file(i, 'err')) };
        });
        resolve({ name: this.name, code, signal, killed: this.#killed, processes: results, output });
      });
    });
  }

  /** Starts a host (see {@link HostOptions}). */
  static start(options: HostOptions): Host {
    return new Host(options);
  }

  get exited(): boolean {
    return this.#exited;
  }

  /**
   * The namespace's init (PID 1 inside) as this machine sees it: the child `unshare --fork`
   * made. Waits for it to exist; undefined if the host ended first.
   */
  async initPid(timeoutMs = 20_000): Promise<number | undefined> {
    if (this.#initPid !== undefined) return this.#initPid;
    const end = Date.now() + timeoutMs;
    while (!this.#exited && Date.now() < end) {
      const outer = this.child.pid;
      if (outer !== undefined) {
        for (const pid of childrenOf(outer)) {
          const ns = nsPids(pid);
          if (ns.length >= 2 && ns[ns.length - 1] === 1) return (this.#initPid = pid);
        }
      }
      await sleep(10);
    }
    return undefined;
  }

  /** Pids (inside the host) of its processes, once they started (read from the script's files). */
  innerPids(): (number | undefined)[] {
    return this.options.processes.map((_, i) => {
      const path = join(this.options.dir, `${this.name}.${i}.pid`);
      const text = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
      return text === '' ? undefined : Number(text);
    });
  }

  /**
   * kill -9 of the whole host: SIGKILL to its init from outside (the kernel then kills every
   * process of the namespace), and waits until all are gone. Returns the time just before the
   * signal was sent (ms since epoch), when the host's processes stopped doing anything.
   */
  async kill9(): Promise<number> {
    const init = await this.initPid();
    if (init === undefined) throw new Error(`host ${this.name} ended before it could be killed`);
    this.#killed = true;
    const at = Date.now();
    process.kill(init, 'SIGKILL');
    await this.done;
    return at;
  }

  /** For cleanup: kills the host if it still runs (by its init's pid, else unshare's) and waits for it. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    this.#killed = true;
    const init = this.#initPid ?? (await this.initPid(2000));
    try {
      if (init !== undefined && !this.#exited) process.kill(init, 'SIGKILL');
    } catch {
      // gone already
    }
    if (!this.#exited) this.child.kill('SIGKILL');
    await Promise.race([this.done.catch(() => undefined), sleep(20_000)]);
  }
}
