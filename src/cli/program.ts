/**
 * The command line's grammar: every subcommand with its options and help, built with commander.
 * Each command's action loads its module (src/cli/commands/<name>) only when it runs. main.ts runs
 * the program and maps errors to exit codes.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { registry } from '../registry.js';
import { MIN_LEASE_MS } from '../store/lock-owner.js';
import type { ProgressChoice } from './progress/index.js';

const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

/** A parser of decimal numbers (integers: digits only, so no `1e1` or `0x2`) from `min` to `max`. */
function number(min: number, integer: boolean, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const text = v.trim();
    const n = Number(text);
    const decimal = integer ? /^\d+$/.test(text) : /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text);
    if (!decimal || !Number.isFinite(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} ${range}, got '${v}'.`);
    }
    return n;
  };
}

/** `--threads`: a number of threads, or `auto` (resolved by `jug execute`: available-cpus.ts). */
function threadCount(v: string): number | 'auto' {
  if (v.trim() === 'auto') return 'auto';
  try {
    return number(1, true, MAX_THREADS)(v);
  } catch {
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_THREADS}, or auto, got '${v}'.`);
  }
}

/** `--lock-lease`: 0 (never) or at least MIN_LEASE_MS, so that several heartbeats fit in it. */
function lease(v: string): number {
  const n = number(0, false)(v);
  if (n > 0 && n * 1000 < MIN_LEASE_MS) {
    throw new InvalidArgumentError(
      `expected 0 (never) or at least ${MIN_LEASE_MS / 1000} seconds, got '${v}': a shorter lease would take over locks of live processes on other hosts.`,
    );
  }
  return n;
}

/** Most worker threads one process may run (`--threads`). */
const MAX_THREADS = 1024;

const CONFIG_HELP = `
Configuration files give defaults to any option (the command line wins): .jugrc or jugrc in the
current directory and its parents up to the git root (closer wins), then ~/.config/jug/jugrc.
INI format, keys as on the command line:
  [main]
  jugfile = pipeline.ts      (used when none is named; relative to this file's directory)
  jugdir = results.jugdata
  [execute]
  wait-cycle-time = 5
  keep-going = yes
A flag a file turns on is turned off for one run with its --no- form: jug execute --no-keep-going.`;

const SIGNALS_HELP = `
Signals:
  SIGINT (Ctrl-C), SIGTERM  take no new task, let running ones finish (results stored, locks
                            released), exit 130 / 143; a second one aborts the running tasks
                            (their locks released, nothing partial stored)
  SIGUSR1                   graceful drain: take no new task, let running ones finish, release
                            everything, exit 0 (1 if a task failed); a SIGINT / SIGTERM after it
                            aborts. Batch schedulers send it ahead of a time limit (jug submit asks
                            Slurm for --signal=B:USR1@<margin>); kill -USR1 <pid> ends a worker cleanly.`;

const JUGFILE_HELP = 'the jugfile (.ts, .mts, .js, .mjs); default: jugfile.ts / .mts / .js / .mjs in the current directory';

const ARGS_HELP =
  'arguments for the jugfile, which sees them as process.argv.slice(2) (as `node jugfile` would); put -- before them if one starts with -';

function common(cmd: Command): Command {
  return cmd
    .argument('[jugfile]', JUGFILE_HELP)
    .argument('[args...]', ARGS_HELP)
    .option(
      '--jugdir <dir>',
      'where results and locks are stored: a directory (default: <jugfile without extension>.jugdata; %(jugfile)s and %(date)s are replaced as in Python Jug) or redis://[user:password@]host[:port][/db][?prefix=NAME] (rediss:// for TLS; password also from JUG_REDIS_PASSWORD)',
    )
    .option('--will-cite', 'accepted for Python Jug compatibility (jug prints no citation banner)')
    .option('-v, --verbose', 'more detail on stderr (execute: log each task as it starts and as it ends, with its arguments, duration and thread, and each wait for tasks other processes hold)')
    .addOption(
      new Option(
        '--lock-lease <seconds>',
        'a lock held on another host whose heartbeat is older than this is stale and taken over (0: never; else at least 10; running processes beat every 2 s)',
      )
        .argParser(lease)
        .default(300),
    );
}

