/**
 * The `jug` command. Parses arguments with commander, runs one subcommand, and maps every error
 * to an exit code in this one place: usage errors 2, failures 1, signals 130 / 143.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { JugError, JugfileError, describeError } from '../errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function number(min: number, integer: boolean): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} ≥ ${min}, got '${v}'.`);
    }
    return n;
  };
}

const JUGFILE_HELP = 'the jugfile (.ts, .mts, .js, .mjs); default: jugfile.ts / .mts / .js / .mjs in the current directory';

function common(cmd: Command): Command {
  return cmd
    .argument('[jugfile]', JUGFILE_HELP)
    .option('--jugdir <dir>', 'where results and locks are stored (default: <jugfile without extension>.jugdata)')
    .option('-v, --verbose', 'log each task as it starts, and waits for other processes')
    .addOption(
      new Option(
        '--lock-lease <seconds>',
        'a lock held on another host whose heartbeat is older than this is stale and taken over (0: never)',
      )
        .argParser(number(0, false))
        .default(300),
    );
}

/** Builds the command-line program; `setCode` receives each subcommand's exit code. */
export function buildProgram(setCode: (code: number) => void): Command {
  const program = new Command('jug')
    .description(
      'Task-based parallelization: declare lazy tasks in a jugfile, then run them from any number of ' +
        'processes or threads; results are stored under the hash of their computation, so runs resume.',
    )
    .version(pkg.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  common(
    program
      .command('execute')
      .description('run every task whose result is not stored yet, dependencies first')
      .option('--keep-going', 'after a task fails, continue with tasks that do not depend on it')
      .option('--keep-failed', "leave a failed task's lock marked failed, so no process retries it until `jug cleanup`")
      .option('--target <pattern>', "only run tasks whose name matches (and what they need): 'primes.isPrime', 'isPrime', 'primes.*', '/regex/'")
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
        new Option('-j, --threads <n>', 'run tasks in N worker threads of this process (mixes safely with other jug processes)')
          .argParser(number(1, true)),
      )
      .addOption(
        new Option('--max-old-generation-size-mb <mib>', 'heap limit per worker thread (with --threads); a task exceeding it fails')
          .argParser(number(16, true)),
      )
      .option('-q, --quiet', 'no progress display')
      .option('--short', 'print one summary line per column instead of the table'),
  ).action(async (jugfile: string | undefined, opts: Record<string, unknown>) => setCode(await (await import('./commands/execute.js')).execute(jugfile, opts)));

  common(
    program
      .command('status')
      .description('show how many tasks are waiting, ready, finished, running and failed')
      .option('--short', 'one line instead of the table'),
  ).action(async (jugfile: string | undefined, opts: Record<string, unknown>) => setCode(await (await import('./commands/status.js')).status(jugfile, opts)));

  common(program.command('check').description('exit 0 if every task is finished, 1 otherwise (prints nothing)')).action(
    async (jugfile: string | undefined, opts: Record<string, unknown>) => setCode(await (await import('./commands/check.js')).check(jugfile, opts)),
  );

  common(
    program
      .command('sleep-until')
      .description('wait until every task is finished (by other processes), past every barrier; exit 1 if one is marked failed')
      .addOption(new Option('--poll <seconds>', 'seconds between two checks').argParser(number(0.01, false)).default(5))
      .option('-q, --quiet', 'print nothing while waiting'),
  ).action(async (jugfile: string | undefined, opts: Record<string, unknown>) =>
    setCode(await (await import('./commands/sleep-until.js')).sleepUntil(jugfile, opts)),
  );

  return program;
}

/** Runs the CLI with `argv` (without `node` and the script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    return exitCodeFor(e);
  }
}

/** The single place that turns errors into messages and exit codes. */
function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander already printed the message (or the help / version).
    return e.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof JugError) {
    if (e.message) process.stderr.write(`jug: ${e.message}\n`);
    if (e instanceof JugfileError && process.env['JUG_DEBUG'] && e.cause instanceof Error) {
      process.stderr.write(`${e.cause.stack}\n`);
    }
    return e.exitCode;
  }
  process.stderr.write(
    `jug: internal error: ${describeError(e)}\n${e instanceof Error ? e.stack : ''}\n` +
      'This is a bug in jug; please report it with the command you ran.\n',
  );
  return 70;
}
