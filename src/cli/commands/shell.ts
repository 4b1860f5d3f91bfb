/**
 * `jug shell`: a Node REPL with the jugfile loaded. The jugfile's exports are in scope, with
 * `value()`, `invalidate()`, `getTasks()`, `loadAll()` and `jugfile` (the exports object).
 * Top-level `await` works, and a Promise an expression returns is awaited before it is printed.
 */
import { createInterface } from 'node:readline';
import repl, { type REPLEval } from 'node:repl';
import { PassThrough } from 'node:stream';
import { types } from 'node:util';
import { describeError } from '../../errors.js';
import type { TaskGraph } from '../../graph.js';
import { Task, Tasklet, isPlainObject } from '../../task.js';
import { userStack } from '../../stack.js';
import { value } from '../../value.js';
import { openProject, taskMatcher, type CommonOptions } from '../common.js';
import { countNames, invalidate as invalidateTasks, runningWarning } from '../invalidation.js';

/** The Tasks in `x` (a Tasklet stands for its base Task), through arrays, plain objects, Maps and Sets. */
export function tasksIn(x: unknown, out: Task[] = [], seen = new Set<unknown>()): Task[] {
  if (typeof x !== 'object' || x === null || seen.has(x)) return out;
  seen.add(x);
  if (x instanceof Task) out.push(x);
  else if (x instanceof Tasklet) tasksIn(x.base, out, seen);
  else if (Array.isArray(x) || x instanceof Set) for (const e of x) tasksIn(e, out, seen);
  else if (x instanceof Map) for (const [k, v] of x) tasksIn(v, tasksIn(k, out, seen), seen);
  else if (isPlainObject(x)) for (const v of Object.values(x)) tasksIn(v, out, seen);
  return out;
}

const HELPERS = ['value', 'invalidate', 'getTasks', 'loadAll', 'jugfile'] as const;

export async function shell(jugfile: string | undefined, options: CommonOptions): Promise<number> {
  const project = await openProject(jugfile, options);
  const { graph, store, exports } = project;
  const names = Object.keys(exports);
  const shadowed = names.filter((n) => (HELPERS as readonly string[]).includes(n));
  print(banner(project.jugfile, graph, store.location, names, shadowed));

  // Piped (non-terminal) input is fed one line at a time, each once the previous one has finished
  // (the REPL shows its prompt again), so that asynchronous lines run in order. A terminal needs
  // no pacing: a person types after seeing the prompt.
  const tty = process.stdin.isTTY === true;
  const input = tty ? process.stdin : new PassThrough();
  const server = repl.start({ prompt: 'jug> ', input, output: process.stdout, terminal: tty, ignoreUndefined: true });
  Object.assign(server.context, exports, shellHelpers(project, server.context));
  awaitReturnedPromises(server);
  printErrorsWithUserStack(server);

  const exited = new Promise<void>((resolve) => server.on('exit', resolve));
  if (!tty) await feedLines(server, input as PassThrough, exited);
  await exited;
  await store.close();
  return 0;
}

function print(s: string): void {
  process.stdout.write(s);
}

type Project = Awaited<ReturnType<typeof openProject>>;

/** Graph indices of the tasks `x` stands for: tasks (anywhere inside x) or a name pattern. */
function rootsOf(project: Project, x: unknown): number[] {
  const { graph } = project;
  if (typeof x === 'string') {
    const matches = taskMatcher(x);
    return graph.tasks.flatMap((t, i) => (matches(t.name) ? [i] : []));
  }
  return tasksIn(x).map((t) => {
    const i = graph.index.get(t.hash());
    if (i === undefined) throw new Error(`${t} is not a task of ${project.jugfile} (tasks created in the shell cannot be invalidated).`);
    return i;
  });
}

