/**
 * A typed fake of the part of the VS Code API the extension uses (extension/src/vscode/api.ts), that
 * enforces the contracts the extension relies on, so that breaking one fails a test instead of
 * failing in a user's editor:
 *
 * - manifest: a command, custom editor or setting the code uses must be declared in extension/package.json
 *   (settings return the manifest's defaults unless a test overrides them);
 * - commands: registering an id twice throws (as VS Code does); executing an unknown one rejects;
 * - custom editors: one provider per viewType; `vscode.openWith` runs openCustomDocument then
 *   resolveCustomEditor; closing the last editor of a document disposes the document;
 * - webviews: after dispose, setting html or posting throws "Webview is disposed"; html must carry a CSP
 *   whose script-src is a nonce that every <script> carries, scripts/styles must be asWebviewUri URIs of
 *   files inside `localResourceRoots`, and scripts need `enableScripts`; posted messages must survive
 *   structured cloning (that is what VS Code transfers);
 * - progress: a token is only cancelled when `cancellable` was asked for; increments are >= 0 and sum <= 100;
 * - dialogs: a test must script every dialog it expects (an unexpected dialog throws);
 * - disposables: everything handed out is tracked, so a test can assert nothing leaked after deactivate.
 *
 * File writes through workspace.fs go to the real disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import type {
  CancellationTokenLike,
  ConfigurationChangeEventLike,
  CustomDocumentLike,
  DisposableLike,
  EventLike,
  ExtensionContextLike,
  OutputChannelLike,
  ProgressLike,
  ReadonlyEditorProviderLike,
  StatusBarItemLike,
  UriLike,
  VsCodeApi,
  WebviewLike,
  WebviewPanelLike,
} from '../../extension/src/vscode/api.js';

export class FakeUri implements vscode.Uri {
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly query: string;
  readonly fragment: string;

  constructor(scheme: string, authority: string, path: string, query = '', fragment = '') {
    this.scheme = scheme;
    this.authority = authority;
    this.path = path;
    this.query = query;
    this.fragment = fragment;
  }

  static file(path: string): FakeUri {
    if (!path.startsWith('/')) throw new Error(`Uri.file needs an absolute path, got ${path}`);
    return new FakeUri('file', '', path);
  }

  get fsPath(): string {
    return this.path;
  }

  with(change: { scheme?: string; authority?: string; path?: string; query?: string; fragment?: string }): vscode.Uri {
    return new FakeUri(change.scheme ?? this.scheme, change.authority ?? this.authority, change.path ?? this.path, change.query ?? this.query, change.fragment ?? this.fragment);
  }

  toString(): string {
    return `${this.scheme}://${this.authority}${this.path}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
  }

  toJSON(): unknown {
    return { scheme: this.scheme, authority: this.authority, path: this.path, query: this.query, fragment: this.fragment };
  }
}

/** Tracks every disposable the fake hands out. */
class Tracker {
  private readonly live = new Map<number, string>();
  private next = 0;

  track(what: string, onDispose: () => void = () => undefined): DisposableLike & { readonly disposed: boolean } {
    const id = this.next++;
    this.live.set(id, what);
    let disposed = false;
    return {
      get disposed() {
        return disposed;
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.live.delete(id);
        onDispose();
      },
    };
  }

  undisposed(): string[] {
    return [...this.live.values()];
  }
}

export class FakeEmitter<T> {
  private readonly listeners = new Set<(e: T) => unknown>();
  private readonly tracker: Tracker;
  private readonly what: string;

  constructor(tracker: Tracker, what: string) {
    this.tracker = tracker;
    this.what = what;
  }

