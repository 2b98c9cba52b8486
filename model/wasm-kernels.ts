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

/** Registers these kernels for the wasm backend (after it has initialised); safe to call more than once. */
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
function kernelRunner(backend: Backend): { run: Run; free: () => void; keep: (info: Info) => Info } {
  const made: Info[] = [];
  return {
    /** Excludes a result from free(): it becomes the kernel's output. */
    keep(info) {
      made.splice(made.indexOf(info), 1);
      return info;
    },
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
 * dx by phases: for stride s, the input rows s·u + p (p < s) receive dy through the kernel taps
 * a ≡ p + pt (mod s) only. One Conv2D of dy with a phase kernel [L, L', K, s·s'·C] (the taps of
 * every phase, flipped and in/out-swapped, zero where a phase has fewer taps) gives all phases as
 * channels; interleaving them (a depth-to-space) and a crop give [N, H, W, C]. For stride 1 this is the
 * usual correlation with the flipped filter; for stride 2 it does 2.25× fewer multiply-adds than
 * correlating a zero-dilated dy.
 */
function conv2dBackpropInput({ inputs, backend, attrs }: ConvGradArgs, fallback: tf.KernelFunc | undefined): Info {
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const inputShape = attrs.inputShape!;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
  if (attrs.dataFormat !== 'NHWC' || info.strideHeight !== info.strideWidth) {
    if (!fallback) throw new Error('Conv2DBackpropInput (wasm): only NHWC with equal strides is supported');
    return fallback({ inputs, backend, attrs: attrs as unknown as tf.NamedAttrMap }) as Info;
  }
  const [N, H, W, C] = inputShape;
  const [, Ho, Wo, K] = dy.shape as [number, number, number, number];
  const s = info.strideHeight;
  const rows = phasePlan(info.filterHeight, s, info.padInfo.top, H, Ho);
  const cols = phasePlan(info.filterWidth, s, info.padInfo.left, W, Wo);
  const { run, free, keep } = kernelRunner(backend);
  try {
    // The phase kernel is small (filter-sized): build it in JS from the filter's values.
    const w = backend.readSync(filter.dataId) as Float32Array;
    const kw = info.filterWidth;
    const outC = s * s * C;
    const phaseKernel = backend.makeOutput([rows.L, cols.L, K, outC], 'float32');
    const pk = backend.typedArrayFromHeap(phaseKernel) as Float32Array;
    pk.fill(0);
    for (let pr = 0; pr < s; pr++) {
      for (let pc = 0; pc < s; pc++) {
        for (let mr = 0; mr < rows.L; mr++) {
          const a = rows.tap(pr, mr);
          if (a < 0) continue;
          for (let mc = 0; mc < cols.L; mc++) {
            const b = cols.tap(pc, mc);
            if (b < 0) continue;
            for (let c = 0; c < C; c++) {
              const src = ((a * kw + b) * C + c) * K; // W[a, b, c, :]
              const dst = (mr * cols.L + mc) * K * outC + (pr * s + pc) * C + c; // V[mr, mc, :, phase·C + c]
              for (let k = 0; k < K; k++) pk[dst + k * outC] = w[src + k]!;
            }
          }
        }
      }
    }
    let dyIn: Info = dy;
    if (rows.crop < Ho || cols.crop < Wo) {
      dyIn = run('Slice', { x: dy }, { begin: [0, 0, 0, 0], size: [N, rows.crop, cols.crop, K] });
    }
    const phases = run('Conv2D', { x: dyIn, filter: phaseKernel }, {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [[0, 0], [rows.padTop, rows.padBottom], [cols.padTop, cols.padBottom], [0, 0]],
      dataFormat: 'NHWC',
    }); // [N, U, U', s·s·C]
    backend.disposeData(phaseKernel.dataId);
    // Interleave the phases (what DepthToSpace does, but wasm's DepthToSpace is 15× slower than this):
    // [N·U, U', s_r, s_c·C] → swap U' and s_r → [N, s·U, s·U', C].
    const [, U, U2] = phases.shape as number[];
    const full =
      s > 1
        ? run(
            'Reshape',
            { x: run('Transpose', { x: run('Reshape', { x: phases }, { shape: [N * U!, U2!, s, s * C] }) }, { perm: [0, 2, 1, 3] }) },
            { shape: [N, s * U!, s * U2!, C] },
          )
        : phases;
    if (full.shape[1] === H && full.shape[2] === W) return keep(full);
    return tf.getKernel('Slice', 'wasm')!.kernelFunc({ inputs: { x: full }, attrs: { begin: [0, 0, 0, 0], size: [N, H, W, C] }, backend }) as Info;
  } finally {
    free();
  }
}

/**
 * One spatial axis of the phase decomposition: kernel k, stride s, leading pad pt, input length n,
 * dy length no. Phase p's taps are a = s·j + r_p (r_p = (p + pt) mod s), reading dy[u + q_p − j]
 * with q_p = ⌊(p + pt)/s⌋; with a common leading pad P on dy, phase p's taps sit at kernel offsets
 * m = M − 1 − j + (q_p − min q).
 */
function phasePlan(k: number, s: number, pt: number, n: number, no: number) {
  const M = Math.ceil(k / s);
  const q = Array.from({ length: s }, (_, p) => Math.floor((p + pt) / s));
  const r = Array.from({ length: s }, (_, p) => (p + pt) % s);
  const qMin = Math.min(...q);
  const e = q.map((v) => v - qMin);
  const L = M + Math.max(...e);
  const padTop = M - 1 - qMin;
  const U = Math.ceil(n / s);
  // Output length (no + padTop + padBottom) − L + 1 must be U; a negative bottom pad crops dy instead.
  const padBottomRaw = U + L - 1 - no - padTop;
  return {
    L,
    padTop,
    padBottom: Math.max(0, padBottomRaw),
    crop: no + Math.min(0, padBottomRaw),
    /** The filter tap at phase-kernel offset m for phase p, or −1 for a zero. */
    tap(p: number, m: number): number {
      const j = M - 1 - (m - e[p]!);
      if (j < 0 || j >= M) return -1;
      const a = s * j + r[p]!;
      return a < k ? a : -1;
    },
  };
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
