/**
 * Training kernels the wasm backend lacks (Conv2DBackpropFilter) or runs slowly
 * (Conv2DBackpropInput: rewritten as one call of wasm's own fast XNNPACK Conv2D on
 * transposed/flipped operands; BatchMatMul with transposed operands, 10-18× slower than an explicit
 * Transpose followed by the plain product; Slice, SplitV and Unpack, which copy the WHOLE input
 * out of the wasm heap for every slice they cut). Checked against the cpu backend in
 * test/model/wasm-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend & {
  disposeData(dataId: object): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array | Int32Array | Uint8Array;
};
type Run = (name: string, inputs: Record<string, Info>, attrs: Record<string, unknown>) => Info;

let registered = false;

/** Registers both kernels for the 'wasm' backend; safe to call more than once. Needs the wasm backend registered. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (original) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: (args) => conv2dBackpropInput(args as never, original?.kernelFunc),
  });
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  if (matMul) {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: (args) => batchMatMul(args as never, matMul.kernelFunc) });
  }
  for (const [name, kernelFunc] of [
    ['Slice', sliceKernel],
    ['SplitV', splitVKernel],
    ['Unpack', unpackKernel],
  ] as const) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: (args) => conv2dBackpropFilter(args as never) });
  }
  registered = true;
}

/** Runs other wasm kernels from inside a kernel, freeing every intermediate result it made. */
function kernelRunner(backend: Backend): { run: Run; free: () => void } {
  const made: Info[] = [];
  return {
    run(name, inputs, attrs) {
      const kernel = tf.getKernel(name, 'wasm');
      if (!kernel) throw new Error(`wasm kernel ${name} missing`);
      const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, attrs: attrs as tf.NamedAttrMap, backend }) as Info;
      made.push(out);
      return out;
    },
    free() {
      for (const info of made) backend.disposeData(info.dataId);
    },
  };
}

interface ConvGradArgs {
  inputs: Record<string, Info>;
  backend: Backend;
  attrs: {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape?: [number, number, number, number];
    inputShape?: [number, number, number, number];
  };
}

/** Crops/pads [before, after] amounts that may be negative into a padding + begin/size pair. */
function splitPad(len: number, before: number, after: number): { pad: [number, number]; begin: number; size: number } {
  const begin = Math.max(0, -before);
  const end = len - Math.max(0, -after);
  return { pad: [Math.max(0, before), Math.max(0, after)], begin, size: end - begin };
}

/**
 * dW[a,b,c,k] = Σ_{n,i,j} x[n, i·s+a−pt, j·s+b−pl, c] · dy[n,i,j,k]: a convolution of x (channels as
 * batch, batch as channels) with dy as the filter, dilated by the stride.
 */
function conv2dBackpropFilter({ inputs, backend, attrs }: ConvGradArgs): Info {
  const { x, dy } = inputs as { x: Info; dy: Info };
  if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const filterShape = attrs.filterShape!;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
  const [, H, W] = x.shape as number[];
  const { top, left } = info.padInfo;
  const rows = splitPad(H!, top, info.filterHeight + (info.outHeight - 1) * info.strideHeight - H! - top);
  const cols = splitPad(W!, left, info.filterWidth + (info.outWidth - 1) * info.strideWidth - W! - left);
  const { run, free } = kernelRunner(backend);
  try {
    let xT = run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [C, H, W, N]
    if (rows.size !== H || cols.size !== W) {
      xT = run('Slice', { x: xT }, { begin: [0, rows.begin, cols.begin, 0], size: [xT.shape[0], rows.size, cols.size, xT.shape[3]] });
    }
    const dyT = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [Ho, Wo, N, K]
    const out = run('Conv2D', { x: xT, filter: dyT }, {
      strides: [1, 1],
      dilations: [info.strideHeight, info.strideWidth],
      pad: [[0, 0], rows.pad, cols.pad, [0, 0]],
      dataFormat: 'NHWC',
    }); // [C, kh, kw, K]
    return tf.getKernel('Transpose', 'wasm')!.kernelFunc({ inputs: { x: out }, attrs: { perm: [1, 2, 0, 3] }, backend }) as Info;
  } finally {
    free();
  }
}

/**
 * dx = dy, with s−1 zeros inserted after each row and column for stride s, padded by kh−1−pt, then
 * correlated with the filter flipped in space and with in/out channels swapped.
 */
function conv2dBackpropInput({ inputs, backend, attrs }: ConvGradArgs, fallback: tf.KernelFunc | undefined): Info {
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const inputShape = attrs.inputShape!;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
  if (attrs.dataFormat !== 'NHWC') {
    if (!fallback) throw new Error('Conv2DBackpropInput (wasm): only NHWC is supported');
    return fallback({ inputs, backend, attrs: attrs as unknown as tf.NamedAttrMap }) as Info;
  }
  const [, H, W] = inputShape;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const { top, left } = info.padInfo;
  const { run, free } = kernelRunner(backend);
  try {
    const dilated = dilate(run, dy, sh, sw);
    const [, Lh, Lw] = dilated.shape as number[];
    const rows = splitPad(Lh!, kh - 1 - top, H - Lh! + top);
    const cols = splitPad(Lw!, kw - 1 - left, W - Lw! + left);
    let dyIn: Info = dilated;
    if (rows.size !== Lh || cols.size !== Lw) {
      dyIn = run('Slice', { x: dilated }, { begin: [0, rows.begin, cols.begin, 0], size: [dilated.shape[0], rows.size, cols.size, dilated.shape[3]] });
    }
    const flipped = run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, K, C]
    return tf.getKernel('Conv2D', 'wasm')!.kernelFunc({
      inputs: { x: dyIn, filter: swapped },
      attrs: { strides: [1, 1], dilations: [1, 1], pad: [[0, 0], rows.pad, cols.pad, [0, 0]], dataFormat: 'NHWC' },
      backend,
    }) as Info;
  } finally {
    free();
  }
}

