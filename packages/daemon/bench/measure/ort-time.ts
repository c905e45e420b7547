import { basename, dirname } from 'node:path';
import { observeRuns } from '../../src/model/onnx-session';

/**
 * Milliseconds spent inside ONNX Runtime's run calls, by model component (the folder of the
 * model file: unet, text_encoder, vae_decoder, ...). The rest of a set's wall time is JavaScript
 * (or waiting on it): the pipeline runs one session call at a time on the main thread.
 */
export class OrtTime {
  private readonly byComponent = new Map<string, number>();

  constructor() {
    observeRuns((path, ms) => {
      const component = componentOf(path);
      this.byComponent.set(component, (this.byComponent.get(component) ?? 0) + ms);
    });
  }

  /** Totals since the last reset, and resets them. */
  take(): { totalMs: number; byComponent: Record<string, number> } {
    const byComponent = Object.fromEntries(this.byComponent);
    this.byComponent.clear();
    return { totalMs: Object.values(byComponent).reduce((a, b) => a + b, 0), byComponent };
  }
}

/** A rewritten U-Net lives in the cache folder, not under `unet/`: name it by its file instead. */
function componentOf(path: string): string {
  const folder = basename(dirname(path));
  return folder.startsWith('shared-unet-') ? 'unet' : folder;
}
