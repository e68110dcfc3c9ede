// One connection's outgoing order (remote/post-queue.ts): a message posted while nothing
// streams goes out within the call that posts it; one posted while a payload streams waits for
// it and for everything posted before it, in order, and a payload cut off (rejected) does not
// stop the ones after it; `clear` drops what is still waiting, and the queue posts at once again
// after that.
import { expect, test } from 'vitest';
import { PostQueue } from '../../remote/post-queue.js';

/** Lets pending promise callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

/** A payload that streams until `finish` or `fail` is called. */
function streaming(log: string[], name: string) {
  let finish = (): void => undefined;
  let fail = (): void => undefined;
  const task = () => {
    log.push(`${name} starts`);
    return new Promise<void>((resolve, reject) => {
      finish = () => {
        log.push(`${name} done`);
        resolve();
      };
      fail = () => {
        log.push(`${name} cut off`);
        reject(new Error(`${name} cut off`));
      };
    });
  };
  return { task, finish: () => { finish(); }, fail: () => { fail(); } };
}

test('with nothing streaming, a message goes out within the call that posts it', () => {
  const queue = new PostQueue();
  const log: string[] = [];
  queue.enqueue(() => { log.push('a'); });
  expect(log).toEqual(['a']);
  queue.enqueue(() => { log.push('b'); });
  expect(log).toEqual(['a', 'b']);
});

test('messages posted while a payload streams wait for it, then go out in the order posted', async () => {
  const queue = new PostQueue();
  const log: string[] = [];
  const payload = streaming(log, 'payload');
  queue.enqueue(payload.task);
  queue.enqueue(() => { log.push('a'); });
  queue.enqueue(() => { log.push('b'); });
  await flush();
  expect(log).toEqual(['payload starts']);
  payload.finish();
  await flush();
  expect(log).toEqual(['payload starts', 'payload done', 'a', 'b']);
  queue.enqueue(() => { log.push('c'); });
  expect(log, 'posted at once again once the queue is empty').toEqual(['payload starts', 'payload done', 'a', 'b', 'c']);
});

test('a payload queued behind another streams in its turn and holds back what came after it', async () => {
  const queue = new PostQueue();
  const log: string[] = [];
  const first = streaming(log, 'first');
  const second = streaming(log, 'second');
  queue.enqueue(first.task);
  queue.enqueue(second.task);
  queue.enqueue(() => { log.push('a'); });
  first.finish();
  await flush();
  expect(log).toEqual(['first starts', 'first done', 'second starts']);
  second.finish();
  await flush();
  expect(log).toEqual(['first starts', 'first done', 'second starts', 'second done', 'a']);
});

test('a payload cut off does not stop the messages after it', async () => {
  const queue = new PostQueue();
  const log: string[] = [];
  const payload = streaming(log, 'payload');
  queue.enqueue(payload.task);
  queue.enqueue(() => { log.push('a'); });
  payload.fail();
  await flush();
  expect(log).toEqual(['payload starts', 'payload cut off', 'a']);
});

test('clear drops what waits behind a payload; after the payload, messages go out at once again', async () => {
  const queue = new PostQueue();
  const log: string[] = [];
  const payload = streaming(log, 'payload');
  queue.enqueue(payload.task);
  queue.enqueue(() => { log.push('dropped'); });
  queue.clear();
  payload.finish();
  await flush();
  queue.enqueue(() => { log.push('a'); });
  expect(log).toEqual(['payload starts', 'payload done', 'a']);
});
