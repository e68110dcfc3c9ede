// A producer and a consumer on one buffer, ordered by a fence instead of by who awaits what:
// the producer imports a pending fence of its timeline as a 'write' fence, the consumer's
// CPU read waits for it, and advancing the timeline lets it through.
import { DmaFenceTimeline, FdTable, GpuHeap, PAGE_SIZE, requestGpuDevice, type DmaFence } from 'webgpu-dmabuf';

const log = document.getElementById('log');
const timelineView = document.getElementById('timeline');
const produceButton = document.getElementById('produce') as HTMLButtonElement | null;
const advanceButton = document.getElementById('advance') as HTMLButtonElement | null;
const say = (line: string) => { if (log) log.textContent = `${line}\n${log.textContent}`; };

const fences: { fence: DmaFence; waiting: boolean }[] = [];

/** Draws the timeline: one box per fence, signalled or pending, and the consumer waiting on it. */
function draw(timeline: DmaFenceTimeline): void {
  if (!timelineView) return;
  timelineView.replaceChildren(
    ...fences.map(({ fence, waiting }) => {
      const box = document.createElement('div');
      box.setAttribute('role', 'listitem');
      box.className = `point ${fence.signaled ? 'signaled' : 'pending'}`;
      box.textContent = `#${fence.seqno}`;
      const note = document.createElement('small');
      note.textContent = fence.signaled ? 'signalled' : waiting ? 'reader waits' : 'pending';
      box.append(note);
      return box;
    }),
  );
  timelineView.setAttribute('aria-description', `value ${timeline.value}`);
}

async function main(): Promise<void> {
  const device = await requestGpuDevice({ label: 'producer device' });
  const heap = new GpuHeap(device, { name: 'producer-heap' });
  const producerTable = new FdTable();
  const consumerTable = new FdTable();
  const buf = heap.allocate(PAGE_SIZE, { name: 'fenced page' });
  const fd = producerTable.install(buf);
  buf.put();
  const consumerFd = producerTable.send(fd, consumerTable);
  const timeline = new DmaFenceTimeline('producer');
  const own = producerTable.get(fd);
  const attachment = own.attach(device);
  let step = 0;

  const produce = async () => {
    step += 1;
    const value = step;
    // The producer's mapping comes first: its own writes are what the fence stands for.
    const sgt = await attachment.map('from-device');
    const fence = timeline.fence(value);
    own.importSyncFile(fence, 'write');
    const entry = { fence, waiting: false };
    fences.push(entry);
    for (const segment of sgt.segments) device.queue.writeBuffer(segment.buffer, segment.offset, new Uint8Array(segment.length).fill(value));
    say(`producer: wrote ${value} into every byte, with fence #${value} pending on timeline "${timeline.name}"`);

    // The consumer, another module, reads at once: its begin waits for the write fence.
    const reader = consumerTable.get(consumerFd);
    entry.waiting = true;
    draw(timeline);
    say(`consumer: beginCpuAccess(0, ${PAGE_SIZE}, 'from-device') called; waiting…`);
    if (advanceButton) advanceButton.disabled = false;
    await reader.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    entry.waiting = false;
    const view = reader.kmap(0);
    say(`consumer: the fence signalled; it reads ${view[0] ?? '?'} … ${view[PAGE_SIZE - 1] ?? '?'}`);
    reader.kunmap(0, view);
    reader.endCpuAccess(0, PAGE_SIZE, 'from-device');
    reader.put();
    await attachment.unmap(sgt, 'from-device');
    draw(timeline);
  };

  produceButton?.addEventListener('click', () => {
    if (produceButton.disabled) return;
    produceButton.disabled = true;
    produce().catch(show).finally(() => { produceButton.disabled = false; });
  });
  advanceButton?.addEventListener('click', () => {
    timeline.advance();
    advanceButton.disabled = true;
    say(`producer: advanced "${timeline.name}" to ${timeline.value}`);
    draw(timeline);
  });
  draw(timeline);
  produceButton?.click();
}

function show(error: unknown): void {
  const p = document.createElement('p');
  p.className = 'error';
  p.setAttribute('role', 'alert');
  p.textContent = error instanceof Error ? error.message : String(error);
  log?.before(p);
}

main().catch(show);
