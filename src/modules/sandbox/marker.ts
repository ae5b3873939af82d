/**
 * The modules whose code runs in the QuickJS sandbox (user modules loaded from source). The test
 * kit runs them without the host-side determinism guard: the sandbox has no clock, randomness or
 * timers to guard, and the guard's patched globals would reach the WebAssembly runtime itself.
 */
const sandboxed = new WeakSet<object>()

export function markSandboxed(module: object): void {
  sandboxed.add(module)
}

export function isSandboxed(module: object): boolean {
  return sandboxed.has(module)
}
