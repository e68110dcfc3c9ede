import type { BufInfoEntry } from './bufinfo-entry.js';
import { liveBuffers } from './live-buffers.js';

/**
 * A snapshot of every dma-buf of this realm not yet released, in export order: the data
 * behind the kernel's debugfs `dma_buf/bufinfo`. The entries are plain data and lead back
 * to no buffer, so the listing gives no module a way in to another's buffers.
 */
export function bufinfoEntries(): readonly BufInfoEntry[] {
  return [...liveBuffers].map((buf) => buf.bufInfo());
}

const pad = (value: number | string, width: number) => String(value).padStart(width, '0');

/**
 * The listing as text, in the layout of the kernel's `dma_buf/bufinfo`: a line a buffer
 * (size, count, exporter, id, name), its attached devices with their outstanding mappings,
 * its CPU-access ranges and kmaps, the fences of its reservation still pending (as later
 * kernels print them), and the totals line `Total N objects, M bytes`.
 */
export function bufinfo(): string {
  const entries = bufinfoEntries();
  const lines = ['Dma-buf Objects:', 'size\tcount\texp_name\tid\tname'];
  let bytes = 0;
  for (const entry of entries) {
    bytes += entry.size;
    lines.push(`${pad(entry.size, 8)}\t${pad(entry.refCount, 8)}\t${entry.exporter}\t${pad(entry.id, 8)}\t${entry.name}`);
    lines.push('\tAttached Devices:');
    for (const attachment of entry.attachments) {
      const maps = attachment.mappings.length === 0 ? 'not mapped' : `mapped ${attachment.mappings.join(', ')}`;
      lines.push(`\t${attachment.device} (${maps})`);
    }
    lines.push(`Total ${entry.attachments.length} devices attached`);
    for (const range of entry.cpuAccess) {
      lines.push(`\tCPU access [${range.start}, ${range.start + range.len}) ${range.direction}`);
    }
    if (entry.kmaps + entry.atomicKmaps > 0) lines.push(`\tkmaps: ${entry.kmaps}, atomic: ${entry.atomicKmaps}`);
    for (const fence of entry.fences) lines.push(`\t${fence.usage} fence: context ${fence.context} seqno ${fence.seqno} unsignalled`);
    lines.push('');
  }
  lines.push(`Total ${entries.length} objects, ${bytes} bytes`);
  return lines.join('\n');
}
