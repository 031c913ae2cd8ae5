/**
 * The extension's entry point. `activate` only registers (see register.ts); `deactivate` returns a
 * promise that VS Code waits for, resolved once the engine child process has exited.
 *
 * This is the only module that imports `vscode`.
 */
import * as vscode from 'vscode';
import type { ExtensionContextLike, VsCodeApi } from './api.js';
import { register, type ExtensionRuntime } from './register.js';

// Compile-time proof that the real API satisfies the subset the adapter (and the test fake) implement.
const api: VsCodeApi = vscode;
let runtime: ExtensionRuntime | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const ctx: ExtensionContextLike = context;
  runtime = register(api, ctx);
}

export async function deactivate(): Promise<void> {
  const r = runtime;
  runtime = undefined;
  await r?.dispose();
}