  readonly event: EventLike<T> = (listener) => {
    this.listeners.add(listener);
    return this.tracker.track(`listener of ${this.what}`, () => this.listeners.delete(listener));
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

const CDN = 'https://file+.vscode-resource.vscode-cdn.net';

export class FakeWebview implements WebviewLike {
  private currentOptions: { readonly enableScripts?: boolean; readonly localResourceRoots?: readonly UriLike[] } = {};
  private currentHtml = '';
  disposed = false;
  readonly cspSource = 'https://*.vscode-cdn.net';
  readonly posted: unknown[] = [];
  readonly received: FakeEmitter<unknown>;
  private readonly waiters: { predicate: (m: unknown) => boolean; resolve: (m: unknown) => void }[] = [];

  constructor(tracker: Tracker) {
    this.received = new FakeEmitter<unknown>(tracker, 'webview.onDidReceiveMessage');
  }

  get options(): { readonly enableScripts?: boolean; readonly localResourceRoots?: readonly UriLike[] } {
    return this.currentOptions;
  }

  set options(value: { readonly enableScripts?: boolean; readonly localResourceRoots?: readonly UriLike[] }) {
    this.assertAlive();
    this.currentOptions = value;
  }

  get html(): string {
    return this.currentHtml;
  }

  set html(value: string) {
    this.assertAlive();
    checkWebviewHtml(value, this.currentOptions);
    this.currentHtml = value;
  }

  asWebviewUri(localResource: UriLike): UriLike {
    if (localResource.scheme !== 'file') throw new Error(`asWebviewUri expects a file: URI, got ${localResource.toString()}`);
    return new FakeUri('https', 'file+.vscode-resource.vscode-cdn.net', localResource.path);
  }

  postMessage(message: unknown): Thenable<boolean> {
    this.assertAlive();
    // VS Code clones messages into the webview; anything that does not clone would be lost there.
    const copy = structuredClone(message);
    this.posted.push(copy);
    for (const w of [...this.waiters]) {
      if (w.predicate(copy)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(copy);
      }
    }
    return Promise.resolve(true);
  }

  readonly onDidReceiveMessage: EventLike<unknown> = (listener, thisArgs, disposables) => this.received.event(listener, thisArgs, disposables);

  /** Test side: the webview script posts a message to the host. */
  send(message: unknown): void {
    this.received.fire(structuredClone(message));
  }

  /** Test side: resolves with the first posted message (already posted or future) matching `predicate`. */
  waitFor<T>(predicate: (m: unknown) => m is T, timeoutMs = 60_000): Promise<T> {
    const found = this.posted.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching webview message within ${timeoutMs} ms; posted: ${JSON.stringify(this.posted.map(summary))}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      });
    });
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('Webview is disposed');
  }
}

function summary(m: unknown): unknown {
  if (typeof m !== 'object' || m === null) return m;
  const { type, requestId, ok } = m as { type?: unknown; requestId?: unknown; ok?: unknown };
  return { type, requestId, ok };
}

/** The webview's security contract: CSP with a nonce, scripts carrying it, resources from allowed roots. */
export function checkWebviewHtml(html: string, options: { readonly enableScripts?: boolean; readonly localResourceRoots?: readonly UriLike[] }): void {
  const csp = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)?.[1]?.replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  if (!csp) throw new Error('webview html has no Content-Security-Policy meta tag');
  if (!/default-src 'none'/.test(csp)) throw new Error(`CSP must start from default-src 'none': ${csp}`);
  const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
  const scripts = [...html.matchAll(/<script\b([^>]*)>/gi)];
  if (scripts.length > 0) {
    if (!options.enableScripts) throw new Error('webview html has scripts but enableScripts is not set');
    if (!nonce || nonce.length < 16) throw new Error(`CSP script-src must be a nonce of >= 16 characters: ${csp}`);
    if (/unsafe-inline|unsafe-eval/.test(csp)) throw new Error(`CSP must not allow unsafe-inline/eval: ${csp}`);
  }
  const roots = (options.localResourceRoots ?? []).map((r) => r.path.replace(/\/?$/, '/'));
  for (const [, attrs] of scripts) {
    if (!attrs?.includes(`nonce="${nonce ?? ''}"`)) throw new Error(`a <script> lacks the CSP nonce: <script${attrs ?? ''}>`);
  }
  for (const m of html.matchAll(/\b(?:src|href)="([^"]+)"/g)) {
    const url = m[1] ?? '';
    if (!url.startsWith(CDN)) throw new Error(`webview resource ${url} is not an asWebviewUri URI`);
    const path = decodeURIComponent(url.slice(CDN.length));
    if (!roots.some((root) => path.startsWith(root))) throw new Error(`webview resource ${path} is outside localResourceRoots (${roots.join(', ')})`);
  }
}

export class FakeWebviewPanel implements WebviewPanelLike {
  readonly webview: FakeWebview;
  readonly viewType: string;
  readonly document: CustomDocumentLike;
  visible = true;
  private readonly disposeEmitter: FakeEmitter<void>;
  private readonly viewState: FakeEmitter<unknown>;
  private readonly onClosed: () => void;
  disposed = false;

  constructor(tracker: Tracker, viewType: string, document: CustomDocumentLike, onClosed: () => void) {
    this.webview = new FakeWebview(tracker);
    this.viewType = viewType;
    this.document = document;
    this.disposeEmitter = new FakeEmitter<void>(tracker, 'panel.onDidDispose');
    this.viewState = new FakeEmitter<unknown>(tracker, 'panel.onDidChangeViewState');
    this.onClosed = onClosed;
  }

