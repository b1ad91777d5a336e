// The training engine: @jax-js/jax on one device. `wasm` is the default (CPU, what CI has),
// `webgpu` runs the same programs on a GPU adapter, `cpu` is jax-js's interpreted reference
// backend (slow; used for float64 gradient checks).

import { defaultDevice, init } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";

export const DEVICES = ["wasm", "webgpu", "cpu"] as const;
export type Device = typeof DEVICES[number];

/** Parses a `--device` value. */
export function parseDevice(value: string): Device {
  if (!(DEVICES as readonly string[]).includes(value)) {
    throw new UsageError(`--device '${value}' is not one of ${DEVICES.join(", ")}`);
  }
  return value as Device;
}

/** What the engine needs from the platform; injectable so tests can model a missing GPU. */
export interface Platform {
  requestAdapter(): Promise<unknown | null>;
}

const denoPlatform: Platform = {
  requestAdapter:
    async () => (globalThis.navigator?.gpu ? await navigator.gpu.requestAdapter() : null),
};

/**
 * Starts jax-js and makes `device` the default. Fails with a one-line usage error when WebGPU
 * is asked for and no adapter exists, before anything is computed or written.
 */
export async function startEngine(device: Device, opts?: { platform?: Platform }): Promise<void> {
  if (device === "webgpu" && !(await (opts?.platform ?? denoPlatform).requestAdapter())) {
    throw new UsageError(
      "--device webgpu: no WebGPU adapter found (no GPU driver; on Debian install mesa-vulkan-drivers for a software adapter, or use --device wasm)",
    );
  }
  // Only the requested backend: probing WebGPU where it is not wanted makes GPU drivers print noise.
  const available = await init(device);
  if (!available.includes(device)) {
    throw new UsageError(
      `--device ${device}: jax-js could not start it (available: ${available.join(", ")})`,
    );
  }
  defaultDevice(device);
  if (device === "wasm") await coarsenWasmAllocations();
}

/** Requests at least this large are rounded up to a coarse size class (1 MiB). */
const COARSE_FROM = 2 ** 20;

/**
 * The size class a large request is rounded up to: the next 2^(k/4) (classes 19% apart), in
 * whole 64 KiB pages; smaller requests keep their size.
 */
export function coarseSize(size: number): number {
  if (size < COARSE_FROM) return size;
  const k = Math.ceil(4 * Math.log2(size) - 1e-9);
  return Math.max(size, Math.ceil(2 ** (k / 4) / 65536) * 65536);
}

let coarsened: boolean | null = null;

/**
 * jax-js 0.1.25's wasm allocator never merges or splits freed blocks: a freed buffer serves only
 * a later request of exactly its (64 KiB-rounded) size, and the 4 GiB memory grows by every
 * other size. A benchmark whose programs see many sequence lengths (each task's prompts, KL
 * samples, rollouts) then exhausts 4 GiB while holding far less. Rounding every large request
 * that jax-js makes for a computed buffer up to a few size classes ({@link coarseSize}) lets
 * freed buffers serve the next shapes (at most 19% more memory per buffer). Arrays made from
 * host data keep their exact size (their bytes are copied in), and jax-js reads buffers by byte
 * count, so the larger blocks are never seen; its CPU routines (sort, scatter, linear algebra),
 * which do see a buffer's length, are not used by forgetbench's models. Applied once, to the
 * backend jax-js keeps for "wasm" (reached through its bundle, as the package does not export
 * it); if that bundle is not the expected one, nothing is changed. Returns whether it applies.
 */
export async function coarsenWasmAllocations(): Promise<boolean> {
  if (coarsened !== null) return coarsened;
  coarsened = false;
  try {
    const url = new URL("./backend-CnjgxpXq.js", import.meta.resolve("@jax-js/jax"));
    const mod = await import(url.href);
    const backend = typeof mod.s === "function" ? mod.s("wasm") : null;
    if (!backend || typeof backend.malloc !== "function" || backend.malloc.length !== 2) {
      return false;
    }
    const malloc = backend.malloc.bind(backend);
    backend.malloc = (size: number, initialData?: Uint8Array) =>
      initialData ? malloc(size, initialData) : malloc(coarseSize(size));
    coarsened = true;
  } catch {
    // Another jax-js build: leave its allocator as it is.
  }
  return coarsened;
}
