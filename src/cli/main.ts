/**
 * The `jug` command. Parses arguments with commander (the grammar: program.ts), runs one
 * subcommand, and maps every error to an exit code in this one place: usage errors 2, failures 1,
 * signals 130 / 143.
 */
import { CommanderError } from 'commander';
import { JugError, JugfileError, describeError } from '../errors.js';
import { taskCodeRanHere } from '../executors/main-thread-code.js';
import { buildProgram } from './program.js';
import { earlyDrain } from './signal-handling.js';

/**
 * The commands after which the process ends at once ({@link endsAtOnce}): they read the store, print
 * and close it, and leave nothing running. Otherwise Node runs V8's pending garbage-collection work
 * before it exits (~20–40 ms after a `check` of 50,000 tasks: a heap holding every declared task),
 * and a timer or socket the jugfile left open (a database client made at load) keeps them from
 * ending at all. `jug execute --threads N` too: its task code ran in threads that are gone by then
 * (its pool is closed, every result committed and the store closed), and the natural exit spent
 * another ~30–45 ms tearing the process down (docs/design.md, "The end of a run"). A serial
 * `execute`, and one with `--threads` where tasks ran in the main thread all the same (probes and
 * tiny tasks), ends at once only if nothing is left running ({@link nothingLeftRunning}); otherwise
 * it exits naturally, so work a task started here without awaiting it (a write, a request, a
 * timer) is left to finish.
 */
const ENDS_AT_ONCE: ReadonlyMap<string, (options: Record<string, unknown>) => boolean> = new Map<string, (options: Record<string, unknown>) => boolean>([
  ['check', () => true],
  ['status', () => true],
  // Task code ran only in threads now gone (main-thread-code.ts), or nothing is left to finish here.
  ['execute', (options) => (options['threads'] !== undefined && !taskCodeRanHere()) || nothingLeftRunning()],
]);

/** How process.getActiveResourcesInfo() names stdout, stderr and stdin when they are pipes or terminals. */
const STDIO_RESOURCES: ReadonlySet<string> = new Set(['PipeWrap', 'TTYWrap']);

/**
 * Whether a natural exit would only tear the process down: nothing active but the standard streams
 * (no timer, immediate, socket, child process or file request that a task or the jugfile started
 * and did not await), and no 'beforeExit' listener, which only a natural exit calls.
 */
export function nothingLeftRunning(): boolean {
  if (process.listenerCount('beforeExit') > 0) return false;
  let stdio = 0;
  for (const r of process.getActiveResourcesInfo()) if (!STDIO_RESOURCES.has(r) || ++stdio > 3) return false;
  return true;
}

/** The subcommand that ran to its end in the last main() call, if it is one that ends at once. */
let finished: string | undefined;

/** Runs the CLI with `argv` (without `node` and the script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // First: SIGUSR1 drains `jug execute`, and never starts Node's inspector (signal-handling.ts).
  earlyDrain();
  finished = undefined;
  let code = 0;
  const program = buildProgram((c) => (code = c));
  program.hook('postAction', (_program, actionCommand) => {
    const endsHere = ENDS_AT_ONCE.get(actionCommand.name());
    finished = endsHere?.(actionCommand.opts()) === true ? actionCommand.name() : undefined;
  });
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

/**
 * Whether the process may end as soon as main() has resolved (bin/jug.js then calls
 * {@link endProcess}): the command that ran is one of ENDS_AT_ONCE and it ran to its end.
 */
export function endsAtOnce(): boolean {
  return finished !== undefined;
}

/** Ends the process with `code` once what it wrote to stdout and stderr is out. */
export async function endProcess(code: number): Promise<never> {
  // Files, pipes and terminals are written synchronously on Linux; elsewhere a pipe may still hold some.
  for (const stream of [process.stdout, process.stderr]) {
    // (A reader gone, EPIPE, ends the wait too: there is nothing left to deliver then.)
    if (stream.writableLength > 0) await new Promise((resolve) => ['drain', 'error', 'close'].forEach((e) => stream.once(e, resolve)));
  }
  process.exit(code);
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
