// The page: runs the flock in the mode its query asks for (?devices=1|2), one frame per
// animation frame, and shows the mode, the frame count, what crosses between devices and
// any error.
import type { BoidsProgram, DeviceMode } from './boids-program.js';
import { PARTICLES_SIZE } from './params.js';
import { deviceModeOf, startBoids } from './program.js';

const element = <T extends HTMLElement>(id: string, type: new () => T): T => {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no #${id} of the right kind`);
  return found;
};
const canvas = element('flock', HTMLCanvasElement);
const modeSelect = element('devices', HTMLSelectElement);
const pause = element('pause', HTMLButtonElement);
const modeView = element('mode', HTMLElement);
const frameView = element('frame', HTMLElement);
const copiedView = element('copied', HTMLElement);
const errorView = element('error', HTMLElement);

const MODE_TEXT: Record<DeviceMode, string> = {
  1: 'one device: simulation and rendering share plain GPUBuffers (the reference, no library)',
  2: 'two devices: the simulation module exports the particle buffers, the renderer module imports them by fd and maps them \'to-device\' every frame',
};

/** Shows `error` unless one is shown already: the first is the cause, later ones mostly its echoes. */
function showError(error: unknown): void {
  if (!errorView.hidden) return;
  // A DmaBufError's message starts with its errno name (ENODEV: no WebGPU here).
  errorView.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
  errorView.hidden = false;
}

/** Shows the frame count and what the last frame copied between devices (`lastFrame` bytes). */
function show(program: BoidsProgram, lastFrame: number): void {
  frameView.textContent = String(program.frame);
  copiedView.textContent = program.mode === 1
    ? 'nothing (one device)'
    : `${String(lastFrame)} bytes in the last frame (a particle buffer is ${String(PARTICLES_SIZE)}), ${String(program.bytesCopied)} in all, the initial upload included`;
}

async function main(): Promise<void> {
  const mode = deviceModeOf(location.search);
  modeSelect.value = String(mode);
  modeView.textContent = MODE_TEXT[mode];
  modeSelect.addEventListener('change', () => {
    // A fresh page per mode: each mode's devices start from nothing, as the test's runs do.
    location.search = `?devices=${modeSelect.value}`;
  });
  pause.addEventListener('click', () => {
    pause.setAttribute('aria-pressed', String(pause.getAttribute('aria-pressed') !== 'true'));
  });

  const program = await startBoids(mode, canvas);
  // Validation or out-of-memory errors reach no promise: without this they would only be in the console.
  for (const device of program.devices) {
    device.addEventListener('uncapturederror', (event) => { showError(new Error(`${device.label}: ${event.error.message}`)); });
  }
  addEventListener('pagehide', () => { void program.close().catch(showError); });
  show(program, 0);
  const tick = async (): Promise<void> => {
    // A shown error stops the flock: frames after it would only repeat it.
    if (!errorView.hidden) {
      await program.close();
      return;
    }
    if (pause.getAttribute('aria-pressed') !== 'true') {
      const before = program.bytesCopied;
      await program.step();
      show(program, program.bytesCopied - before);
    }
    requestAnimationFrame(() => { tick().catch(fail); });
  };
  const fail = (error: unknown): void => {
    showError(error);
    void program.close().catch(() => undefined);
  };
  requestAnimationFrame(() => { tick().catch(fail); });
}

main().catch(showError);