/** `path` relative to the current directory when it can be, as if typed (for %(jugfile)s in --jugdir). */
function asTyped(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || isAbsolute(rel) ? path : rel;
}

/**
 * Before any command runs: passes the jugfile's own arguments on, and fills options left unset on the
 * command line from .jugrc / jugrc / ~/.config/jug/jugrc (config.ts).
 */
async function applyConfigFiles(program: Command, actionCommand: Command): Promise<void> {
  // The jugfile's own arguments (after the jugfile): it sees them in process.argv on every load.
  // (`jug why <task> [jugfile] [args...]` has one positional before them.)
  const at = Math.max(0, actionCommand.registeredArguments.findIndex((a) => a.name() === 'jugfile'));
  const args = actionCommand.processedArgs[at + 1] as string[] | undefined;
  if (Array.isArray(args)) registry().jugfileArgs = args;
  const { applyConfig, configJugfile, loadConfig, takesJugfile } = await import('./config.js');
  const files = loadConfig(process.cwd(), process.env);
  applyConfig(program, actionCommand, files, (m) => process.stderr.write(`jug: warning: ${m}\n`));
  // No jugfile on the command line: `jugfile = …` of a configuration file names it.
  if (takesJugfile(actionCommand) && actionCommand.processedArgs[at] === undefined) {
    const path = configJugfile(files, actionCommand.name(), process.cwd());
    if (path !== undefined) actionCommand.processedArgs[at] = asTyped(path);
  }
}

/** Receives the exit code of the subcommand that ran. */
type SetCode = (code: number) => void;

/** Builds the command-line program; `setCode` receives each subcommand's exit code. */
export function buildProgram(setCode: SetCode): Command {
  const program = new Command('jug')
    .description(
      'Task-based parallelization: declare lazy tasks in a jugfile, then run them from any number of ' +
        'processes or threads; results are stored under the hash of their computation, so runs resume.',
    )
    .version(pkg.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', CONFIG_HELP)
    // Options left unset on the command line come from .jugrc / jugrc / ~/.config/jug/jugrc.
    .hook('preAction', async (_program, actionCommand) => applyConfigFiles(program, actionCommand));
  addExecuteCommand(program, setCode);
  addSubmitCommand(program, setCode);
  addStatusCommand(program, setCode);
  addWhyCommand(program, setCode);
  addCheckCommand(program, setCode);
  addSleepUntilCommand(program, setCode);
  addInvalidateCommand(program, setCode);
  addCleanupCommand(program, setCode);
  addCountCommand(program, setCode);
  addPackCommand(program, setCode);
  addCopyCommand(program, setCode);
  addDemoCommand(program, setCode);
  addShellCommand(program, setCode);
  addGraphCommand(program, setCode);
  addWebstatusCommand(program, setCode);
  addNegations(program);
  return program;
}

/** `jug execute`'s options for failing tasks: retries and the time limit of each attempt. */
function addRetryOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--retries <n>',
        'run a task that throws up to N more times in this run (holding its lock), waiting --retry-delay, then twice as long each time; ' +
          "a task's own { retries } wins; failures of jug itself (the store) are not retried",
      )
        .argParser(number(0, true, 1000))
        .default(0),
    )
    .addOption(
      new Option('--retry-delay <seconds>', 'wait before the first retry (doubled for each further one)')
        .argParser(number(0, false))
        .default(1),
    )
    .addOption(
      new Option(
        '--timeout <seconds>',
        "time limit of each task attempt (a task's own { timeoutMs } wins): at the limit its taskSignal() is aborted; with --threads a task " +
          'still running 1 s later is stopped by terminating its thread, and fails "timed out" (or is retried). Without --threads a ' +
          'synchronous task cannot be stopped (it runs to its end) and an async one is abandoned',
      ).argParser(number(0.001, false)),
    );
}

