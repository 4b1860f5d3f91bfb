/**
 * `jug demo`: creates `jug-demo/primes.ts` in the current directory (the jugfile shipped as
 * examples/demo/primes.ts) and says what to run. An existing `jug-demo` is left untouched.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../../package-root.js';

const TEMPLATE = join(PACKAGE_ROOT, 'examples', 'demo', 'primes.ts');

/** Options of `jug demo`. */
export interface DemoOptions {
  /** Directory to create. @default `jug-demo` in the current directory */
  dir?: string;
}

export async function demo(options: DemoOptions = {}): Promise<number> {
  const dir = options.dir ?? 'jug-demo';
  const shown = relative(process.cwd(), dir) || dir;
  if (existsSync(dir)) {
    process.stderr.write(
      `jug: ${shown} already exists; nothing was changed. Remove it or run \`jug demo\` in another directory ` +
        `(or pass --dir <dir>).\n`,
    );
    return 1;
  }
  const source = readFileSync(TEMPLATE, 'utf8');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'primes.ts'), source);
  process.stdout.write(
    [
      `Created ${join(shown, 'primes.ts')}: which of 2..100 are prime, one task per number`,
      '(each sleeps one second to stand for real work), then a count written to output.txt.',
      '',
      'Try:',
      `  cd ${shown}`,
      '  npx jug status primes.ts            # 99 tasks ready, 2 waiting',
      '  npx jug execute primes.ts           # run them (about 100 s); Ctrl-C and re-run to resume',
      '  npx jug execute primes.ts -j 8      # or several `jug execute` processes at once',
      '  npx jug status primes.ts            # what is finished',
      '  npx jug shell primes.ts             # explore: await value(count)',
      '',
      `The jugfile imports 'jug', so the package must be resolvable from ${shown}/:`,
      `if jug is not installed in it or a parent directory, run \`npm install ${PACKAGE_ROOT}\` there.`,
      '',
    ].join('\n'),
  );
  return 0;
}
