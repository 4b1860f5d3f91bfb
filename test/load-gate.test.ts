/**
 * The load gate (src/executors/load-gate.ts): when worker threads of `jug execute --threads N`
 * load the jugfile. Unit tests of both sides in one thread (the thread's side only reads and
 * waits on shared memory).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GateState, LoadGate, PATIENCE_MS, createLoadGate, loadTurn } from '../src/executors/load-gate.js';

/** Settles with `late` if `p` has not settled after `ms`. */
async function within<T, L>(p: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<L>((resolve) => (timer = setTimeout(() => resolve(late), ms)));
  try {
    return await Promise.race([p, bound]);
  } finally {
    clearTimeout(timer);
  }
}

describe('load gate', () => {
  test('a thread waits while the main thread has not seen the graph, and loads on GO', async () => {
    const gate = new LoadGate(createLoadGate());
    const turn = loadTurn(gate.buffer, () => true);
    assert.equal(await within(turn, 50, 'waiting'), 'waiting');
    gate.set(GateState.Go);
    assert.equal(await turn, true);
    assert.equal(gate.holding, false);
  });

  test('in WAIT a thread waits without limit between probes, and loads once a probe runs for PATIENCE_MS', async () => {
    const gate = new LoadGate(createLoadGate());
    gate.set(GateState.Wait);
    const turn = loadTurn(gate.buffer, () => true);
    assert.equal(await within(turn, 20 * PATIENCE_MS, 'waiting'), 'waiting', 'no probe runs: it waits');
    gate.probing(true);
    assert.equal(await within(turn, 20 * PATIENCE_MS, 'waiting'), true, 'a probe ran past PATIENCE_MS: it loads');
  });

  test('HELD keeps threads waiting while probes come and go; a request withdrawn meanwhile is answered at once; GO is final', async () => {
    const gate = new LoadGate(createLoadGate());
    gate.set(GateState.Held);
    let wanted = true;
    const turn = loadTurn(gate.buffer, () => wanted);
    gate.probing(true);
    assert.equal(await within(turn, 20 * PATIENCE_MS, 'waiting'), 'waiting');
    wanted = false;
    gate.progress();
    assert.equal(await turn, false, 'withdrawn: not loaded');
    gate.set(GateState.Go);
    gate.set(GateState.Held);
    assert.equal(gate.state, GateState.Go);
  });
});
