/**
 * A real pseudo-terminal for the terminal tests: a tmux pane on this test process's own tmux
 * server (its own socket, `-L`), driven as a person would: keys sent with `send-keys`, the screen
 * read with `capture-pane`, the cursor's visibility with `#{cursor_flag}`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why tmux cannot be used here; undefined when it can. */
export function tmuxUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `the terminal tests need Linux (this is ${process.platform})`;
  try {
    execFileSync('tmux', ['-V'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'tmux is not installed (Debian/Ubuntu: apt-get install tmux; .ci/run installs it)';
  }
}

/** A tmux server of our own, with panes running shell scripts. */
export class TmuxServer {
  readonly socket = `jug-test-${process.pid}`;
  #sessions = 0;

  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      env: { ...process.env, TERM: 'xterm' },
    });
    return stdout;
  }

  /** Starts `sh <script>` in a new pane `width` × `height`. */
  async start(script: string, width = 100, height = 30): Promise<Pane> {
    const name = `s${++this.#sessions}`;
    await this.tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), `sh ${script}`);
    return new Pane(this, name);
  }

  /** Ends the server (only ours: its own socket). */
  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
  }
}

/** One pane of a {@link TmuxServer}. */
export class Pane {
  constructor(
    readonly server: TmuxServer,
    readonly name: string,
  ) {}

  /** The visible screen, one string per row (trailing blanks trimmed). */
  async screen(): Promise<string> {
    return this.server.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** The scrollback and the screen. */
  async everything(): Promise<string> {
    return this.server.tmux('capture-pane', '-p', '-S', '-', '-E', '-', '-t', this.name);
  }

  /** Whether the terminal shows its cursor. */
  async cursorVisible(): Promise<boolean> {
    return (await this.server.tmux('display-message', '-p', '-t', this.name, '#{cursor_flag}')).trim() === '1';
  }

  /** Types keys, in tmux's names (`C-c`). */
  async keys(...keys: string[]): Promise<void> {
    await this.server.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** The pid of the pane's shell. */
  async shellPid(): Promise<number> {
    return Number((await this.server.tmux('display-message', '-p', '-t', this.name, '#{pane_pid}')).trim());
  }

  /**
   * Polls the scrollback and screen until `pattern` matches them (calling `each` on every look);
   * returns the match, or throws with what the terminal showed after `timeoutMs`.
   */
  async waitFor(pattern: RegExp, timeoutMs: number, each?: (text: string) => void): Promise<RegExpMatchArray> {
    const end = Date.now() + timeoutMs;
    let text = '';
    for (;;) {
      text = await this.everything();
      each?.(text);
      const m = text.match(pattern);
      if (m !== null) return m;
      if (Date.now() > end) throw new Error(`the terminal did not show ${pattern} within ${timeoutMs} ms; it shows:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async kill(): Promise<void> {
    await this.server.tmux('kill-session', '-t', this.name).catch(() => {});
  }
}

/** The process below `ancestor` whose command line contains `needle` (Linux /proc). */
export function descendantWith(ancestor: number, needle: string): number | undefined {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  for (const pid of parent.keys()) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== ancestor) p = parent.get(p);
    if (p !== ancestor || pid === ancestor) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
