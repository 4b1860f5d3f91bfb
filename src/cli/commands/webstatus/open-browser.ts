/** `--open`: the page in the default browser, where this machine has a way to open one. */
import { spawn, spawnSync } from 'node:child_process';

/** The opener of this platform: `open` (macOS), `cmd /c start` (Windows), else `xdg-open`. */
function opener(url: string): { command: string; args: string[] } {
  if (process.platform === 'darwin') return { command: 'open', args: [url] };
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url] };
  return { command: 'xdg-open', args: [url] };
}

/**
 * Opens `url` in the default browser, detached. Returns undefined when it was handed to the
 * opener, else why not (no opener on PATH, or no display to open a window on).
 */
export function openBrowser(url: string): string | undefined {
  const { command, args } = opener(url);
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    return 'there is no graphical display here (neither DISPLAY nor WAYLAND_DISPLAY is set)';
  }
  if (process.platform !== 'win32' && spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    return `\`${command}\` is not installed${process.platform === 'linux' ? ' (Debian/Ubuntu: apt-get install xdg-utils)' : ''}`;
  }
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => {});
    child.unref();
  } catch (e) {
    return `\`${command}\` could not start: ${(e as Error).message}`;
  }
  return undefined;
}