/** `jug execute`. */
function addExecuteCommand(program: Command, setCode: SetCode): void {
  const cmd = program
    .command('execute')
    .description('run every task whose result is not stored yet, dependencies first')
    .option('--keep-going', 'after a task fails, continue with tasks that do not depend on it')
    .option(
      '--keep-failed',
      "leave a failed task's lock marked failed, with a record of the failure (`jug status --failed`), so no process " +
        'retries it until `jug execute --retry-failed` or `jug cleanup --failed-only`',
    )
    .option(
      '--target <pattern>',
      "only run the tasks whose name matches (and what they need): 'primes.isPrime', 'isPrime', 'primes.*', '/regex/'; " +
        'or one task by its hash or a unique hash prefix (at least 6 hex characters)',
    )
    .option(
      '--rerun-outdated',
      'first remove the stored results computed by code that has changed since (`jug status --outdated`) and everything ' +
        'that depends on them, then run: they are computed again. Without it stored results are never recomputed ' +
        '(a line says when some are outdated). In a jugrc: rerun-outdated = yes',
    )
    .option(
      '--retry-failed',
      'first remove the failure marks (left by --keep-failed) of the selected tasks, so they run again; ' +
        'no result is removed, no running task is touched',
    )
    .addOption(
      new Option('--wait-cycle-time <seconds>', 'longest back-off while waiting for tasks other processes hold')
        .argParser(number(0, false))
        .default(12),
    )
    .addOption(
      new Option('--nr-wait-cycles <n>', 'give up after this many waits in a row without progress')
        .argParser(number(0, true))
        .default(150),
    )
    .addOption(
      new Option(
        '-j, --threads <n>',
        'run tasks in N worker threads of this process (mixes safely with other jug processes); auto: as many as the CPUs ' +
          'this process may use (the smallest of SLURM_CPUS_PER_TASK, the cgroup CPU quota and the CPU affinity; -v says which)',
      ).argParser(threadCount),
    )
    .addOption(
      new Option('--max-old-generation-size-mb <mib>', 'heap limit per worker thread (with --threads); a task exceeding it fails')
        .argParser(number(16, true)),
    )
    .option('-q, --quiet', 'no progress display (as --progress none)')
    .addOption(
      new Option(
        '--progress <mode>',
        'progress on stderr: auto (on a terminal one line redrawn in place, else a plain line every 10 s, JUG_PROGRESS_INTERVAL), ' +
          'names (as auto, plus one line per task name: finished/total, running, rate, ETA), lines (plain lines even on a terminal), none',
      )
        .choices(['auto', 'names', 'lines', 'none'] satisfies ProgressChoice[])
        .default('auto'),
    );
  addRetryOptions(cmd)
    .option('--short', 'print one summary line per column instead of the table')
    .option('--debug', 'fail any task that changes its arguments in place (checked by hashing them before and after it runs)')
    .option('--aggressive-unload', 'keep no result in memory between tasks (by default a large typed array a task returned is kept for the first task that reads it)')
    .option('--no-check-environment', 'ignore the JUG_MAX_TASKS, JUG_MAX_HOURS/MINUTES/SECONDS and JUG_EXIT_IF_FILE_EXISTS exit checks')
    .addHelpText('after', SIGNALS_HELP);
  common(cmd).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) => {
    // With threads, load the executor's modules alongside the command's: starting threads comes
    // first in execute. (Piscina itself loads when a pool starts: pool-start.ts.)
    if (opts['threads'] !== undefined) import('../executors/thread-pool.js').catch(() => {});
    setCode(await (await import('./commands/execute/index.js')).execute(jugfile, opts));
  });
}

