/** Sleeps the calling thread without FFI (Atomics.wait on a private word no one will change). */
const privateWord = new Int32Array(new SharedArrayBuffer(4));

export function sleepSync(ms: number): void {
  Atomics.wait(privateWord, 0, 0, ms);
}