  readonly onDidDispose: EventLike<void> = (l, t, d) => this.disposeEmitter.event(l, t, d);
  readonly onDidChangeViewState: EventLike<unknown> = (l, t, d) => this.viewState.event(l, t, d);

  /** The user closes the editor tab. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.webview.disposed = true;
    this.visible = false;
    this.disposeEmitter.fire();
    this.onClosed();
  }

  /** Listeners the extension still holds on this panel (must be 0 once it is closed). */
  get listenerCount(): number {
    return this.webview.received.listenerCount + this.disposeEmitter.listenerCount + this.viewState.listenerCount;
  }
}

export class FakeCancellationSource {
  private readonly emitter: FakeEmitter<unknown>;
  cancelled = false;
  readonly token: CancellationTokenLike;

  constructor(tracker: Tracker) {
    this.emitter = new FakeEmitter<unknown>(tracker, 'token.onCancellationRequested');
    const isCancelled = (): boolean => this.cancelled;
    this.token = {
      get isCancellationRequested() {
        return isCancelled();
      },
      onCancellationRequested: (l, t, d) => this.emitter.event(l, t, d),
    };
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emitter.fire(undefined);
  }
}

export interface ProgressRecord {
  readonly title: string | undefined;
  readonly cancellable: boolean;
  readonly reports: { message?: string; increment?: number }[];
  /** Presses Cancel on the notification; throws when it was not cancellable (there is no button). */
  cancel(): void;
  done: boolean;
}

interface Manifest {
  contributes: {
    customEditors: { viewType: string }[];
    commands: { command: string }[];
    configuration: { properties: Record<string, { default?: unknown }> };
  };
}

export class FakeVsCode {
  readonly tracker = new Tracker();
  readonly manifest: Manifest;
  readonly commandHandlers = new Map<string, (...args: unknown[]) => unknown>();
  readonly providers = new Map<string, ReadonlyEditorProviderLike>();
  readonly panels: FakeWebviewPanel[] = [];
  readonly output: string[] = [];
  /** Every URI read through workspace.fs.readFile, in order. */
  readonly reads: string[] = [];
  /** The open workspace's folders (none by default, as in an empty window); push to open one. */
  readonly workspaceFolders: { readonly uri: FakeUri }[] = [];
  /** When set, the next workspace.fs.writeFile writes half its bytes and then fails with this error. */
  failNextWrite: Error | undefined;
  readonly outputShown: boolean[] = [];
  readonly statusBar: { text: string; tooltip: string | vscode.MarkdownString | undefined; shown: boolean }[] = [];
  readonly progress: ProgressRecord[] = [];
  readonly infos: string[] = [];
  readonly errors: string[] = [];
  /** Scripted answers for dialogs, consumed in order. */
  readonly saveAnswers: ((options: unknown) => UriLike | undefined)[] = [];
  readonly openAnswers: ((options: unknown) => UriLike[] | undefined)[] = [];
  /** Answers to warning messages with items (the button chosen, or undefined for dismissed), in order; each message shown is recorded. */
  readonly warningAnswers: ((message: string, items: readonly string[]) => string | undefined)[] = [];
  readonly warnings: string[] = [];
  readonly settings = new Map<string, unknown>();
  private readonly configEmitter: FakeEmitter<ConfigurationChangeEventLike>;
  private readonly openDocuments = new Map<string, { document: CustomDocumentLike; editors: number }>();
  readonly api: VsCodeApi;

  constructor(manifestPath: string) {
    this.manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    this.configEmitter = new FakeEmitter<ConfigurationChangeEventLike>(this.tracker, 'workspace.onDidChangeConfiguration');
    this.api = this.makeApi();
  }

  /** Changes a setting (key without the "paintsUndo." prefix) and fires onDidChangeConfiguration. */
  setSetting(key: string, value: unknown): void {
    const full = `paintsUndo.${key}`;
    if (!(full in this.manifest.contributes.configuration.properties)) throw new Error(`setting ${full} is not declared in package.json`);
    this.settings.set(full, value);
    this.configEmitter.fire({ affectsConfiguration: (section) => full === section || full.startsWith(`${section}.`) });
  }

  context(extensionPath: string): ExtensionContextLike & { subscriptions: DisposableLike[] } {
    return { extensionPath, extensionUri: FakeUri.file(extensionPath), subscriptions: [], extension: { packageJSON: { version: '0.0.0-test' } } };
  }

