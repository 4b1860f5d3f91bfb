/**
 * When the worker threads of `jug execute --threads N` load the jugfile (issue 19 §3).
 *
 * A thread's load of the jugfile (evaluating it: every Task constructed and hashed, its hot code
 * compiled again in that isolate) is most of what a thread costs beyond Node's own start. On a
 * run of thousands of tiny tasks the main thread runs every task itself (inline-policy.ts), so
 * that load only takes CPU from it. The threads therefore boot (Node, jug's modules) at once, as
 * before, but load the jugfile only when the main thread says they are needed — or when it
 * stops saying anything for a while.
 *
 * The main thread's verdicts, in shared memory (Int32 [state, seq]; `seq` grows with every
 * change, and threads wait on it):
 * - UNKNOWN (at start): the main thread has not seen the graph yet; threads wait.
 * - GO: load now (the default verdict once the graph is known; a task sent to a thread while
 *   held; a function proved not tiny).
 * - WAIT: the main thread probes a function with many tasks (probe-cheap, see
 *   ThreadPoolExecutor) and may soon run them all itself. A probe's start and end bump `seq`;
 *   a thread that sees a probe running for PATIENCE_MS loads anyway: the main thread is inside
 *   a long task (a synchronous one blocks its event loop, so only the thread can tell), and the
 *   threads must not idle behind it. Between probes the main thread itself says GO when it has
 *   nothing to run (its event loop turns then).
 * - HELD: the function proved tiny; threads wait until GO, without a time limit.
 */

/** `Atomics.waitAsync` with a timeout (Node ≥ 16; typed in TypeScript's ES2024 lib, newer than ours). */
interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
    timeout?: number,
  ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}

export const GateState = { Unknown: 0, Go: 1, Wait: 2, Held: 3 } as const;
export type GateState = (typeof GateState)[keyof typeof GateState];

/** A thread holding in WAIT loads once one probe has run this long (ms). */
export const PATIENCE_MS = 10;

const STATE = 0;
const SEQ = 1;
/** 1 while the main thread runs a probe. */
const PROBING = 2;

export type LoadGateBuffer = SharedArrayBuffer;

export function createLoadGate(): LoadGateBuffer {
  return new SharedArrayBuffer(12);
}

/** The main thread's side. */
export class LoadGate {
  readonly #a: Int32Array;

  constructor(readonly buffer: LoadGateBuffer) {
    this.#a = new Int32Array(buffer);
  }

  get state(): GateState {
    return Atomics.load(this.#a, STATE) as GateState;
  }

  /** Whether no thread has been told to load (threads hold, or have not heard yet). */
  get holding(): boolean {
    return this.state !== GateState.Go;
  }

  /** Sets the verdict (GO is final: a thread that loaded cannot unload). */
  set(state: GateState): void {
    if (this.state === GateState.Go || this.state === state) return;
    Atomics.store(this.#a, STATE, state);
    this.progress();
  }

  /** A probe starts (`true`) or ends: threads in WAIT time it (PATIENCE_MS). */
  probing(running: boolean): void {
    Atomics.store(this.#a, PROBING, running ? 1 : 0);
    this.progress();
  }

  progress(): void {
    Atomics.add(this.#a, SEQ, 1);
    Atomics.notify(this.#a, SEQ);
  }
}

/** Whether threads are told to load the jugfile now. */
export function gateSaysGo(buffer: LoadGateBuffer): boolean {
  return Atomics.load(new Int32Array(buffer), STATE) === GateState.Go;
}

/**
 * The thread's side, for a request it holds: true when this thread is to load the jugfile (GO,
 * or a probe running for PATIENCE_MS in WAIT), false as soon as `wanted()` says the request is
 * no longer to run here (the main thread bumps `seq` when it withdraws requests or stops).
 */
export async function loadTurn(buffer: LoadGateBuffer, wanted: () => boolean): Promise<boolean> {
  const a = new Int32Array(buffer);
  for (;;) {
    const seq = Atomics.load(a, SEQ);
    const state = Atomics.load(a, STATE) as GateState;
    if (state === GateState.Go) return true;
    if (!wanted()) return false;
    const timeout = state === GateState.Wait && Atomics.load(a, PROBING) === 1 ? PATIENCE_MS : undefined;
    const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(a, SEQ, seq, timeout);
    const result = wait.async ? await wait.value : wait.value;
    if (result === 'timed-out') return true;
  }
}
