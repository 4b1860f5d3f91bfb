/**
 * jug: task-based parallelization for Node.js. Declare lazy tasks in a jugfile; `jug execute`
 * runs them (in several processes or threads), storing each result under the hash of its
 * computation so that runs can stop and resume at any point.
 *
 * @packageDocumentation
 */
export { Task, Tasklet, TaskGenerator, iterateTask, isTaskLike } from './task.js';
export type {
  TaskLike,
  LazyValue,
  Lazy,
  LazyArgs,
  KeyOf,
  ValueAt,
  TaskGeneratorOptions,
  TaskGeneratorFunction,
  TaskletTuple,
} from './task.js';
export { taskSignal, MAX_RETRY_DELAY_MS, TIMEOUT_GRACE_MS } from './task-options.js';
export type { TaskRunOptions } from './task-options.js';
export { value } from './value.js';
export { barrier, bvalue, BarrierError } from './barrier.js';
export type { BarrierStop } from './barrier.js';
export { CompoundTask, CompoundTaskGenerator } from './compound.js';
export type { CompoundTaskGeneratorFunction, CompoundTaskGeneratorOptions } from './compound.js';
export { map, currymap, reduce, mapreduce } from './mapreduce.js';
export type { MapOptions, MapReduceOptions, ReduceOptions, TaskFunctionLike } from './mapreduce.js';
export type { LazyList } from './lazy-list.js';
export { identity, returnTuple, jugExecute } from './utils.js';
export type { TupleOf, TaskletsOf, TupleGenerator, JugExecuteOptions } from './utils.js';
export { CustomHash, NoHash, timedPath } from './hash-wrappers.js';
export { NoLoad } from './no-load.js';
export { describe, describeArguments } from './describe.js';
export type {
  Description,
  DescribeOptions,
  ResultMeta,
  TaskDescription,
  TaskletDescription,
  ListDescription,
  WrapperDescription,
} from './describe.js';
export type { Resolved } from './value.js';
/** Run records: what each `jug execute` process did, task by task (docs/store-format.md, "Run records"). */
export type { RunRecord, RunRecordStore } from './run-records-types.js';
export { finishedRuns, latestRuns, parseRunLines, parseRunRecord } from './run-records.js';
export { init, setJugdir, isJugRunning } from './init.js';
export type { InitOptions, InitResult } from './init.js';
export { registerHook, registerHookOnce, resetAllHooks, HookError } from './hooks.js';
export type { HookName, HookArguments, HookFunction } from './hooks.js';
export { exitAfterNTasks, exitAfterTime, exitIfFileExists, exitWhenTrue, STOP_FILE } from './exit-checks.js';
export type { Duration } from './exit-checks.js';
export { hashValue, jugHash } from './hash.js';
export type { CustomHashable } from './hash.js';
export { FileStore } from './store/file-store.js';
export type { FileStoreOptions } from './store/file-store.js';
export { MemoryStore } from './store/memory-store.js';
export { openStore } from './store/open.js';
export type { Store, Lock, LockInfo, FailureRecord } from './store/store.js';
export type { PackOptions, PackReport } from './store/pack.js';
export {
  JugError,
  UsageError,
  TaskDefinitionError,
  HashError,
  JugfileError,
  StoreError,
  CorruptResultError,
  NotComputedError,
  TaskFailedError,
  TaskTimeoutError,
} from './errors.js';
export { userStack, userStackOf, type UserStackOptions } from './stack.js';
