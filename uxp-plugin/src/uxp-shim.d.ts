/**
 * What the UXP typings (@adobe/cc-ext-uxp-types 7.3) lack but UXP provides at run time: `console`,
 * timers, and the event-listener half of WebSocket (the typings declare only send/close).
 */
interface Console {
  log(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
}
declare const console: Console;
declare function setTimeout(handler: () => void, timeout?: number): number;
declare function clearTimeout(handle: number | undefined): void;

interface WebSocket {
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: { data?: unknown; reason?: string; code?: number; message?: string }) => void,
  ): void;
}