/** [N, Ho, Wo, K] → [N, sh·Ho, sw·Wo, K] with dy at multiples of the stride and zeros elsewhere. */
function dilate(run: Run, dy: Info, sh: number, sw: number): Info {
  if (sh === 1 && sw === 1) return dy;
  const [N, Ho, Wo, K] = dy.shape as [number, number, number, number];
  const zeros = run('Fill', {}, { shape: dy.shape, value: 0, dtype: 'float32' });
  let x = dy;
  if (sw > 1) {
    const packed = run('Pack', [x, ...Array(sw - 1).fill(zeros)] as never, { axis: 3 }); // [N, Ho, Wo, sw, K]
    x = run('Reshape', { x: packed }, { shape: [N, Ho, Wo * sw, K] });
  }
  if (sh > 1) {
    const rowZeros = sw > 1 ? run('Fill', {}, { shape: x.shape, value: 0, dtype: 'float32' }) : zeros;
    const packed = run('Pack', [x, ...Array(sh - 1).fill(rowZeros)] as never, { axis: 2 }); // [N, Ho, sh, W', K]
    x = run('Reshape', { x: packed }, { shape: [N, Ho * sh, x.shape[2], K] });
  }
  return x;
}

interface MatMulArgs {
  inputs: { a: Info; b: Info };
  backend: Backend;
  attrs: { transposeA: boolean; transposeB: boolean };
}

/** Transposes operands explicitly (fast) so that wasm's plain product runs; gradients of matMul always transpose one side. */
function batchMatMul({ inputs, backend, attrs }: MatMulArgs, plain: tf.KernelFunc): Info {
  if (!attrs.transposeA && !attrs.transposeB) return plain({ inputs, backend, attrs: attrs as unknown as tf.NamedAttrMap }) as Info;
  const { run, free } = kernelRunner(backend);
  try {
    const swapLast = (x: Info): Info => {
      const perm = x.shape.map((_, i) => i);
      [perm[perm.length - 1], perm[perm.length - 2]] = [perm[perm.length - 2]!, perm[perm.length - 1]!];
      return run('Transpose', { x }, { perm });
    };
    const a = attrs.transposeA ? swapLast(inputs.a) : inputs.a;
    const b = attrs.transposeB ? swapLast(inputs.b) : inputs.b;
    return plain({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap }) as Info;
  } finally {
    free();
  }
}

/**
 * Copies x[begin : begin + size] into a new wasm tensor through views on the wasm heap, one
 * contiguous run at a time (the innermost dimensions that are taken whole form a single run).
 */
function sliceInto(backend: Backend, x: Info, begin: number[], size: number[]): Info {
  if (x.dtype === 'string') throw new Error('wasm Slice: string tensors are not supported');
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  // Views only after makeOutput: allocating may grow (and detach) the heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const shape = x.shape;
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  // Merge trailing dimensions taken whole into one contiguous run.
  let inner = rank - 1;
  let run = size[inner]!;
  while (inner > 0 && size[inner] === shape[inner]) {
    inner--;
    run *= size[inner]!;
  }
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(inner).fill(0);
  let base = 0;
  for (let d = 0; d <= inner; d++) base += begin[d]! * strides[d]!;
  for (let r = 0, o = 0; r < count; r++, o += run) {
    let offset = base;
    for (let d = 0; d < inner; d++) offset += idx[d]! * strides[d]!;
    dst.set(src.subarray(offset, offset + run), o);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < outer[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

function sliceKernel({ inputs, backend, attrs }: { inputs: { x: Info }; backend: Backend; attrs: { begin: number | number[]; size?: number | number[] } }): Info {
  const [begin, size] = tf.slice_util.parseSliceParams(inputs.x as tf.Tensor, attrs.begin, attrs.size);
  return sliceInto(backend, inputs.x, begin, size);
}

function splitVKernel({ inputs, backend, attrs }: { inputs: { x: Info }; backend: Backend; attrs: { numOrSizeSplits: number | number[]; axis: number } }): Info[] {
  const { x } = inputs;
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const out = sliceInto(backend, x, [...begin], size);
    begin[axis]! += s;
    return out;
  });
}

function unpackKernel({ inputs, backend, attrs }: { inputs: { value: Info }; backend: Backend; attrs: { axis: number } }): Info[] {
  const { value } = inputs;
  const axis = attrs.axis < 0 ? attrs.axis + value.shape.length : attrs.axis;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const size = [...value.shape];
  size[axis] = 1;
  return Array.from({ length: value.shape[axis]! }, (_, i) => {
    const begin = new Array<number>(value.shape.length).fill(0);
    begin[axis] = i;
    const out = sliceInto(backend, value, begin, size);
    // Drop the unpacked axis: same data, new shape.
    return { ...out, shape: outShape } as Info;
  });
}
