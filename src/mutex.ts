/**
 * A minimal async mutex: `run(f)` calls `f` once every earlier call has settled. `onIdle` is told
 * (one event-loop turn later, if still idle) when no call is running or waiting: the runners use
 * it to commit the results of a batch of tasks together.
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;

  constructor(private readonly onIdle?: () => void) {}

  run<T>(f: () => Promise<T>): Promise<T> {
    this.#queued++;
    const result = this.#tail.then(f, f);
    this.#tail = result
      .catch(() => {})
      .finally(() => {
        if (--this.#queued === 0 && this.onIdle !== undefined) {
          // Let the continuation of the last call (which stores its result) run first.
          setImmediate(() => {
            if (this.#queued === 0) this.onIdle?.();
          });
        }
      });
    return result;
  }
}
