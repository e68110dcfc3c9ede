/**
 * A small ONNX model written byte by byte: the protobuf encoding of `onnx.ModelProto` for the
 * few fields the tests use (onnx/onnx.proto3's field numbers), so the tests download nothing.
 */

/** Protobuf's wire types: a varint, or a length-delimited field (bytes, strings, messages, packed lists). */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** ONNX's element type of float32 and int64 (`TensorProto.DataType`). */
const FLOAT = 1;
const INT64 = 7;

/** One message's bytes, built field by field. */
class Message {
  readonly #bytes: number[] = [];

  #varint(value: number | bigint): void {
    let rest = BigInt.asUintN(64, BigInt(value));
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      this.#bytes.push(rest === 0n ? low : low | 0x80);
    } while (rest !== 0n);
  }

  #key(field: number, wire: number): void {
    this.#varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.#key(field, VARINT);
    this.#varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#key(field, LENGTH_DELIMITED);
    this.#varint(value.length);
    this.#bytes.push(...value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.encode());
  }

  encode(): Uint8Array<ArrayBuffer> {
    return Uint8Array.from(this.#bytes);
  }
}

/** `ValueInfoProto` of a float32 tensor of shape `dims`. */
function floatValue(name: string, dims: readonly number[]): Message {
  const shape = new Message();
  for (const dim of dims) shape.message(1, new Message().int(1, dim));
  const tensorType = new Message().int(1, FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/** `TensorProto` of `values` (float32 or int64) with its bytes in `raw_data` (little-endian, as ONNX requires). */
function initializer(name: string, dims: readonly number[], values: Float32Array | BigInt64Array): Message {
  const tensor = new Message();
  for (const dim of dims) tensor.int(1, dim);
  return tensor
    .int(2, values instanceof Float32Array ? FLOAT : INT64)
    .string(8, name)
    .bytes(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** `NodeProto` named `name`: operator `op` from `inputs` to `outputs`, with integer attributes. */
function node(name: string, op: string, inputs: readonly string[], outputs: readonly string[], ints: Readonly<Record<string, number>> = {}): Message {
  const made = new Message();
  for (const input of inputs) made.string(1, input);
  for (const output of outputs) made.string(2, output);
  made.string(3, name).string(4, op);
  // AttributeProto: name (1), i (3), type (20; INT is 2).
  for (const [key, value] of Object.entries(ints)) made.message(5, new Message().string(1, key).int(3, value).int(20, 2));
  return made;
}

/** The sizes of the test model: `rows × inputs` float32 in, `rows × outputs` out. */
export interface DenseModelShape {
  readonly rows: number;
  readonly inputs: number;
  readonly outputs: number;
}

/**
 * The name of the model's node that computes `2 × Relu(gain)`: a session that runs it on the
 * CPU (`forceCpuNodeNames`) reads `Relu(gain)` back from the GPU first, and submits the work
 * that reads `x` only after that read-back.
 */
export const READ_BACK_NODE = 'double_gain';

/**
 * The bytes of an ONNX model (opset 17) with two float32 inputs, `x` of shape
 * `[rows, inputs]` and `gain` of shape `[1, inputs]`, and two outputs:
 * `y = Relu(MatMul(x × 2 Relu(gain), w) + b)` of shape `[rows, outputs]` and
 * `sum = ReduceSum(y, axis 0)` of shape `[outputs]`. The weights `w` and `b` are fixed values
 * in [-1, 1] made from the shape; `x` is read only after `2 Relu(gain)` is known.
 */
export function denseModel({ rows, inputs, outputs }: DenseModelShape): Uint8Array<ArrayBuffer> {
  const w = Float32Array.from({ length: inputs * outputs }, (_, i) => ((i * 5) % 9) / 4 - 1);
  const b = Float32Array.from({ length: outputs }, (_, i) => (i % 3) / 4 - 0.25);
  const graph = new Message()
    .message(1, node('relu_gain', 'Relu', ['gain'], ['positive_gain']))
    .message(1, node(READ_BACK_NODE, 'Add', ['positive_gain', 'positive_gain'], ['scale']))
    .message(1, node('scale_x', 'Mul', ['x', 'scale'], ['scaled']))
    .message(1, node('matmul', 'MatMul', ['scaled', 'w'], ['xw']))
    .message(1, node('bias', 'Add', ['xw', 'b'], ['z']))
    .message(1, node('relu', 'Relu', ['z'], ['y']))
    .message(1, node('sum', 'ReduceSum', ['y', 'axes'], ['sum'], { keepdims: 0 }))
    .string(2, 'dense')
    .message(5, initializer('w', [inputs, outputs], w))
    .message(5, initializer('b', [outputs], b))
    .message(5, initializer('axes', [1], BigInt64Array.of(0n)))
    .message(11, floatValue('x', [rows, inputs]))
    .message(11, floatValue('gain', [1, inputs]))
    .message(12, floatValue('y', [rows, outputs]))
    .message(12, floatValue('sum', [outputs]));
  // ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8).
  return new Message()
    .int(1, 8)
    .string(2, 'webgpu-dmabuf tests')
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, 17))
    .encode();
}
