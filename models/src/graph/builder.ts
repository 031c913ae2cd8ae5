/**
 * A small typed ONNX graph builder over onnx-proto. Weights become initializers stored as external
 * data that point into the original .safetensors files at their byte offsets (no copies); the session
 * is told the folder with `model_external_initializers_file_folder_path`.
 */
import onnxProto from 'onnx-proto';
import type { SafetensorsDtype } from '../safetensors.js';

const { onnx } = onnxProto;

/** opset 17: LayerNormalization; everything else we use is older. */
export const OPSET = 17;
export const IR_VERSION = 8;

export type ComputeDtype = 'float32' | 'float16';
export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'bfloat16' | 'uint8';

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  bfloat16: onnx.TensorProto.DataType.BFLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

const SAFETENSORS_ELEM: Partial<Record<SafetensorsDtype, ElemType>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
};

export function elemTypeOfSafetensors(dtype: SafetensorsDtype): ElemType | undefined {
  return SAFETENSORS_ELEM[dtype];
}

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

export type Dim = number | string;

export interface ExternalLocation {
  /** File name relative to the external-data folder (no directories: ORT refuses them outside the folder). */
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

export class GraphBuilder {
  readonly dtype: ComputeDtype;
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly constCache = new Map<string, string>();
  /** Operator domains besides the default one (e.g. com.microsoft contrib ops), with their opset. */
  private readonly domains = new Map<string, number>();
  private counter = 0;

  constructor(dtype: ComputeDtype) {
    this.dtype = dtype;
  }

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}__${this.counter}`;
  }

  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(value: string, name: string, type: ElemType, dims: readonly Dim[]): void {
    this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** An initializer whose bytes live in an external file (a .safetensors) at the given offset. */
  external(name: string, type: ElemType, dims: readonly number[], location: ExternalLocation): string {
    this.initializers.push({
      name,
      dataType: ELEM[type],
      dims: [...dims],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location.file },
        { key: 'offset', value: String(location.offset) },
        { key: 'length', value: String(location.length) },
      ],
    });
    return name;
  }

  /** A small constant stored inside the model (shapes, axes, scalars). */
  constant(type: 'float32' | 'float16' | 'int64', values: readonly number[], dims: readonly number[]): string {
    const key = `${type}|${dims.join(',')}|${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached !== undefined) return cached;
    const name = this.fresh('const');
    let raw: Uint8Array;
    if (type === 'int64') raw = new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
    else if (type === 'float32') raw = new Uint8Array(Float32Array.from(values).buffer);
    else raw = new Uint8Array(Uint16Array.from(values, toHalf).buffer);
    this.initializers.push({ name, dataType: ELEM[type], dims: [...dims], rawData: raw });
    this.constCache.set(key, name);
    return name;
  }

  /** A scalar (rank 0) in the compute dtype. */
  scalar(value: number): string {
    return this.constant(this.dtype, [value], []);
  }

  ints(values: readonly number[]): string {
    return this.constant('int64', values, [values.length]);
  }

  /** Values in the compute dtype with the given dims. */
  floats(values: readonly number[], dims: readonly number[]): string {
    return this.constant(this.dtype, values, dims);
  }

  op(type: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? this.fresh(type);
    this.nodes.push({
      opType: type,
      name: this.fresh(`n_${type}`),
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return out;
  }

  /** A node from another operator domain, e.g. onnxruntime's `com.microsoft` contrib ops (opset 1). */
  opInDomain(domain: string, version: number, type: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    this.domains.set(domain, version);
    const out = this.fresh(type);
    this.nodes.push({
      opType: type,
      domain,
      name: this.fresh(`n_${type}`),
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return out;
  }

  opMulti(type: string, inputs: readonly string[], outputs: number, attrs: Record<string, AttrValue> = {}): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(type));
    this.nodes.push({
      opType: type,
      name: this.fresh(`n_${type}`),
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return outs;
  }

  /** Number of external initializers (weights). */
  get weightCount(): number {
    return this.initializers.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL).length;
  }

  toBytes(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'paints-undo',
      opsetImport: [{ domain: '', version: OPSET }, ...[...this.domains].map(([domain, version]) => ({ domain, version }))],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: Buffer.from(value, 'utf8') };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for ${value}`);
    return { name, type: T.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}

/** IEEE 754 half from a number (round to nearest even). */
export function toHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const u32 = new Uint32Array(f32.buffer)[0] ?? 0;
  const sign = (u32 >>> 16) & 0x8000;
  const exp = (u32 >>> 23) & 0xff;
  let mant = u32 & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half += 1;
  e = half;
  return sign | e;
}
