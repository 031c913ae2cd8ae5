/**
 * Starts the panel in a root element with a given host: the UXP bootstrap (scripts/build.mjs) passes the
 * Photoshop host, the Chromium tests pass the same host implementation over the fake Photoshop.
 */
import { PanelController, type ControllerOptions } from './controller.js';
import { PanelView } from './view.js';

export interface StartOptions extends ControllerOptions {
  readonly spectrum?: boolean;
}

export interface RunningPanel {
  readonly controller: PanelController;
  readonly view: PanelView;
}

export function startPanel(root: HTMLElement, options: StartOptions): RunningPanel {
  // The slider's frames are asked for at the preview area's size, measured when each one is asked for.
  const controller: PanelController = new PanelController({
    displaySize: (): number => view.previewDisplaySize(),
    ...options,
  });
  const view: PanelView = new PanelView(root, controller, { spectrum: options.spectrum ?? false });
  void controller.start();
  return { controller, view };
}