/** `jug submit`. */
function addSubmitCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('submit')
      .summary('run the jugfile on a batch scheduler (Slurm) as a job array of `jug execute` workers')
      .description(
        'write a job-array script to <jugdir>/jobs/ whose workers each run `jug execute` on the jugfile (absolute paths, ' +
          'logs next to the script), submit it with sbatch, and print the job id and how to watch and cancel it. ' +
          'Workers drain (SIGUSR1) ahead of the time limit; after a cancelled or timed-out job, submit again',
      )
      .addOption(new Option('--workers <n>', 'how many workers (array tasks), each one `jug execute` process').argParser(number(1, true, 1_000_000)))
      .addOption(
        new Option(
          '-j, --threads <n>',
          'threads of each worker (its --cpus-per-task); auto: as many as the CPUs Slurm gives it (SLURM_CPUS_PER_TASK; set ' +
            'them with --sbatch-arg=--cpus-per-task=N or the cluster default) (default: 1)',
        ).argParser(threadCount),
      )
      .option('--time <limit>', "time limit of each worker, as Slurm takes it: HH:MM:SS, MM, D-HH:MM:SS (at least 0:01:00; default: the partition's)")
      .option('--mem <size>', 'memory of each worker: 4G, 500M, 2048 (MiB)')
      .option('--partition <name>', 'Slurm partition (default: the cluster default)')
      .option('--account <name>', 'Slurm account to charge')
      .addOption(
        new Option('--sbatch-arg <arg>', 'one more sbatch option for the script, e.g. --sbatch-arg=--qos=high (repeatable)').argParser(
          (v: string, prev: unknown) => [...(Array.isArray(prev) ? (prev as string[]) : []), v],
        ),
      )
      .addOption(
        new Option(
          '--drain-margin <seconds>',
          'ask for SIGUSR1 this long before the time limit, so running tasks can finish (default: a third of --time, at most 120; ' +
            'Slurm may send it up to 30 s earlier)',
        ).argParser(number(1, true)),
      )
      .option('-n, --dry-run', 'print the script; write and submit nothing')
      .option('--wait', 'wait until the job ends, showing progress from the store, then print `jug status`; exit 0 if every task finished, else 1')
      .addOption(new Option('--poll <seconds>', 'with --wait: seconds between two looks at the queue and the store').argParser(number(0.01, false, 86_400)).default(10))
      .option('-q, --quiet', 'with --wait: no progress lines')
      .addOption(new Option('--scheduler <name>', 'the batch scheduler').choices(['slurm']).default('slurm'))
      .addHelpText(
        'after',
        '\nExamples:\n  jug submit primes.ts --workers 8 --threads 4 --time 2:00:00 --mem 8G\n' +
          '  jug submit primes.ts --workers 20 --partition short --wait\n  jug submit primes.ts --workers 4 --dry-run > job.sh\n' +
          'Options of `jug execute` for the workers go in a jugrc [execute] section: they run in this directory.',
      ),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) =>
    setCode(await (await import('./commands/submit/index.js')).submit(jugfile, opts)),
  );
}

/** `jug status`. */
function addStatusCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('status')
      .description('show how many tasks are waiting, ready, finished, running and failed')
      .option('--short', 'one line instead of the table')
      .addOption(
        new Option(
          '--failed',
          'list the failed tasks (failure marks left by --keep-failed), one block each: name, hash, arguments, where and when it failed, the first lines of the error',
        ).conflicts('short'),
      )
      .addOption(
        new Option(
          '--outdated',
          'list, per task function whose code changed since its results were computed, how many results are outdated and where the change is (file:line)',
        ).conflicts(['short', 'failed']),
      )
      .addOption(
        new Option(
          '--json',
          'print one JSON document instead of the table: counts per task name (waiting, ready, running, finished, failed, stale), ' +
            'the running tasks, the failures and the totals (schema in the README); with --timing, the timing as JSON',
        ).conflicts(['short', 'failed']),
      )
      .addOption(
        new Option(
          '--timing',
          'how long tasks took, from the run records `jug execute` keeps: per task name the finished count and total, median and max ' +
            'duration, the 10 slowest tasks with their arguments, and per host the tasks and busy time',
        ).conflicts(['short', 'failed']),
      ),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) =>
    setCode(await (await import('./commands/status/index.js')).status(jugfile, opts)),
  );
}

