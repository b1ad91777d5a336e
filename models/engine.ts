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
}
