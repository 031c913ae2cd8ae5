/**
 * The "PaintsUndo Timeline" custom editor: a read-only editor (the source image is never modified)
 * whose webview talks to a TimelineSession. This adapter only wires the vscode objects to the session.
 */
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { watchSource } from '../core/source-watch.js';
import { TimelineSession, type EngineAccess, type SessionHost } from '../core/timeline-session.js';
import { webviewHtml } from '../core/webview-html.js';
import type { HostMessage } from '../core/messages.js';
import type { Settings } from '../core/settings.js';
import type { CancellationTokenLike, CustomDocumentLike, DisposableLike, ReadonlyEditorProviderLike, UriLike, VsCodeApi, WebviewPanelLike } from './api.js';

export const VIEW_TYPE = 'paintsUndo.timeline';

export interface TimelineEditorDeps {
  readonly api: VsCodeApi;
  readonly extensionUri: UriLike;
  readonly engine: EngineAccess;
  readonly settings: () => Settings;
  readonly log: (line: string) => void;
  /** Called with the number of open timeline editors whenever one opens or closes. */
  readonly onEditorsChanged?: (open: number) => void;
}

export class TimelineEditorProvider implements ReadonlyEditorProviderLike {
  private readonly deps: TimelineEditorDeps;
  private editors = 0;
  /** Open sessions and the listeners they hold on their panel. */
  private readonly sessions = new Map<TimelineSession, DisposableLike[]>();

  constructor(deps: TimelineEditorDeps) {
    this.deps = deps;
  }

  /** Open timeline editors (for tests and for the status bar). */
  get openEditors(): number {
    return this.sessions.size;
  }

  openCustomDocument(uri: UriLike): CustomDocumentLike {
    // Nothing to load or keep: the webview asks the engine for pixels; the file itself is only read.
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: CustomDocumentLike, panel: WebviewPanelLike, _token: CancellationTokenLike): void {
    const { api, extensionUri } = this.deps;
    const media = api.Uri.joinPath(extensionUri, 'media');
    const bundle = api.Uri.joinPath(extensionUri, 'out', 'webview');
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [media, bundle] };
    const fileName = basename(document.uri.path);
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(api.Uri.joinPath(bundle, 'main.js')).toString(),
      styleUri: webview.asWebviewUri(api.Uri.joinPath(media, 'webview.css')).toString(),
      title: `PaintsUndo Timeline: ${fileName}`,
    });

    const host: SessionHost = {
      post: (message: HostMessage) => {
        webview.postMessage(message).then(undefined, (error: unknown) => this.deps.log(`[extension] postMessage failed: ${String(error)}`));
      },
      showSaveDialog: async (options) => {
        const filters: Record<string, string[]> = {};
        for (const f of options.filters) filters[f.name] = [...f.extensions];
        const uri = await api.window.showSaveDialog({ defaultUri: api.Uri.file(options.defaultPath), filters, title: options.title, saveLabel: 'Export' });
        return uri?.fsPath;
      },
      showFolderDialog: async (options) => {
        const uris = await api.window.showOpenDialog({
          defaultUri: api.Uri.file(options.defaultPath),
          canSelectFiles: false,
          canSelectFolders: true,
          canSelectMany: false,
          title: options.title,
          openLabel: 'Export here',
        });
        return uris?.[0]?.fsPath;
      },
      withProgress: (title, task) =>
        Promise.resolve(
          api.window.withProgress({ location: api.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
            let reported = 0;
            const listeners: DisposableLike[] = [];
            try {
              return await task({
                report: (fraction, message) => {
                  // VS Code's progress takes increments in percent, not absolute values.
                  const percent = Math.round(fraction * 100);
                  progress.report({ message, increment: Math.max(0, percent - reported) });
                  reported = Math.max(reported, percent);
                },
                onCancel: (listener) => {
                  if (token.isCancellationRequested) listener();
                  else listeners.push(token.onCancellationRequested(() => listener()));
                },
              });
            } finally {
              for (const l of listeners) l.dispose();
            }
          }),
        ),
      writeFile: (path, bytes) => writeAtomically(api, path, bytes),
      confirmReplace: async (message) => (await api.window.showWarningMessage(message, { modal: true }, 'Replace')) === 'Replace',
      readSource: async () => api.workspace.fs.readFile(document.uri),
      sourceSize: async () => (await api.workspace.fs.stat(document.uri)).size,
      showInfo: (message) => void api.window.showInformationMessage(message),
      showError: (message) => void api.window.showErrorMessage(message),
    };

    this.editors++;
    const onDisk = document.uri.scheme === 'file';
    const session = new TimelineSession({
      sourcePath: onDisk ? document.uri.fsPath : undefined,
      fileName,
      // A document not on disk (a remote or virtual file system) has no folder to save beside: the first
      // workspace folder on disk, else the home folder, rather than the file system's root.
      confirmRestart: () => this.confirmRestart(),
      exportFolder: () => (onDisk ? dirname(document.uri.fsPath) : (api.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? homedir())),
      engine: this.deps.engine,
      host,
      settings: this.deps.settings,
      log: this.deps.log,
      sliderName: `editor-${this.editors}`,
    });
    const subscriptions: DisposableLike[] = [];
    if (onDisk) subscriptions.push(watchSource(document.uri.fsPath, () => void session.sourceChanged(), this.deps.log));
    this.sessions.set(session, subscriptions);
    this.deps.onEditorsChanged?.(this.sessions.size);
    subscriptions.push(
      webview.onDidReceiveMessage((message) => session.handle(message)),
      panel.onDidDispose(() => {
        session.dispose();
        this.sessions.delete(session);
        for (const s of subscriptions) s.dispose();
        this.deps.onEditorsChanged?.(this.sessions.size);
      }),
    );
  }

  /**
   * Whether to restart the engine: a restart stops every running export, so when any editor has one the
   * user is asked first (modally). True when nothing runs or the user chose Restart.
   */
  async confirmRestart(): Promise<boolean> {
    const running = [...this.sessions.keys()].reduce((n, session) => n + session.exportsRunning, 0);
    if (running === 0) return true;
    const what = running === 1 ? 'an export that is still running' : `${running} exports that are still running`;
    const answer = await this.deps.api.window.showWarningMessage(`Restarting the PaintsUndo engine stops ${what}. Restart anyway?`, { modal: true }, 'Restart');
    return answer === 'Restart';
  }

  /** Cancels every open editor's jobs (extension deactivation). */
  dispose(): void {
    for (const [session, subscriptions] of this.sessions) {
      session.dispose();
      for (const s of subscriptions) s.dispose();
    }
    this.sessions.clear();
  }
}

/**
 * Writes `bytes` to `path` through a hidden sibling that is renamed over it: a write that fails (disk
 * full, the window closing) leaves the file that was there whole, and never a half-written export.
 */
async function writeAtomically(api: VsCodeApi, path: string, bytes: Uint8Array): Promise<void> {
  const partial = api.Uri.file(join(dirname(path), `.${basename(path)}.${randomUUID().slice(0, 8)}.partial`));
  try {
    await api.workspace.fs.writeFile(partial, bytes);
    await api.workspace.fs.rename(partial, api.Uri.file(path), { overwrite: true });
  } catch (error) {
    await Promise.resolve(api.workspace.fs.delete(partial)).catch(() => undefined);
    throw error;
  }
}
