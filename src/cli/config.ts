/**
 * Configuration files: default values for command-line options.
 *
 * Files, closest first (a closer file wins):
 * 1. `.jugrc`, then `jugrc`, in the current directory and each parent up to the root of the git
 *    repository containing it (the directory holding `.git`); outside a git repository only the
 *    current directory is searched;
 * 2. the user file `$XDG_CONFIG_HOME/jug/jugrc` (default `$HOME/.config/jug/jugrc`).
 * The command line beats every file; the files beat the built-in defaults.
 *
 * Format (INI): `[main]` holds options for every command, `[execute]`, `[status]`, … options for
 * one command (they beat `[main]` of the same file). Keys are the long option names as on the
 * command line (`wait-cycle-time = 23`, underscores accepted for dashes); flags take
 * `true/false/yes/no/on/off/1/0`; a negated flag (`--no-check-environment`) may also be written
 * positively (`check-environment = false`). `#` and `;` start comments (inline ones after a space);
 * quotes around a value are removed (a quoted value may contain ` #`). Values go through the
 * same parsers as the command line: a bad one is an error naming the file, line and key (exit 2);
 * an unknown key or section is a warning.
 *
 * `jugfile = pipeline.ts` (in `[main]` or a command's section) names the jugfile when the command
 * line names none, as in Python Jug. A relative path is relative to the directory of the file that
 * says it (so a `.jugrc` at the root of a project works from its subdirectories); in the user file,
 * which belongs to no project, relative to the current directory.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command, type Option } from 'commander';
import { UsageError, describeError } from '../errors.js';

/** One `key = value` line. */
export interface ConfigEntry {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** Section name, lower case (`main`, `execute`, …). */
  readonly section: string;
  /** Key, lower case, underscores turned into dashes. */
  readonly key: string;
  readonly value: string;
}

/** A parsed configuration file. */
export interface ConfigFile {
  readonly path: string;
  /** The user file (`~/.config/jug/jugrc`), not a project's `.jugrc` / `jugrc`. */
  readonly user?: boolean;
  readonly entries: readonly ConfigEntry[];
  /** Section headers (lower-case name, 1-based line), in order. */
  readonly sections: readonly { readonly name: string; readonly line: number }[];
}

/** Parses INI text; throws a UsageError naming the file and line for a line it cannot read. */
export function parseConfig(text: string, path: string): ConfigFile {
  const entries: ConfigEntry[] = [];
  const sections: { name: string; line: number }[] = [];
  let section: string | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const where = `${path}:${i + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[\s*([^\]]+?)\s*\](?:\s+[#;].*)?$/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase();
      sections.push({ name: section, line: i + 1 });
      return;
    }
    const eq = line.search(/[=:]/);
    if (eq <= 0 || raw !== raw.trimStart()) {
      throw new UsageError(`${where}: cannot read '${line}': expected '[section]' or 'key = value' (continuation lines are not supported).`);
    }
    if (section === undefined) {
      throw new UsageError(`${where}: '${line}' comes before any section; put it under [main] (or [execute], [status], …).`);
    }
    const key = line.slice(0, eq).trim().toLowerCase().replace(/_/g, '-');
    let value = line.slice(eq + 1).trim();
    const quoted = /^(["'])(.*?)\1(?:\s+[#;].*)?$/.exec(value);
    value = quoted ? quoted[2]! : value.replace(/\s+[#;].*$/, '');
    entries.push({ file: path, line: i + 1, section, key, value });
  });
  return { path, entries, sections };
}

/** Python Jug's boolean spellings, minus its bug (§7.18: 'no' was true). */
export function parseBoolean(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new InvalidArgumentError(`expected true/false, yes/no, on/off or 1/0, got '${value}'.`);
}

/**
 * The configuration files that apply in `cwd`, closest first (see the module comment). Only
 * existing regular files are returned.
 */
export function findConfigFiles(cwd: string, env: NodeJS.ProcessEnv): string[] {
  const chain: string[] = [];
  let gitRoot: string | undefined;
  for (let d = resolve(cwd); ; ) {
    chain.push(d);
    if (existsSync(join(d, '.git'))) {
      gitRoot = d;
      break;
    }
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  const dirs = gitRoot === undefined ? [resolve(cwd)] : chain;
  const files = dirs.flatMap((d) => [join(d, '.jugrc'), join(d, 'jugrc')]);
  const user = userConfigFile(env);
  if (user !== undefined) files.push(user);
  return files.filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** `$XDG_CONFIG_HOME/jug/jugrc` (default `$HOME/.config/jug/jugrc`), whether it exists or not. */
function userConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  const configHome = env['XDG_CONFIG_HOME'] || (env['HOME'] ? join(env['HOME'], '.config') : undefined);
  return configHome === undefined ? undefined : join(configHome, 'jug', 'jugrc');
}

/** Reads and parses the files from {@link findConfigFiles}. */
export function loadConfig(cwd: string, env: NodeJS.ProcessEnv): ConfigFile[] {
  const user = userConfigFile(env);
  return findConfigFiles(cwd, env).map((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the configuration file ${f}: ${describeError(e)}`);
    }
    const parsed = parseConfig(text, f);
    return f === user ? { ...parsed, user: true } : parsed;
  });
}

/** The key naming the jugfile (a command-line argument, not an option). */
const JUGFILE_KEY = 'jugfile';

