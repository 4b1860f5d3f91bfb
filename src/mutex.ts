/** A minimal async mutex: `run(f)` calls `f` once every earlier call has settled. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(f: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(f, f);
    this.#tail = result.catch(() => {});
    return result;
  }
}
