/**
 * ffi-rs, loaded the quick way: its native binding directly. `require('ffi-rs')` first works out
 * which binding to load, calling `process.report.getReport()` to tell glibc from musl, which
 * costs about 5 ms of every command's start (the binding itself loads in about 1 ms). The
 * binding of this machine's package is named by platform and arch; npm installs the glibc one
 * only on glibc systems. Where it is absent or does not load (musl, other platforms), ffi-rs's
 * own loader is used. The rest of src/sys imports ffi-rs only through this module.
 */
import type FfiRs from 'ffi-rs';
import { createRequire } from 'node:module';

type Ffi = Pick<typeof FfiRs, 'DataType' | 'open' | 'load' | 'createPointer' | 'unwrapPointer' | 'createExternalBuffer'>;
type Params = { paramsType?: unknown[]; paramsValue?: unknown[]; freeResultMemory?: boolean };

const require = createRequire(import.meta.url);

/** The package ffi-rs publishes its glibc Linux binding in, for this arch; undefined elsewhere. */
function bindingPackage(): string | undefined {
  return process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')
    ? `@yuuang/ffi-rs-linux-${process.arch}-gnu`
    : undefined;
}

/**
 * The binding's calls, with what ffi-rs's wrapper adds to them: an array argument (a Buffer as
 * U8Array, ...) carries its length in its type, and results are not freed unless asked. Unlike
 * the wrapper, a call with no array argument passes its params object through with no new
 * arrays (lean-futex.ts reuses one object per call), and the paramsType of a reused params
 * object is never replaced by the lengths of one call's arguments.
 */
function wrap(binding: typeof FfiRs): Ffi {
  const { DataType } = binding;
  const ARRAY_TAG = (binding.FFITypeTag as unknown as { Array: number }).Array; // in the binding, not in ffi-rs' types
  const arrayTypes = new Set<unknown>([DataType.U8Array, DataType.I16Array, DataType.I32Array, DataType.DoubleArray, DataType.FloatArray, DataType.StringArray]);
  const withLengths = <P extends Params>(params: P): P => {
    const types = params.paramsType;
    if (types === undefined || !types.some((type) => arrayTypes.has(type))) return params;
    const paramsType = types.map((type, index) =>
      arrayTypes.has(type) ? { ffiTypeTag: ARRAY_TAG, type, length: (params.paramsValue![index] as { length: number }).length } : type,
    );
    return { ...params, paramsType };
  };
  const load = ((params: Params) => {
    params.freeResultMemory ??= false; // set once on a reused object, as ffi-rs's wrapper does
    return binding.load(withLengths(params) as never);
  }) as Ffi['load'];
  return {
    DataType,
    open: binding.open,
    load,
    createPointer: ((params: Params) => binding.createPointer(withLengths(params) as never)) as Ffi['createPointer'],
    unwrapPointer: binding.unwrapPointer,
    createExternalBuffer: binding.createExternalBuffer,
  };
}

function loadFfi(): Ffi {
  const name = bindingPackage();
  if (name !== undefined) {
    try {
      return wrap(require(name) as typeof FfiRs);
    } catch {
      // absent or not loadable here (a musl system, say): ffi-rs's loader knows the others
    }
  }
  return require('ffi-rs') as typeof FfiRs;
}

export const ffi: Ffi = loadFfi();
