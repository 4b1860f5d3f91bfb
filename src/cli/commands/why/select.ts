/**
 * Which task `jug why <task>` is about: a task hash, a unique prefix of one (at least 6 hex
 * characters), a name with its arguments as jug prints them (`primes.isPrime(7)`, or `isPrime(7)`),
 * or a name alone when only one task has it. Several candidates: a usage error listing them.
 */
import { describeArguments } from '../../../describe.js';
import { UsageError } from '../../../errors.js';
import type { TaskGraph } from '../../../graph.js';
import type { Task } from '../../../task.js';
import { MIN_HASH_PREFIX } from '../../common.js';

/** What a task is called in `jug why`'s answers: `primes.isPrime(7)`. */
export function taskCall(task: Task): string {
  return `${task.name}(${describeArguments(task.args)})`;
}

/** The graph index of the task `spec` names, or undefined if none does; throws for several. */
export function selectTask(spec: string, graph: TaskGraph): number | undefined {
  const text = spec.trim();
  if (new RegExp(`^[0-9a-f]{${MIN_HASH_PREFIX},40}$`).test(text)) {
    const byHash = graph.tasks.flatMap((t, i) => (t.hash().startsWith(text) ? [i] : []));
    if (byHash.length === 1) return byHash[0];
    if (byHash.length > 1) throw ambiguous(spec, 'is the start of', byHash, graph);
  }
  const squeeze = (s: string): string => s.replace(/\s+/g, '');
  const wanted = squeeze(text);
  const withArgs = wanted.includes('(');
  const matches = graph.tasks.flatMap((t, i) => {
    const full = withArgs ? squeeze(taskCall(t)) : t.name;
    return full === wanted || full.endsWith(`.${wanted}`) ? [i] : [];
  });
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw ambiguous(spec, 'matches', matches, graph);
  return undefined;
}

function ambiguous(spec: string, verb: string, indices: readonly number[], graph: TaskGraph): UsageError {
  const list = indices
    .slice(0, 10)
    .map((i) => `  ${graph.tasks[i]!.hash().slice(0, 12)}  ${taskCall(graph.tasks[i]!)}`)
    .join('\n');
  return new UsageError(
    `'${spec}' ${verb} ${indices.length} tasks:\n${list}${indices.length > 10 ? `\n  … ${indices.length - 10} more` : ''}\n` +
      'Give the arguments (`jug why \'name(args)\'`) or more of the hash to choose one.',
  );
}
