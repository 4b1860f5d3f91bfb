/**
 * The `jug` command. Parses arguments with commander (the grammar: program.ts), runs one
 * subcommand, and maps every error to an exit code in this one place: usage errors 2, failures 1,
 * signals 130 / 143.
 */
import { CommanderError } from 'commander';
import { JugError, JugfileError, describeError } from '../errors.js';
import { buildProgram } from './program.js';
import { earlyDrain } from './signal-handling.js';

/** Runs the CLI with `argv` (without `node` and the script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // First: SIGUSR1 drains `jug execute`, and never starts Node's inspector (signal-handling.ts).
  earlyDrain();
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
