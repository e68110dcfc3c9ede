// The messages between the page and a module worker, and the frame link's, are parsed as the fd
// socket's are: a well-formed message comes through field for field, and one broken field (a
// wrong type, an unknown kind, a count out of range) makes the whole message ignored. Errors
// cross as code, call and reason and come back as their own classes.
import { describe, expect, test } from 'vitest';
import { bufinfoEntries, DmaBufError, GpuHeap } from 'webgpu-dmabuf';
import { parseCameraFrames, parseCameraNotice, parseCameraSettings } from '../../elements/camera/camera-worker-wire.js';
import { DmabufElementError } from '../../elements/element-error.js';
import type { FrameInfo } from '../../elements/frame/frame-info.js';
import { rgbaFrameLayout } from '../../elements/kernels/frame-layout.js';
import { frameLinkMessage } from '../../elements/worker/frame-link.js';
import { fromWireError, toWireError } from '../../elements/worker/wire-fields.js';
import { fromWorkerMessage, toWorkerMessage } from '../../elements/worker/worker-protocol.js';
import { newDevice } from '../gpu/gpu-helpers.js';

const frame: FrameInfo = { layout: rgbaFrameLayout(4, 2), sequence: 3, origin: 1, capturedAt: 12.5, exporter: 'cam' };

describe('frame link', () => {
  test('an offer with well-formed frame info comes through as posted', () => {
    expect(frameLinkMessage({ dmabufFrame: 'offer', id: 7, frame })).toEqual({ dmabufFrame: 'offer', id: 7, frame });
  });

  test.each([
    ['an id of 0', { dmabufFrame: 'offer', id: 0, frame }],
    ['an id that is not an integer', { dmabufFrame: 'done', id: 1.5 }],
    ['an unknown kind', { dmabufFrame: 'steal', id: 1 }],
    ['a layout whose rows do not match its width', { dmabufFrame: 'offer', id: 1, frame: { ...frame, layout: { ...frame.layout, bytesPerRow: 15 } } }],
    ['a format other than rgba8', { dmabufFrame: 'offer', id: 1, frame: { ...frame, layout: { ...frame.layout, format: 'nv12' } } }],
    ['a capture time that is not a number', { dmabufFrame: 'offer', id: 1, frame: { ...frame, capturedAt: '12' } }],
    ['no frame', { dmabufFrame: 'offer', id: 1 }],
  ])('a message with %s is ignored', (_what, data) => {
    expect(frameLinkMessage(data)).toBeUndefined();
  });

  test('a message whose field getter throws is ignored, not thrown', () => {
    const data = { dmabufFrame: 'done', get id(): number { throw new Error('getter'); } };
    expect(frameLinkMessage(data)).toBeUndefined();
  });
});

describe('page to worker', () => {
  test('a start with a port comes through, the module\'s settings as they were posted', () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const start = { worker: 'start', role: 'filter', name: 'fx', settings: { effect: 'sobel' }, canvas: null, frames: port1 };
      expect(toWorkerMessage(start)).toEqual(start);
    } finally {
      port1.close();
      port2.close();
    }
  });

  test.each([
    ['an empty role', { worker: 'start', role: '', name: 'fx', settings: null, canvas: null, frames: null }],
    ['a canvas that is no OffscreenCanvas', { worker: 'start', role: 'view', name: 'v', settings: null, canvas: {}, frames: null }],
    ['a link without a port', { worker: 'link', port: {} }],
    ['a request whose call is 0', { worker: 'request', call: 0, method: 'capture', argument: null }],
    ['a notice with no name', { worker: 'notice', name: '', detail: {} }],
    ['a page-frames whose flag is no boolean', { worker: 'page-frames', on: 'yes' }],
    ['an unknown kind', { worker: 'effect', effect: 'sobel' }],
  ])('a message with %s is ignored', (_what, data) => {
    expect(toWorkerMessage(data)).toBeUndefined();
  });

  test('a notice and a page-frames come through, the notice\'s detail as it was posted', () => {
    const notice = { worker: 'notice', name: 'stream', detail: { readable: new ReadableStream() } };
    expect(toWorkerMessage(notice)).toEqual(notice);
    expect(toWorkerMessage({ worker: 'page-frames', on: false })).toEqual({ worker: 'page-frames', on: false });
  });

  test('the fd socket\'s and the frame link\'s messages are not the host\'s', () => {
    expect(toWorkerMessage({ dmabuf: 'webgpu-dmabuf/fd-socket@1', kind: 'shutdown' })).toBeUndefined();
    expect(toWorkerMessage({ dmabufFrame: 'done', id: 1 })).toBeUndefined();
  });
});