/** `jug why`. */
function addWhyCommand(program: Command, setCode: SetCode): void {
  program
    .command('why')
    .summary("say a task's state and why: stored, outdated, waiting on what, ready, running where, failed with what")
    .description(
      'say, in plain words, the state of one task and the reason: stored (when, on which host, how long it took), ' +
        'outdated (which function changed since, and where) or downstream of outdated results, waiting (on which ' +
        'dependencies), ready, running (on which host, since when), failed (with which error), a stale lock of a dead ' +
        'process, or not known yet because the jugfile stops at a barrier before it',
    )
    .argument(
      '<task>',
      "the task: name(args) as jug prints them ('primes.isPrime(7)' or 'isPrime(7)'), a name only one task has, " +
        'or a task hash or a unique prefix of one (at least 6 hex characters)',
    )
    .addHelpText('after', '\nExamples:\n  jug why \'isPrime(7)\' primes.ts\n  jug why 3fa2c1 primes.ts\n  jug why primes.countPrimes');
  common(program.commands.at(-1)!).action(async (task: string, jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) =>
    setCode(await (await import('./commands/why/index.js')).why(jugfile, task, opts)),
  );
}

/** `jug check`. */
function addCheckCommand(program: Command, setCode: SetCode): void {
  common(program.command('check').description('exit 0 if every task is finished, 1 otherwise (prints nothing)')).action(
    async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) => setCode(await (await import('./commands/check.js')).check(jugfile, opts)),
  );
}

/** `jug sleep-until`. */
function addSleepUntilCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('sleep-until')
      .description('wait until every task is finished (by other processes), past every barrier; exit 1 if one is marked failed')
      .addOption(new Option('--poll <seconds>', 'seconds between two checks').argParser(number(0.01, false, 86_400)).default(5))
      .option('-q, --quiet', 'print nothing while waiting'),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) =>
    setCode(await (await import('./commands/sleep-until.js')).sleepUntil(jugfile, opts)),
  );
}

/** `jug invalidate`. */
function addInvalidateCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('invalidate')
      .summary('remove the results of matching tasks and of everything that depends on them')
      .description(
        'remove the results of the tasks matching --target (or the outdated results, --outdated) and of every task that ' +
          'depends on them (transitively), so the next `jug execute` computes them again; also clears their failure marks',
      )
      .option(
        '--target <pattern>',
        "task names to invalidate: 'primes.isPrime', 'isPrime', 'primes.*', '/regex/'; or one task by its hash or a unique hash prefix (at least 6 hex characters)",
      )
      .option(
        '--outdated',
        'the results computed by code that has changed since (`jug status --outdated` lists them; with --target: only among those tasks), ' +
          'and everything that depends on them',
      )
      .option('--short', 'one line instead of the table')
      .option(
        '--ignore-barrier',
        'invalidate even though the jugfile stops at a barrier() (results after it that depend on the matched tasks are then kept)',
      )
      .addHelpText(
        'after',
        '\nExamples:\n  jug invalidate primes.ts --target isPrime        # every primes.isPrime task, countPrimes, writeOutput\n' +
          "  jug invalidate primes.ts --target '/^primes\\.(count|write)/'\n" +
          '  jug invalidate primes.ts --outdated               # results of changed code, and what depends on them',
      ),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) =>
    setCode(await (await import('./commands/invalidate.js')).invalidate(jugfile, opts)),
  );
}

/** `jug cleanup`. */
function addCleanupCommand(program: Command, setCode: SetCode): void {
  const exclusive = ['locks-only', 'failed-only', 'keep-locks', 'stale'];
  const camel = (flag: string): string => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const only = (flag: string, help: string): Option =>
    new Option(`--${flag}`, help).conflicts(exclusive.filter((f) => f !== flag).map(camel));
  common(
    program
      .command('cleanup')
      .summary('remove results no task uses, failure marks and stale locks')
      .description(
        'remove stored results no task of the jugfile uses, failure marks and stale locks (holder gone); ' +
          "never a running task's lock, and never a file that is not jug's own",
      )
      .addOption(only('locks-only', 'only locks (failure marks and stale locks); keep every result'))
      .addOption(only('failed-only', 'only failure marks (locks left by --keep-failed), so those tasks run again'))
      .addOption(only('stale', 'only locks whose holder is gone (a dead process on this host; on another host, no heartbeat within --lock-lease)'))
      .addOption(only('keep-locks', 'only results; keep every lock'))
      .option(
        '--target <pattern>',
        'with --failed-only: only the failure marks of these tasks (a name pattern as for execute, a task hash, or a unique hash prefix)',
      )
      .option('-n, --dry-run', 'list what would be removed; remove nothing')
      .addHelpText(
        'after',
        '\nOnly jug\'s own files are removed: results named by a task hash that no task of the jugfile has, and\n' +
          'lock files. A lock is removed only when it is a failure mark or its holder is gone (stale).\n' +
          'If the jugfile stops at a barrier() that is not passed yet, results are kept (tasks after the\n' +
          'barrier are unknown, so their results would look unused) and the exit status is 1.',
      ),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) => setCode(await (await import('./commands/cleanup.js')).cleanup(jugfile, opts)));
}

