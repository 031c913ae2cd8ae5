/**
 * The part of the `vscode` API this extension uses, written against the real @types/vscode types.
 * `extension.ts` assigns the real `vscode` namespace to `VsCodeApi` (so the compiler proves the real API
 * satisfies it), and the tests implement it with a fake that enforces the same contracts
 * (tests/extension/fake-vscode.ts). Everything else in the adapter receives a `VsCodeApi`, never imports
 * `vscode` itself.
 *
 * Methods are declared with method syntax on purpose: their parameters are then compared bivariantly,
 * which lets the narrow `*Like` shapes below stand for the real classes (WebviewPanel, ...).
 */
import type * as vscode from 'vscode';

/** The real Uri class's shape (the fake implements all of it: documents hand URIs back to VS Code). */
export type UriLike = vscode.Uri;

export interface DisposableLike {
  dispose(): unknown;
}

/** vscode.Event: subscribe, get a disposable that unsubscribes. */
export type EventLike<T> = (listener: (e: T) => unknown, thisArgs?: unknown, disposables?: DisposableLike[]) => DisposableLike;

export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
  readonly onCancellationRequested: EventLike<unknown>;
}

export interface WebviewLike {
  options: { readonly enableScripts?: boolean; readonly localResourceRoots?: readonly UriLike[] };
  html: string;
  readonly cspSource: string;
  asWebviewUri(localResource: UriLike): UriLike;
  postMessage(message: unknown): Thenable<boolean>;
  readonly onDidReceiveMessage: EventLike<unknown>;
}

export interface WebviewPanelLike {
  readonly webview: WebviewLike;
  readonly visible: boolean;
  readonly onDidDispose: EventLike<void>;
  readonly onDidChangeViewState: EventLike<unknown>;
}

export interface CustomDocumentLike {
  readonly uri: UriLike;
  dispose(): void;
}

export interface ReadonlyEditorProviderLike {
  openCustomDocument(uri: UriLike, openContext: unknown, token: CancellationTokenLike): CustomDocumentLike | Thenable<CustomDocumentLike>;
  resolveCustomEditor(document: CustomDocumentLike, webviewPanel: WebviewPanelLike, token: CancellationTokenLike): void | Thenable<void>;
}

export interface OutputChannelLike extends DisposableLike {
  appendLine(value: string): void;
  show(preserveFocus?: boolean): void;
}

export interface StatusBarItemLike extends DisposableLike {
  text: string;
  tooltip: string | vscode.MarkdownString | undefined;
  command: string | vscode.Command | undefined;
  name: string | undefined;
  show(): void;
}

export interface ProgressLike {
  report(value: { message?: string; increment?: number }): void;
}

export interface ConfigurationLike {
  get<T>(section: string): T | undefined;
}

export interface ConfigurationChangeEventLike {
  affectsConfiguration(section: string): boolean;
}

export interface VsCodeApi {
  readonly window: {
    registerCustomEditorProvider(
      viewType: string,
      provider: ReadonlyEditorProviderLike,
      options?: { readonly webviewOptions?: { readonly retainContextWhenHidden?: boolean }; readonly supportsMultipleEditorsPerDocument?: boolean },
    ): DisposableLike;
    createOutputChannel(name: string): OutputChannelLike;
    createStatusBarItem(id: string, alignment?: vscode.StatusBarAlignment, priority?: number): StatusBarItemLike;
    withProgress<R>(
      options: { location: vscode.ProgressLocation; title?: string; cancellable?: boolean },
      task: (progress: ProgressLike, token: CancellationTokenLike) => Thenable<R>,
    ): Thenable<R>;
    showSaveDialog(options?: { defaultUri?: UriLike; filters?: { [name: string]: string[] }; title?: string; saveLabel?: string }): Thenable<UriLike | undefined>;
    showOpenDialog(options?: {
      defaultUri?: UriLike;
      canSelectFiles?: boolean;
      canSelectFolders?: boolean;
      canSelectMany?: boolean;
      title?: string;
      openLabel?: string;
    }): Thenable<UriLike[] | undefined>;
    showErrorMessage(message: string, ...items: string[]): Thenable<string | undefined>;
    showWarningMessage(message: string, options: { readonly modal?: boolean; readonly detail?: string }, ...items: string[]): Thenable<string | undefined>;
    showInformationMessage(message: string, ...items: string[]): Thenable<string | undefined>;
    readonly activeTextEditor: { readonly document: { readonly uri: UriLike } } | undefined;
    /** The active tab, for images shown in the built-in preview (no text editor then). */
    readonly tabGroups: { readonly activeTabGroup: { readonly activeTab: { readonly input: unknown } | undefined } };
  };
  readonly commands: {
    registerCommand(command: string, callback: (...args: unknown[]) => unknown): DisposableLike;
    executeCommand<T = unknown>(command: string, ...rest: unknown[]): Thenable<T>;
  };
  readonly workspace: {
    getConfiguration(section: string): ConfigurationLike;
    readonly onDidChangeConfiguration: EventLike<ConfigurationChangeEventLike>;
    readonly workspaceFolders: readonly { readonly uri: UriLike }[] | undefined;
    readonly fs: {
      readFile(uri: UriLike): Thenable<Uint8Array>;
      stat(uri: UriLike): Thenable<{ readonly size: number }>;
      writeFile(uri: UriLike, content: Uint8Array): Thenable<void>;
      rename(source: UriLike, target: UriLike, options?: { readonly overwrite?: boolean }): Thenable<void>;
      delete(uri: UriLike, options?: { readonly recursive?: boolean; readonly useTrash?: boolean }): Thenable<void>;
      createDirectory(uri: UriLike): Thenable<void>;
    };
  };
  readonly Uri: {
    file(path: string): UriLike;
    joinPath(base: UriLike, ...pathSegments: string[]): UriLike;
  };
  readonly ProgressLocation: { readonly Notification: vscode.ProgressLocation.Notification };
  readonly StatusBarAlignment: { readonly Left: vscode.StatusBarAlignment.Left };
}

/** What `activate` gets from the host (the part of ExtensionContext we use). */
export interface ExtensionContextLike {
  readonly extensionUri: UriLike;
  readonly extensionPath: string;
  readonly subscriptions: DisposableLike[];
  readonly extension?: { readonly packageJSON: { readonly version?: string } };
}