/** The functions the shell puts in scope beside the jugfile's exports (`context`: the REPL's scope). */
function shellHelpers(project: Project, context: Record<string, unknown>) {
  const { graph, store, exports } = project;
  return {
    value,
    jugfile: exports,
    /** Every task of the jugfile, dependencies first. */
    getTasks: (): Task[] => [...graph.tasks],
    /** Removes the results of the tasks in `x` (or matching a name pattern) and of their dependants. */
    invalidate: async (x: unknown): Promise<void> => {
      const roots = rootsOf(project, x);
      if (roots.length === 0) {
        print(`No task matches ${typeof x === 'string' ? `'${x}'` : 'that value'}; nothing invalidated.\n`);
        return;
      }
      const result = await invalidateTasks(graph, store, roots);
      process.stdout.write(runningWarning(graph, result));
      const byName = [...countNames(graph, result.removed)].map(([n, k]) => `${n} ×${k}`).join(', ');
      print(
        result.removed.length === 0
          ? `No stored results among the ${result.tasks.length} task(s) (dependants included); nothing removed.\n`
          : `Invalidated ${result.removed.length} result(s): ${byName}.\n`,
      );
    },
    /** Replaces every export that holds tasks by its value in this shell; `jugfile.<name>` keeps the tasks. */
    loadAll: async (): Promise<void> => {
      const loaded: string[] = [];
      for (const [k, v] of Object.entries(exports)) {
        if (tasksIn(v).length === 0) continue;
        try {
          context[k] = await value(v);
          loaded.push(k);
        } catch (e) {
          print(`Error while loading ${k}: ${describeError(e)}\n`);
        }
      }
      print(`Loaded ${loaded.length === 0 ? 'nothing' : loaded.join(', ')}.\n`);
    },
  };
}

/** A Promise an expression returns (value(), invalidate(), loadAll()) is awaited before printing. */
function awaitReturnedPromises(server: repl.REPLServer): void {
  const evaluate: REPLEval = server.eval;
  const awaiting: REPLEval = function (this: repl.REPLServer, cmd, context, file, cb) {
    evaluate.call(this, cmd, context, file, (err, result) => {
      // Any thenable: a Promise made by code typed in the REPL comes from another realm, so
      // `instanceof Promise` would miss it.
      if (err === null && typeof (result as { then?: unknown } | null)?.then === 'function') {
        (result as PromiseLike<unknown>).then(
          (v: unknown) => cb(null, v),
          (e: unknown) => cb(e instanceof Error ? e : new Error(describeError(e)), undefined),
        );
      } else {
        cb(err, result);
      }
    });
  };
  (server as { eval: REPLEval }).eval = awaiting;
}

/**
 * The REPL prints errors through its writer: with the user's frames (the jugfile's lines, REPL
 * lines), not jug's (stack.ts). Errors typed in the REPL come from its realm: isNativeError.
 */
function printErrorsWithUserStack(server: repl.REPLServer): void {
  const write = server.writer;
  (server as { writer: repl.REPLWriter }).writer = (x: unknown): string => write.call(server, types.isNativeError(x) ? withUserStack(x) : x);
}

/** `e` with its stack in the user's view (see stack.ts); a stack already read is kept as is. */
function withUserStack(e: Error): Error {
  if (typeof e.stack === 'string') e.stack = userStack(e.stack);
  return e;
}

function banner(jugfile: string, graph: TaskGraph, location: string, names: string[], shadowed: string[]): string {
  const shownNames = names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ') || 'none';
  return [
    `jug shell: ${jugfile}, ${graph.tasks.length} tasks, results in ${location}`,
    `In scope: the jugfile's exports (${shownNames}), and`,
    '  value(x)        the results of the tasks in x',
    '  invalidate(x)   remove the results of the tasks in x (or of a name pattern) and of all their dependants',
    '  getTasks()      every task of the jugfile, dependencies first',
    '  loadAll()       replace each exported task by its result here (jugfile.<name> keeps the task)',
    '  jugfile         the jugfile\'s exports',
    ...(shadowed.length > 0 ? [`(exports ${shadowed.join(', ')} are shadowed by these helpers: use jugfile.<name>)`] : []),
    'Top-level await works, and a returned Promise is awaited before printing. .exit or Ctrl-D leaves.',
    '',
  ].join('\n');
}

/** Writes stdin's lines to the REPL one at a time, each after the REPL is ready for input again. */
async function feedLines(server: repl.REPLServer, input: PassThrough, exited: Promise<void>): Promise<void> {
  let ready: (() => void) | undefined;
  const display = server.displayPrompt.bind(server);
  server.displayPrompt = (preserveCursor?: boolean): void => {
    display(preserveCursor);
    const r = ready;
    ready = undefined;
    r?.();
  };
  let closed = false;
  void exited.then(() => {
    closed = true;
    ready?.();
  });
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (closed) break;
    const prompted = new Promise<void>((resolve) => (ready = resolve));
    input.write(`${line}\n`);
    await prompted;
  }
  input.end();
}