/** `jug count`. */
function addCountCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('count')
      .summary('count the tasks of each name')
      .description('count the tasks of each name the jugfile declares (reads no results)')
      .option('--short', 'one line instead of the table'),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) => setCode(await (await import('./commands/count.js')).count(jugfile, opts)));
}

/** `jug pack`. */
function addPackCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('pack')
      .summary('move small result files into a pack (a few files), for NFS and Lustre')
      .description(
        'move the small result files of the jugdir into a pack: a few data files and an index under <jugdir>/packs, ' +
          'for filesystems where many small files are slow (NFS, Lustre). Every command reads packed results as before.',
      )
      .addOption(
        new Option('--max-size <bytes>', 'result files larger than this stay loose files').argParser(number(0, true, 0xffff_ffff)).default(65536),
      )
      .addHelpText(
        'after',
        '\nSafe while `jug execute` runs on the same jugdir (from any host): a result stays readable while it\n' +
          'moves, new results keep going to loose files, and a loose file wins over a packed copy. Run it again\n' +
          'to pack what was computed since; `jug invalidate` and `jug cleanup` remove packed results too.\n' +
          'Corrupt result files are left loose (`jug execute` sets them aside and computes them again).\n' +
          'Only one `jug pack` (or removal of packed results) works at a time: others wait for it.',
      ),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) => setCode(await (await import('./commands/pack/index.js')).pack(jugfile, opts)));
}

/** `jug copy`. */
function addCopyCommand(program: Command, setCode: SetCode): void {
  program
    .command('copy')
    .summary('copy results from one store to another')
    .description(
      'copy every result of one store into another — each a jugdir path or a redis:// URL — verifying each ' +
        "result's checksum and skipping those the target already has (the source is only read), so that a run can " +
        'move, e.g. from a laptop jugdir to Redis, and resume there',
    )
    .requiredOption('--from <store>', 'the store to copy from (jugdir path or redis://[user:password@]host[:port][/db][?prefix=NAME])')
    .requiredOption('--to <store>', 'the store to copy into (same forms)')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (opts: Record<string, unknown>) =>
      setCode(await (await import('./commands/copy/index.js')).copy(opts as { from: string; to: string; quiet?: boolean })),
    );
}

/** `jug demo`. */
function addDemoCommand(program: Command, setCode: SetCode): void {
  program
    .command('demo')
    .summary('create an example jugfile in jug-demo/')
    .description('create jug-demo/primes.ts, an example jugfile, and print what to run (does nothing if jug-demo exists: exit 1)')
    .option('--dir <dir>', 'directory to create instead of jug-demo')
    .action(async (opts: Record<string, unknown>) => setCode(await (await import('./commands/demo.js')).demo(opts)));
}

/** `jug shell`. */
function addShellCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('shell')
      .summary('a Node REPL with the jugfile loaded')
      .description(
        "a Node REPL with the jugfile loaded: its exports in scope, plus value(x), invalidate(x), getTasks(), loadAll(); top-level await works",
      ),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) => setCode(await (await import('./commands/shell.js')).shell(jugfile, opts)));
}

