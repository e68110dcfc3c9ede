// The page: runs the worker pipeline (program.ts) and shows what it did, how the bytes
// travelled, whether the page is cross-origin isolated, and any error.
import { runWorkerPipeline } from './program.js';

const log = document.getElementById('log');
const run = document.getElementById('run');
const error = document.getElementById('error');
const field = (id: string, text: string) => {
  const element = document.getElementById(id);
  if (element) element.textContent = text;
};
const say = (line: string) => { if (log) log.textContent += `${line}\n`; };

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

async function demo(): Promise<void> {
  if (log) log.textContent = '';
  if (error) error.hidden = true;
  field('isolated', globalThis.crossOriginIsolated ? 'yes' : 'no (the message transport only)');
  field('transport', '…');
  field('result', '…');
  const result = await runWorkerPipeline({ onStep: say });
  field('transport', result.transport);
  const inverted = result.output.every((byte, i) => byte === (~(result.input[i] ?? 0) & 0xff));
  field('result', `${inverted ? 'every byte inverted' : 'NOT inverted'}: ${hex(result.input.subarray(0, 8))} … became ${hex(result.output.subarray(0, 8))} …`);
  say(`page: released everything; the heap holds ${String(result.heap.stats().liveBuffers)} live buffers`);
}

function start(): void {
  demo().catch((failure: unknown) => {
    if (!error) return;
    error.textContent = `error: ${failure instanceof Error ? failure.message : String(failure)}`;
    error.hidden = false;
  });
}

run?.addEventListener('click', start);
start();
