// Tests for models/engine.ts: `--device` parsing, the one-line error when WebGPU has no
// adapter (modelled by an injected platform, so no GPU is needed), and starting wasm.

import { equal, ok, rejects, throws } from "node:assert/strict";
import { defaultDevice, numpy as np } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { DEVICES, parseDevice, startEngine } from "./engine.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("parseDevice accepts every listed device", () => {
  for (const d of DEVICES) equal(parseDevice(d), d);
  equal(DEVICES.join(), "wasm,webgpu,cpu");
});

Deno.test("parseDevice rejects an unknown device with a UsageError naming it", () => {
  throws(
    () => parseDevice("tpu"),
    (e: unknown) => {
      ok(e instanceof UsageError, `expected UsageError, got ${e}`);
      equal(e.exitCode, 2);
      ok(e.message.includes("'tpu'"), e.message);
      ok(e.message.includes("wasm, webgpu, cpu"), `lists the choices: ${e.message}`);
      return true;
    },
  );
  throws(() => parseDevice("WASM"), UsageError); // case matters
  throws(() => parseDevice(""), UsageError);
});

Deno.test("startEngine('webgpu') without an adapter is a one-line UsageError", opts, async () => {
  let asked = 0;
  const platform = {
    requestAdapter: () => {
      asked++;
      return Promise.resolve(null);
    },
  };
  await rejects(startEngine("webgpu", { platform }), (e: unknown) => {
    ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    ok(e.message.startsWith("--device webgpu"), e.message);
    ok(!e.message.includes("\n"), "one line");
    ok(e.message.includes("--device wasm"), `says what to do instead: ${e.message}`);
    return true;
  });
  equal(asked, 1);
});

Deno.test("startEngine('wasm') succeeds and computes on wasm", opts, async () => {
  let asked = 0;
  const platform = {
    requestAdapter: () => {
      asked++;
      return Promise.resolve(null);
    },
  };
  await startEngine("wasm", { platform });
  equal(asked, 0, "only webgpu consults the platform");
  equal(defaultDevice(), "wasm");
  const y = np.array(new Float32Array([1, 2, 3])).mul(2);
  equal(y.device, "wasm");
  equal(Array.from(await y.data()).join(), "2,4,6");
});

Deno.test("startEngine('cpu') switches the default device", opts, async () => {
  await startEngine("cpu");
  equal(defaultDevice(), "cpu");
  await startEngine("wasm");
  equal(defaultDevice(), "wasm");
});
