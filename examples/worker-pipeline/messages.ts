// The two plain messages between the page and its consumer worker. They share the worker's
// channel with the library's socket, which ignores messages that are not its own.

/** The page asks the consumer to invert the buffer behind `fd` (a number in its inherited table). */
export interface InvertRequest {
  readonly kind: 'invert';
  readonly fd: number;
}

/** The consumer's answer, once its work is complete and the buffer is unmapped. */
export type ConsumerReply =
  | { readonly kind: 'inverted'; readonly segments: number; readonly device: string }
  | { readonly kind: 'failed'; readonly message: string };

/** Whether `data` is an {@link InvertRequest}. */
export function isInvertRequest(data: unknown): data is InvertRequest {
  return typeof data === 'object' && data !== null && (data as Partial<InvertRequest>).kind === 'invert' && typeof (data as Partial<InvertRequest>).fd === 'number';
}

/** Whether `data` is a {@link ConsumerReply}. */
export function isConsumerReply(data: unknown): data is ConsumerReply {
  const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
  return kind === 'inverted' || kind === 'failed';
}
