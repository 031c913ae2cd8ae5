/**
 * Protocol constants without dependencies, so the CLI can name the default port without loading zod
 * and the protocol schemas at start-up. protocol.ts re-exports them.
 */
/** Bumped on any incompatible change; clients refuse (state 'version-mismatch') when it differs. */
export const PROTOCOL_VERSION = 1;
/**
 * Default TCP port of `paints-undo serve` on 127.0.0.1. Chosen outside the ranges common dev servers
 * use (3000, 5173, 8000, 8080, 7860 Gradio, 8188 ComfyUI) so the engine can run next to them.
 */
export const DEFAULT_PORT = 7439;
/** WebSocket subprotocol every client offers; the server selects it. */
export const WS_SUBPROTOCOL = 'paints-undo.v1';
/**
 * Browsers and UXP cannot set headers on a WebSocket, so the token may travel as a second offered
 * subprotocol `paints-undo.token.<token>` (the token is hex, a valid subprotocol token), or in the
 * first message (`hello`).
 */
export const WS_TOKEN_SUBPROTOCOL_PREFIX = 'paints-undo.token.';