/** Whether `cmd` takes a jugfile argument (every command but `demo`). */
export function takesJugfile(cmd: Command): boolean {
  return cmd.registeredArguments.some((a) => a.name() === JUGFILE_KEY);
}

/**
 * The jugfile the configuration `files` (closest first) name for `command` (its own section beats
 * `[main]`), as an absolute path; undefined if none names one. Throws a UsageError naming the
 * configuration file and line if the named jugfile does not exist.
 */
export function configJugfile(files: readonly ConfigFile[], command: string, cwd: string): string | undefined {
  for (const file of files) {
    const entries = file.entries.filter((e) => e.key === JUGFILE_KEY);
    const entry = entries.filter((e) => e.section === command).at(-1) ?? entries.filter((e) => e.section === 'main').at(-1);
    if (entry === undefined) continue;
    const base = file.user ? cwd : dirname(file.path);
    const path = resolve(base, entry.value);
    if (!existsSync(path)) {
      throw new UsageError(
        `${entry.file}:${entry.line}: [${entry.section}] jugfile = ${entry.value}: no such file (${path}; a relative path ` +
          `is taken from ${file.user ? 'the current directory' : "this configuration file's directory"}). ` +
          'Fix the path there, or name the jugfile on the command line.',
      );
    }
    return path;
  }
  return undefined;
}

/** How a configuration key maps onto one option of a command. */
interface KeyTarget {
  readonly option: Option;
  /** The key names the negated flag positively (`check-environment` for `--no-check-environment`). */
  readonly positive: boolean;
}

/** The configuration keys of a command's options (long names without dashes). */
function keysOf(cmd: Command): Map<string, KeyTarget> {
  const keys = new Map<string, KeyTarget>();
  for (const option of cmd.options) {
    if (option.long === undefined || option.long === '--help' || option.long === '--version') continue;
    const key = option.long.slice(2);
    keys.set(key, { option, positive: false });
    if (option.negate) keys.set(key.replace(/^no-/, ''), { option, positive: true });
  }
  return keys;
}

/** Turns a configuration value into an option value with the command line's parser. */
function convert(entry: ConfigEntry, target: KeyTarget): unknown {
  const { option } = target;
  try {
    if (option.required || option.optional) {
      return option.parseArg ? option.parseArg(entry.value, undefined) : entry.value;
    }
    const on = parseBoolean(entry.value);
    return option.negate ? (target.positive ? on : !on) : on;
  } catch (e) {
    const why = e instanceof InvalidArgumentError ? e.message.replace(/^error: /, '') : describeError(e);
    throw new UsageError(`${entry.file}:${entry.line}: [${entry.section}] ${entry.key} = ${entry.value}: ${why}`);
  }
}

/**
 * Sets the options of `cmd` the command line left unset (or at their default) from `files`
 * (closest first): in each file the command's own section beats `[main]`. Warns (through `warn`)
 * about keys and sections no command knows; `program` gives the list of commands.
 */
export function applyConfig(program: Command, cmd: Command, files: readonly ConfigFile[], warn: (message: string) => void): void {
  const commands = new Map(program.commands.map((c) => [c.name(), keysOf(c)]));
  const anyKey = new Set([...commands.values()].flatMap((m) => [...m.keys()]));
  anyKey.add(JUGFILE_KEY); // read by configJugfile
  const withJugfile = new Set(program.commands.filter(takesJugfile).map((c) => c.name()));
  for (const file of files) {
    const warnings: { line: number; message: string }[] = [];
    const warnAt = (line: number, message: string): void => void warnings.push({ line, message });
    for (const { name, line } of file.sections) {
      if (name !== 'main' && !commands.has(name)) {
        warnAt(line, `${file.path}:${line}: unknown section [${name}] (ignored); sections are [main] and one per command: ${[...commands.keys()].join(', ')}.`);
      }
    }
    for (const e of file.entries) {
      const where = `${e.file}:${e.line}`;
      if (e.section === 'main') {
        if (!anyKey.has(e.key)) warnAt(e.line, `${where}: unknown option '${e.key}' in [main] (ignored).`);
      } else if (commands.has(e.section) && !commands.get(e.section)!.has(e.key) && !(e.key === JUGFILE_KEY && withJugfile.has(e.section))) {
        warnAt(e.line, `${where}: unknown option '${e.key}' for jug ${e.section} (ignored).`);
      }
    }
    for (const w of warnings.sort((a, b) => a.line - b.line)) warn(w.message);
  }
  const keys = commands.get(cmd.name()) ?? keysOf(cmd);
  const settled = new Set<string>();
  for (const file of files) {
    // Later lines of the same file win; the command's own section beats [main].
    const pick = (section: string): Map<string, ConfigEntry> =>
      new Map(file.entries.filter((e) => e.section === section).map((e) => [e.key, e]));
    const own = pick(cmd.name());
    const main = pick('main');
    for (const [key, target] of keys) {
      const attr = target.option.attributeName();
      if (settled.has(attr)) continue;
      const source = cmd.getOptionValueSource(attr);
      if (source !== undefined && source !== 'default' && source !== 'config') continue;
      const entry = own.get(key) ?? main.get(key);
      if (entry === undefined) continue;
      cmd.setOptionValueWithSource(attr, convert(entry, target), 'config');
      settled.add(attr);
    }
  }
}
