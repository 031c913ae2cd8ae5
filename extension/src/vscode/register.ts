/**
 * Everything `activate` registers, given the vscode API (real or fake) and the extension context:
 * the custom editor, the commands, the status bar item, the output channel and the engine manager.
 * Nothing starts here: the engine starts when the first timeline editor asks for it.
 */
import { EngineManager, type EngineStatus } from '../core/engine-manager.js';
import type { EngineState } from '../core/messages.js';
import { readSettings, SETTINGS_SECTION, type Settings } from '../core/settings.js';
import type { DisposableLike, ExtensionContextLike, UriLike, VsCodeApi } from './api.js';
import { TimelineEditorProvider, VIEW_TYPE } from './timeline-editor.js';

export const COMMANDS = {
  openTimeline: 'paintsUndo.openTimeline',
  restartEngine: 'paintsUndo.restartEngine',
  clearCache: 'paintsUndo.clearCache',
  showLog: 'paintsUndo.showLog',
} as const;

export interface ExtensionRuntime {
  readonly engine: EngineManager;
  readonly editors: TimelineEditorProvider;
  /** Stops the engine and disposes everything; resolves when no engine child is left. */
  dispose(): Promise<void>;
}

const STATUS_ICON: Readonly<Record<EngineState, string>> = {
  idle: '$(circle-outline)',
  starting: '$(loading~spin)',
  connecting: '$(loading~spin)',
  connected: '$(check)',
  disconnected: '$(debug-disconnect)',
  unauthorized: '$(lock)',
  'version-mismatch': '$(warning)',
  failed: '$(error)',
};

function isUri(value: unknown): value is UriLike {
  return typeof value === 'object' && value !== null && typeof (value as UriLike).fsPath === 'string' && typeof (value as UriLike).scheme === 'string';
}

export interface RegisterOptions {
  /** How long the engine stays up after the last timeline editor closed (default 5 s: a quick reopen reuses it). */
  readonly idleStopMs?: number;
}

export function register(api: VsCodeApi, context: ExtensionContextLike, options: RegisterOptions = {}): ExtensionRuntime {
  const output = api.window.createOutputChannel('PaintsUndo Engine');
  // The engine's last stderr lines can arrive after its exit event, when the channel is already gone.
  let outputOpen = true;
  const log = (line: string): void => {
    if (outputOpen) output.appendLine(line);
  };
  // Settings are read often (each editor, each export): an invalid value is logged once, not on every read.
  const reportedInvalid = new Set<string>();
  const settings = (): Settings =>
    readSettings(
      (key) => api.workspace.getConfiguration(SETTINGS_SECTION).get(key),
      (key, value) => {
        const line = `[extension] setting paintsUndo.${key} = ${JSON.stringify(value)} is invalid; using the default`;
        if (reportedInvalid.has(line)) return;
        reportedInvalid.add(line);
        log(line);
      },
    );
  const version = context.extension?.packageJSON.version ?? '0';
  const engine = new EngineManager({ extensionPath: context.extensionPath, settings, log, clientName: `vscode-extension/${version}` });
  // The engine only runs while timeline editors are open: it holds memory (decoded images, timelines).
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const onEditorsChanged = (open: number): void => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
    if (open > 0 || engine.state.state === 'idle') return;
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      log('[extension] no timeline editor is open: stopping the engine');
      engine.stop().catch((error: unknown) => log(`[extension] stopping the engine failed: ${String(error)}`));
    }, options.idleStopMs ?? 5_000);
  };
  const editors = new TimelineEditorProvider({ api, extensionUri: context.extensionUri, engine, settings, log, onEditorsChanged });

  const status = api.window.createStatusBarItem('paintsUndo.engine', api.StatusBarAlignment.Left, 10);
  status.name = 'PaintsUndo Engine';
  status.command = COMMANDS.showLog;
  const render = (s: EngineStatus): void => {
    status.text = `${STATUS_ICON[s.state]} PaintsUndo: ${s.state}`;
    status.tooltip = s.message ? `${s.message}\n(click for the engine log)` : 'PaintsUndo engine (click for the log)';
  };
  render(engine.state);
  status.show();
  const stopListening = engine.onDidChangeState(render);

  const disposables: DisposableLike[] = [
    output,
    status,
    { dispose: stopListening },
    api.window.registerCustomEditorProvider(VIEW_TYPE, editors, { supportsMultipleEditorsPerDocument: true }),
    api.commands.registerCommand(COMMANDS.openTimeline, (arg: unknown) => {
      const input = api.window.tabGroups.activeTabGroup.activeTab?.input;
      const tabUri = typeof input === 'object' && input !== null ? (input as { uri?: unknown }).uri : undefined;
      const uri = isUri(arg) ? arg : isUri(tabUri) ? tabUri : api.window.activeTextEditor?.document.uri;
      if (!uri) {
        void api.window.showErrorMessage('PaintsUndo: select an image (PNG, JPEG, WebP or PSD) in the explorer, then run "Open in PaintsUndo Timeline".');
        return undefined;
      }
      return api.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE);
    }),
    api.commands.registerCommand(COMMANDS.restartEngine, async () => {
      if (!(await editors.confirmRestart())) return;
      try {
        const info = await api.window.withProgress({ location: api.ProgressLocation.Notification, title: 'PaintsUndo: restarting the engine' }, () => engine.restart());
        void api.window.showInformationMessage(`PaintsUndo: engine ${info.version} restarted (${info.transport}).`);
      } catch (error) {
        void api.window.showErrorMessage(`PaintsUndo: the engine did not restart: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        // Started with no timeline editor open: it stops again after the idle delay, as after the last editor.
        onEditorsChanged(editors.openEditors);
      }
    }),
    api.commands.registerCommand(COMMANDS.clearCache, async () => {
      try {
        const r = await engine.clearCache();
        void api.window.showInformationMessage(`PaintsUndo: cleared the engine cache (${r.removedEntries} results, ${(r.freedBytes / 1e6).toFixed(1)} MB).`);
      } catch (error) {
        void api.window.showErrorMessage(`PaintsUndo: could not clear the cache: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        onEditorsChanged(editors.openEditors);
      }
    }),
    api.commands.registerCommand(COMMANDS.showLog, () => output.show(true)),
    api.workspace.onDidChangeConfiguration((e) => {
      const engineChanged = e.affectsConfiguration(`${SETTINGS_SECTION}.engine`) || e.affectsConfiguration(`${SETTINGS_SECTION}.modelsPath`);
      if (engineChanged && engine.state.state !== 'idle') {
        engine.restart().catch((error: unknown) => log(`[extension] restart after a settings change failed: ${String(error)}`));
      }
    }),
  ];

  let disposed: Promise<void> | undefined;
  return {
    engine,
    editors,
    dispose() {
      disposed ??= (async () => {
        if (idleTimer) clearTimeout(idleTimer);
        editors.dispose();
        await engine.dispose();
        // The output channel goes last so that the engine's final log lines still reach it.
        outputOpen = false;
        for (const d of disposables.reverse()) d.dispose();
      })();
      return disposed;
    },
  };
}