  async executeCommand<T>(command: string, ...args: unknown[]): Promise<T> {
    return this.api.commands.executeCommand<T>(command, ...args);
  }

  get lastPanel(): FakeWebviewPanel {
    const panel = this.panels.at(-1);
    if (!panel) throw new Error('no editor was opened');
    return panel;
  }

  undisposed(): string[] {
    return this.tracker.undisposed();
  }

  private makeApi(): VsCodeApi {
    const tracker = this.tracker;
    const manifest = this.manifest;
    const settings = this.settings;
    return {
      window: {
        registerCustomEditorProvider: (viewType, provider) => {
          if (!manifest.contributes.customEditors.some((e) => e.viewType === viewType)) throw new Error(`custom editor ${viewType} is not contributed in package.json`);
          if (this.providers.has(viewType)) throw new Error(`A custom editor provider for '${viewType}' is already registered`);
          this.providers.set(viewType, provider);
          return tracker.track(`custom editor provider ${viewType}`, () => this.providers.delete(viewType));
        },
        createOutputChannel: (name): OutputChannelLike => {
          const handle = tracker.track(`output channel ${name}`);
          return {
            appendLine: (value) => {
              if (handle.disposed) throw new Error(`output channel ${name} used after dispose`);
              this.output.push(value);
            },
            show: (preserveFocus) => this.outputShown.push(preserveFocus ?? false),
            dispose: () => handle.dispose(),
          };
        },
        createStatusBarItem: (id): StatusBarItemLike => {
          const record = { text: '', tooltip: undefined as string | vscode.MarkdownString | undefined, shown: false };
          this.statusBar.push(record);
          const handle = tracker.track(`status bar item ${id}`, () => {
            record.shown = false;
          });
          return {
            get text() {
              return record.text;
            },
            set text(v: string) {
              if (handle.disposed) throw new Error(`status bar item ${id} used after dispose`);
              record.text = v;
            },
            get tooltip() {
              return record.tooltip;
            },
            set tooltip(v: string | vscode.MarkdownString | undefined) {
              record.tooltip = v;
            },
            command: undefined,
            name: undefined,
            show: () => {
              if (handle.disposed) throw new Error(`status bar item ${id} shown after dispose`);
              record.shown = true;
            },
            dispose: () => handle.dispose(),
          };
        },
        withProgress: <R>(options: { location: vscode.ProgressLocation; title?: string; cancellable?: boolean }, task: (progress: ProgressLike, token: CancellationTokenLike) => Thenable<R>): Thenable<R> => {
          if (![1, 10, 15].includes(options.location)) throw new Error(`unknown ProgressLocation ${String(options.location)}`);
          const source = new FakeCancellationSource(tracker);
          let total = 0;
          const record: ProgressRecord = {
            title: options.title,
            cancellable: options.cancellable === true,
            reports: [],
            cancel: () => {
              if (!record.cancellable) throw new Error('this progress notification has no Cancel button (cancellable was not set)');
              source.cancel();
            },
            done: false,
          };
          this.progress.push(record);
          const progress: ProgressLike = {
            report: (value) => {
              if (value.increment !== undefined) {
                if (value.increment < 0) throw new Error(`progress increment must be >= 0, got ${value.increment}`);
                total += value.increment;
                if (total > 100.0001) throw new Error(`progress increments sum to ${total} > 100`);
              }
              record.reports.push(value);
            },
          };
          return Promise.resolve(task(progress, source.token)).finally(() => {
            record.done = true;
          });
        },
        showSaveDialog: (options) => {
          const answer = this.saveAnswers.shift();
          if (!answer) throw new Error(`unexpected save dialog: ${JSON.stringify(options)}`);
          return Promise.resolve(answer(options));
        },
        showOpenDialog: (options) => {
          const answer = this.openAnswers.shift();
          if (!answer) throw new Error(`unexpected open dialog: ${JSON.stringify(options)}`);
          return Promise.resolve(answer(options));
        },
        showWarningMessage: (message, options, ...items) => {
          if (typeof options !== 'object' || options === null) throw new Error('showWarningMessage: the second argument must be MessageOptions ({ modal })');
          this.warnings.push(message);
          if (items.length === 0) return Promise.resolve(undefined);
          const answer = this.warningAnswers.shift();
          if (!answer) throw new Error(`unexpected warning with choices: ${message}`);
          const chosen = answer(message, items);
          if (chosen !== undefined && !items.includes(chosen)) throw new Error(`${chosen} is not one of the choices ${items.join(', ')}`);
          return Promise.resolve(chosen);
        },
        showErrorMessage: (message) => {
          this.errors.push(message);
          return Promise.resolve(undefined);
        },
        showInformationMessage: (message) => {
          this.infos.push(message);
          return Promise.resolve(undefined);
        },
        activeTextEditor: undefined,
        tabGroups: { activeTabGroup: { activeTab: undefined } },
      },
      commands: {
        registerCommand: (command, callback) => {
          if (!manifest.contributes.commands.some((c) => c.command === command)) throw new Error(`command ${command} is not contributed in package.json`);
          if (this.commandHandlers.has(command)) throw new Error(`command '${command}' already exists`);
          this.commandHandlers.set(command, callback);
          return tracker.track(`command ${command}`, () => this.commandHandlers.delete(command));
        },
        executeCommand: <T>(command: string, ...rest: unknown[]): Thenable<T> => {
          if (command === 'vscode.openWith') return this.openWith(rest[0], rest[1]) as unknown as Thenable<T>; // the caller names T, as with the real API
          const handler = this.commandHandlers.get(command);
          if (!handler) return Promise.reject(new Error(`command '${command}' not found`));
          try {
            return Promise.resolve(handler(...rest) as T);
          } catch (error) {
            return Promise.reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
      },
      workspace: {
        workspaceFolders: this.workspaceFolders,
        getConfiguration: (section) => ({
          get<T>(key: string): T | undefined {
            const full = `${section}.${key}`;
            const declared = manifest.contributes.configuration.properties[full];
            if (!declared) throw new Error(`setting ${full} is read but not declared in package.json`);
            return (settings.has(full) ? settings.get(full) : declared.default) as T | undefined;
          },
        }),
        onDidChangeConfiguration: (l, t, d) => this.configEmitter.event(l, t, d),
        fs: {
          readFile: async (uri) => {
            this.reads.push(uri.toString());
            return new Uint8Array(await readFile(uri.fsPath));
          },
          stat: async (uri) => ({ size: (await stat(uri.fsPath)).size }),
          writeFile: async (uri, content) => {
            await mkdir(join(uri.fsPath, '..'), { recursive: true });
            const failure = this.failNextWrite;
            if (failure) {
              // As a full disk does: part of the bytes land, then the write fails.
              this.failNextWrite = undefined;
              await writeFile(uri.fsPath, content.subarray(0, content.length >> 1));
              throw failure;
            }
            await writeFile(uri.fsPath, content);
          },
          rename: async (source, target, options) => {
            // VS Code refuses to replace an existing target unless asked to (FileSystemError.FileExists).
            if (!options?.overwrite && existsSync(target.fsPath)) throw new Error(`EntryExists: ${target.fsPath} (FileSystemError.FileExists)`);
            await rename(source.fsPath, target.fsPath);
          },
          delete: async (uri, options) => {
            await rm(uri.fsPath, { recursive: options?.recursive ?? false });
          },
          createDirectory: async (uri) => {
            await mkdir(uri.fsPath, { recursive: true });
          },
        },
      },
      Uri: {
        file: (path) => FakeUri.file(path),
        joinPath: (base, ...segments) => base.with({ path: [base.path.replace(/\/$/, ''), ...segments].join('/') }),
      },
      ProgressLocation: { Notification: 15 },
      StatusBarAlignment: { Left: 1 },
    };
  }

  private async openWith(resource: unknown, viewType: unknown): Promise<FakeWebviewPanel> {
    if (!(resource instanceof FakeUri)) throw new Error('vscode.openWith needs a Uri');
    if (typeof viewType !== 'string') throw new Error('vscode.openWith needs a view type');
    const provider = this.providers.get(viewType);
    if (!provider) throw new Error(`no custom editor provider for ${viewType}`);
    const key = resource.toString();
    let open = this.openDocuments.get(key);
    if (!open) {
      const source = new FakeCancellationSource(this.tracker);
      const document = await provider.openCustomDocument(resource, { backupId: undefined, untitledDocumentData: undefined }, source.token);
      if (document.uri.toString() !== key) throw new Error('openCustomDocument must return a document for the requested uri');
      open = { document, editors: 0 };
      this.openDocuments.set(key, open);
    }
    open.editors++;
    const entry = open;
    const panel = new FakeWebviewPanel(this.tracker, viewType, entry.document, () => {
      entry.editors--;
      if (entry.editors === 0) {
        this.openDocuments.delete(key);
        entry.document.dispose();
      }
    });
    this.panels.push(panel);
    const source = new FakeCancellationSource(this.tracker);
    await provider.resolveCustomEditor(entry.document, panel, source.token);
    return panel;
  }
}