/** `jug graph`. */
function addGraphCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('graph')
      .summary('draw the graph of task names (DOT, Mermaid, SVG, PNG) with status counts')
      .description(
        'draw the graph of task names (an edge where tasks of one name use results of another) with status counts: ' +
          'writes <jugfile>.dot, .mmd (Mermaid) and .svg (by Graphviz `dot` when installed, else by the Graphviz ' +
          'compiled to WebAssembly that jug ships)',
      )
      .addOption(
        new Option(
          '--format <formats>',
          'comma-separated (or repeated) formats among dot, mermaid, svg, png; png needs Graphviz `dot` ' +
            '(default: dot,mermaid,svg)',
        ).argParser((v: string, prev: unknown) => parseGraphFormats(v, prev)),
      )
      .option('-o, --output <path>', 'output path without extension (default: the jugfile path without extension)')
      .option('--no-status', 'names only, no status counts or colours (does not read the store)')
      .addHelpText(
        'after',
        '\nExamples:\n  jug graph primes.ts                  # primes.dot, primes.mmd, primes.svg\n' +
          '  jug graph primes.ts --format png -o /tmp/g   # /tmp/g.dot and /tmp/g.png\n' +
          'Node colours: red = some failed, yellow = some running, green = all finished, blue = some ready, grey = waiting.',
      ),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) => setCode(await (await import('./commands/graph.js')).graph(jugfile, opts)));
}

/** `jug webstatus`. */
function addWebstatusCommand(program: Command, setCode: SetCode): void {
  common(
    program
      .command('webstatus')
      .summary('a live page of the run in a browser (status, progress, running tasks, failures, timeline, graph)')
      .description(
        'serve a live page of the run: the status table per task name with progress bars, rate and ETA, the running tasks, ' +
          'the failures with their errors, recent completions, a timeline of task runs per host and thread, durations per ' +
          'task name and the graph of task names coloured by state; updated about once a second while the run goes on ' +
          '(it follows barriers and a changed jugfile). Read-only; needs no network (everything is served from jug itself)',
      )
      .option('--host <address>', 'address to listen on; anything but 127.0.0.1 / ::1 shows task arguments and errors to whoever reaches it', '127.0.0.1')
      .addOption(new Option('--port <port>', 'port to listen on (0: any free port)').argParser(number(0, true, 65535)).default(8080))
      .option('--open', 'open the page in the default browser (xdg-open / open / start)')
      .addOption(new Option('--interval <seconds>', 'seconds between looks at the store').argParser(number(0.2, false, 3600)).default(1))
      .addHelpText(
        'after',
        '\nExamples:\n  jug webstatus primes.ts --open         # http://127.0.0.1:8080/ in your browser\n' +
          '  ssh -L 8080:127.0.0.1:8080 cluster-login   # then run it there and open http://127.0.0.1:8080/ here\n' +
          'Ctrl-C stops the server. A port in use is an error (exit 1): choose another with --port.',
      ),
  ).action(async (jugfile: string | undefined, _args: string[], opts: Record<string, unknown>) => setCode(await (await import('./commands/webstatus/index.js')).webstatus(jugfile, opts)));
}


/**
 * Gives every flag of every command a hidden `--no-<flag>`, so that a flag a configuration file
 * turns on (`keep-going = yes`) can be turned off for one run: the command line wins over files.
 */
function addNegations(program: Command): void {
  for (const cmd of program.commands) {
    for (const o of [...cmd.options]) {
      const long = o.long;
      if (long === undefined || o.required || o.optional || o.negate || long === '--help' || long === '--version') continue;
      const negation = `--no-${long.slice(2)}`;
      if (cmd.options.some((x) => x.long === negation)) continue;
      cmd.addOption(new Option(negation, `turn ${long} off (set in a configuration file)`).hideHelp());
    }
  }
}

const GRAPH_FORMATS = ['dot', 'mermaid', 'svg', 'png'];

/** `--format` of `jug graph`: comma-separated, repeatable, `mmd` accepted for mermaid. */
function parseGraphFormats(value: string, previous: unknown): string[] {
  const out = Array.isArray(previous) ? [...(previous as string[])] : [];
  for (const raw of value.split(',')) {
    const f = raw.trim().toLowerCase() === 'mmd' ? 'mermaid' : raw.trim().toLowerCase();
    if (f === '') continue;
    if (!GRAPH_FORMATS.includes(f)) throw new InvalidArgumentError(`unknown format '${raw.trim()}'; expected ${GRAPH_FORMATS.join(', ')}.`);
    if (!out.includes(f)) out.push(f);
  }
  return out;
}

