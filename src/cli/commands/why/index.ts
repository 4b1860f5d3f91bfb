/**
 * `jug why <task>`: the state of one task and the reason, in plain words: stored (when, where,
 * how long), outdated (which function changed, where), downstream of outdated results, waiting
 * (on which dependencies), ready, running (where, since when), failed (with which error), a stale
 * lock of a dead process, or unknown because the jugfile stops at a barrier before it.
 */
import { UsageError } from '../../../errors.js';
import { barrierNote, openProject, type CommonOptions } from '../../common.js';
import { codeState, latestRecords } from '../../outdated-state.js';
import { explain } from './explain.js';
import { selectTask, taskCall } from './select.js';

/** Options of `jug why`. */
export type WhyOptions = CommonOptions;

export async function why(jugfile: string | undefined, spec: string, options: WhyOptions): Promise<number> {
  const project = await openProject(jugfile, options);
  const { graph, store, barrier } = project;
  try {
    const index = selectTask(spec, graph);
    if (index === undefined) {
      if (barrier !== undefined) {
        process.stdout.write(
          `'${spec}' is not among the ${graph.tasks.length} task(s) declared before the barrier at ${barrier.where}: ` +
            `behind the barrier. ${barrierNote(barrier).replace(/^jug: /, '')}`,
        );
        return 1;
      }
      const names = [...new Set(graph.tasks.map((t) => t.name))].sort();
      throw new UsageError(
        `no task is '${spec}'` +
          (names.length > 0 ? ` (task names: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})` : ' (the jugfile declares no tasks)') +
          ". Name one as `name(args)` (as `jug why` prints them), by its name when only one task has it, or by its hash or a unique prefix of it (at least 6 hex characters).",
      );
    }
    const [locks, stored] = await Promise.all([store.listLocks(), store.list()]);
    const hash = graph.tasks[index]!.hash();
    const state = await codeState(graph, store, stored);
    const lock = locks.get(hash);
    const failure = lock?.failed ? await store.failureRecord(hash) : undefined;
    const holder = lock?.holder;
    const notes = holder === undefined || lock!.failed ? [] : ((await store.runningNotes?.()) ?? []);
    const note = notes.find((n) => n.hash === hash && n.pid === holder!.pid && n.host === holder!.host);
    const answer = explain({
      graph,
      index,
      stored,
      locks,
      latest: latestRecords(state),
      done: state.done,
      analysis: state.analysis,
      failure,
      note,
      hasRecords: state.hasRecords,
    });
    process.stdout.write(`${taskCall(graph.tasks[index]!)}  [${hash.slice(0, 12)}]\n${answer.lines.join('\n')}\n`);
    if (barrier !== undefined) process.stdout.write(barrierNote(barrier));
    return 0;
  } finally {
    await store.close();
  }
}
