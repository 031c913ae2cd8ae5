/**
 * What the panel shows for each connection state of the engine client: a short label, the exact fix,
 * and a tone for colour. The states are the client's enum; the panel adds only 'unpaired' (no token yet).
 */
import type { ConnectionState } from '../../../engine/src/client/index.js';

export type PanelConnectionState = ConnectionState | 'unpaired';

export interface ConnectionView {
  readonly label: string;
  readonly fix: string;
  readonly tone: 'ok' | 'busy' | 'warn' | 'error';
}

export function describeConnection(state: PanelConnectionState, port: number, detail?: string): ConnectionView {
  switch (state) {
    case 'connected':
      return { label: 'Connected to the engine', fix: '', tone: 'ok' };
    case 'connecting':
      return { label: 'Connecting…', fix: `Looking for the engine on 127.0.0.1:${port}.`, tone: 'busy' };
    case 'disconnected':
      return {
        label: 'Engine not running',
        fix: `Start it in a terminal with \`paints-undo serve --port ${port}\`; the panel reconnects by itself.${detail ? ` (${detail})` : ''}`,
        tone: 'warn',
      };
    case 'unauthorized':
      return {
        label: 'Wrong token',
        fix: 'The engine refused the token. Paste the token that `paints-undo serve` printed (also in its token file) and press Pair.',
        tone: 'error',
      };
    case 'version-mismatch':
      return {
        label: 'Version mismatch',
        fix: `The engine speaks another protocol version${detail ? ` (${detail})` : ''}. Update the engine (npm) or this panel (.ccx) so both are the same release.`,
        tone: 'error',
      };
    case 'unpaired':
      return {
        label: 'Not paired',
        fix: 'Paste the token printed by `paints-undo serve` once; it is kept in the plugin’s secure storage.',
        tone: 'warn',
      };
  }
}
