/**
 * Task hashes never change under stored results: a jugdir written by an earlier version
 * (test/fixtures/stored-hashes, arguments of every kind and size) is still complete for today's
 * hashing code. A change to hash.ts that moves any task's address fails here (and in the golden
 * vectors of hash.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, makeTempDir, removeTempDir, runJug, show } from './helpers.js';

describe('stored results stay addressable', () => {
  it('jug check finds every result of the fixture jugdir written by jug 0.1.0 (commit f9cf0ef)', async () => {
    const dir = makeTempDir('stored-hashes');
    try {
      cpSync(join(FIXTURES, 'stored-hashes'), dir, { recursive: true });
      const r = await runJug(['check', join(dir, 'jugfile.ts'), '--jugdir', join(dir, 'jugdir')]);
      assert.equal(r.code, 0, show(r));
      const s = await runJug(['status', join(dir, 'jugfile.ts'), '--jugdir', join(dir, 'jugdir')]);
      assert.equal(s.code, 0, show(s));
      assert.match(s.stdout, /Total:\s+0\s+0\s+75\s+0\s+0\s*$/m, show(s));
    } finally {
      removeTempDir(dir);
    }
  });
});
