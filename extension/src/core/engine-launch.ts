/**
 * Decides how to reach the engine from the settings: connect to a running engine by URL + token, or
 * start one over stdio. The stdio engine is found, in order, at the `engine.path` setting, in the
 * repository this extension lives in (extension/ next to bin/paints-undo, the development layout), or
 * as `paints-undo` on PATH (`npm install -g paints-undo`). The `.vsix` does not carry the engine: its
 * native parts (sharp, onnxruntime) are per platform and far too big for an extension package.
 */
import { statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { Settings } from './settings.js';

export type EngineLaunch =
  | {
      readonly kind: 'stdio';
      readonly command: string;
      readonly args: readonly string[];
      readonly env: NodeJS.ProcessEnv;
      readonly describe: string;
      /** The setting that chooses `command`: node for the engine's script, or the engine executable itself. */
      readonly commandSetting: 'engine.nodePath' | 'engine.path';
    }
  | { readonly kind: 'url'; readonly url: string; readonly token: string | undefined; readonly describe: string };

/** The settings name no engine the extension can reach: `message` says which setting and what to write there. */
export class EngineLaunchError extends Error {
  readonly code = 'ENGINE_NOT_FOUND';
  constructor(message: string) {
    super(message);
    this.name = 'EngineLaunchError';
  }
}

export class EngineNotFoundError extends EngineLaunchError {
  readonly looked: readonly string[];
  constructor(looked: readonly string[]) {
    super(
      `Cannot find the paints-undo engine. Looked at: ${looked.join(', ')}. ` +
        'Install it (`npm install -g paints-undo`), or set "paintsUndo.engine.path" to the paints-undo executable, ' +
        'or set "paintsUndo.engine.url" to an engine you started with `paints-undo serve`.',
    );
    this.name = 'EngineNotFoundError';
    this.looked = looked;
  }
}

/** What `paints-undo serve` prints: http://127.0.0.1:PORT (ws:// and a trailing /ws are accepted too). */
const EngineUrlSchema = z.url({ protocol: /^(https?|wss?)$/ });

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const exts = process.platform === 'win32' ? ['.cmd', '.exe', ''] : [''];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = join(dir, name + ext);
      if (isFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Finds the engine's entry script or executable; throws EngineNotFoundError listing where it looked. */
export function findEngine(settings: Settings, extensionPath: string, env: NodeJS.ProcessEnv = process.env): string {
  const looked: string[] = [];
  const configured = settings['engine.path'].trim();
  if (configured) {
    if (isAbsolute(configured) && isFile(configured)) return configured;
    looked.push(`"paintsUndo.engine.path" = ${configured}${isAbsolute(configured) ? ' (not a file)' : ' (must be an absolute path)'}`);
    throw new EngineNotFoundError(looked);
  }
  const repoBin = join(dirname(extensionPath), 'bin', 'paints-undo');
  if (isFile(repoBin)) return repoBin;
  looked.push(repoBin);
  const global = onPath('paints-undo', env);
  if (global) return global;
  looked.push('paints-undo on PATH');
  throw new EngineNotFoundError(looked);
}

/**
 * The launch plan. The engine's bin is a Node script, run with `engine.nodePath` or `node` from PATH:
 * the editor's own runtime (Electron) is not a plain Node and the engine's native modules target Node.
 */
export function planLaunch(settings: Settings, extensionPath: string, env: NodeJS.ProcessEnv = process.env): EngineLaunch {
  const url = settings['engine.url'].trim();
  if (url) {
    // A mistyped address must not quietly start a local engine instead of the one the user set up.
    if (!EngineUrlSchema.safeParse(url).success) {
      throw new EngineLaunchError(
        `"paintsUndo.engine.url" = ${JSON.stringify(url)} is not an engine address. Write the address \`paints-undo serve\` prints, ` +
          'such as http://127.0.0.1:7439, or clear the setting to let the extension start its own engine.',
      );
    }
    const token = settings['engine.token'].trim() || undefined;
    return { kind: 'url', url: url.replace(/^ws/, 'http').replace(/\/ws\/?$/, ''), token, describe: `engine at ${url}` };
  }
  const bin = scriptOfShim(findEngine(settings, extensionPath, env));
  const childEnv: NodeJS.ProcessEnv = { ...env };
  if (settings.modelsPath.trim()) childEnv.PAINTS_UNDO_MODELS = settings.modelsPath.trim();
  // ELECTRON_RUN_AS_NODE leaks from the editor's environment into children and changes nothing for a
  // real Node, but a `node` wrapper that is really Electron would then misbehave; drop it.
  delete childEnv.ELECTRON_RUN_AS_NODE;
  const isScript = !/\.(cmd|exe)$/i.test(bin);
  const node = settings['engine.nodePath'].trim() || 'node';
  const serve = ['serve', '--stdio', '--max-jobs-per-client', String(STDIO_JOBS_PER_CLIENT)];
  if (isScript) {
    return { kind: 'stdio', command: node, args: [bin, ...serve], env: childEnv, describe: `${node} ${bin} ${serve.join(' ')}`, commandSetting: 'engine.nodePath' };
  }
  return { kind: 'stdio', command: bin, args: serve, env: childEnv, describe: `${bin} ${serve.join(' ')}`, commandSetting: 'engine.path' };
}

/**
 * The engine script behind a Windows `.cmd`/`.bat` shim (what `npm install -g` puts on PATH): Node
 * refuses to spawn those without a shell (CVE-2024-27980), and the script itself runs with node. npm
 * keeps the package beside its shims, in node_modules/paints-undo. A shim with no script there is
 * refused with the path to set instead.
 */
function scriptOfShim(bin: string): string {
  if (!/\.(cmd|bat)$/i.test(bin)) return bin;
  const script = join(dirname(bin), 'node_modules', 'paints-undo', 'bin', 'paints-undo');
  if (isFile(script)) return script;
  throw new EngineLaunchError(
    `${bin} is a command script, which Node.js cannot start without a shell, and the engine script npm installs beside it (${script}) is not there. ` +
      'Set "paintsUndo.engine.path" to the engine script (node_modules/paints-undo/bin/paints-undo inside the installed package).',
  );
}

/**
 * Unfinished jobs the editor's own engine takes from it. The engine's default (16 per connection) is for
 * clients sharing one engine; here every timeline editor of the window shares the one stdio connection,
 * and each may have a frame and an export running: with 17 editors open, some never showed a frame.
 */
export const STDIO_JOBS_PER_CLIENT = 1000;