describe('worker to page', () => {
  test('a stopped worker\'s bufinfo listing of real buffers comes through entry for entry', async () => {
    const device = await newDevice('protocol device');
    const heap = new GpuHeap(device, { name: 'protocol' });
    const buf = heap.allocate(256, { name: 'listed' });
    try {
      const entries = bufinfoEntries();
      expect(entries).toHaveLength(1);
      expect(fromWorkerMessage({ worker: 'stopped', entries })).toEqual({ worker: 'stopped', entries });
      const broken = [{ ...entries[0], refCount: -1 }];
      expect(fromWorkerMessage({ worker: 'stopped', entries: broken })).toBeUndefined();
    } finally {
      buf.put();
      heap.destroy();
      device.destroy();
    }
  });

  test.each([
    ['a frame time that is not a number', { worker: 'frame-done', frameMs: 'fast', heap: null, detail: '' }],
    ['heap counts with a negative count', { worker: 'frame-done', frameMs: 1, heap: { liveBuffers: -1 }, detail: '' }],
    ['a ready without its exports flag', { worker: 'ready', device: 'd' }],
    ['a failure with an unknown code', { worker: 'failed', error: { type: 'DmabufElementError', code: 'EWHAT', call: 'x', reason: 'y' } }],
    ['a failure of an unknown class', { worker: 'failed', error: { type: 'TypeError', code: 'EINVAL', call: 'x', reason: 'y' } }],
    ['an answer with no call', { worker: 'answer', value: 1, error: null }],
  ])('a message with %s is ignored', (_what, data) => {
    expect(fromWorkerMessage(data)).toBeUndefined();
  });

  test.each([
    ['a DmaBufError', new DmaBufError('ENODEV', 'map', 'the device is lost'), DmaBufError],
    ['a DmabufElementError', new DmabufElementError('ENOFRAME', '<dmabuf-view>.capture', 'no frame on screen'), DmabufElementError],
  ])('%s crosses as code, call and reason and comes back as its own class', (_what, error, type) => {
    const message = fromWorkerMessage({ worker: 'failed', error: toWireError(error, 'worker v') });
    const back = message?.worker === 'failed' ? message.error : undefined;
    expect(back).toBeInstanceOf(type);
    expect([back?.code, back?.call, back?.reason, back?.message]).toEqual([error.code, error.call, error.reason, error.message]);
  });

  test('an error of no typed class crosses as EWORKER of the realm, its message the reason', () => {
    const back = fromWireError(toWireError(new TypeError('x is not a function'), 'worker fx'));
    expect(back).toBeInstanceOf(DmabufElementError);
    expect([back?.code, back?.call, back?.reason]).toEqual(['EWORKER', 'worker fx', 'x is not a function']);
  });
});

describe('the camera\'s worker', () => {
  const settings = { source: 'pattern', width: 160, height: 120, paused: false, uncapped: true, forcePath: '' };

  test('its settings, notices and frames come through as posted', () => {
    expect(parseCameraSettings(settings)).toEqual(settings);
    expect(parseCameraNotice('path', { path: 'external-texture', skipped: [] })).toEqual({ name: 'path', path: 'external-texture', skipped: [] });
    expect(parseCameraNotice('layout', { width: 160, height: 120 })).toEqual({ name: 'layout', width: 160, height: 120 });
    expect(parseCameraNotice('feeds', { readsTracks: false })).toEqual({ name: 'feeds', readsTracks: false });
    expect(parseCameraNotice('paused', { sequence: 7 })).toEqual({ name: 'paused', sequence: 7 });
    const picture = new VideoFrame(new Uint8Array(4 * 4 * 4), { format: 'RGBA', codedWidth: 4, codedHeight: 4, timestamp: 0 });
    try {
      expect(parseCameraFrames('frames', { frame: picture })).toEqual({ feed: 'frames', frame: picture });
      // A frame posted under another feed's name is not taken.
      expect(parseCameraFrames('stream', { readable: picture })).toBeUndefined();
    } finally {
      picture.close();
    }
  });

  test.each([
    ['a size of 0', { ...settings, width: 0 }],
    ['an unknown source', { ...settings, source: 'screen' }],
    ['a paused that is no boolean', { ...settings, paused: 1 }],
  ])('settings with %s are not taken', (_what, data) => {
    expect(parseCameraSettings(data)).toBeUndefined();
  });

  test.each([
    ['path', { path: 'warp-drive', skipped: [] }],
    ['path', { path: 'pattern', skipped: 'none' }],
    ['layout', { width: 160 }],
    ['feeds', {}],
    ['paused', { sequence: -1 }],
    ['unknown', { width: 1, height: 1 }],
  ])('a %s notice %o is ignored', (name, detail) => {
    expect(parseCameraNotice(name, detail)).toBeUndefined();
  });
});
