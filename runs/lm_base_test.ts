// Tests for runs/lm_base.ts on wasm with a tiny config (seconds): the loss falls, the panel has
// an accuracy in [0, 1] per skill, a second call loads the cache with identical logits, the same
// seed gives byte-identical safetensors, and a damaged cache is a one-line error naming the file.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { BOS_ID, encode } from "../models/char_tokenizer.ts";
import { llamaForward, padBatch } from "../models/llama.ts";
import { SKILL_NAMES } from "../tasks/lm/skills.ts";
import { type LmBaseOptions, pretrainLmBase } from "./lm_base.ts";
import { TINY_LM_CONFIG } from "../tests/tiny_lm.ts";

// jax-js's wasm worker pool outlives each test.
const sanitize = { sanitizeOps: false, sanitizeResources: false };

const TINY = TINY_LM_CONFIG;

function options(cacheDir: string): LmBaseOptions {
  return {
    config: TINY,
    seed: 3,
    steps: 12,
    batch: 8,
    lr: 1e-2,
    itemsPerSkill: 20,
    cacheDir,
    evalItems: 4,
  };
}

Deno.test(
  "pretrainLmBase: trains, scores the panel, caches, and is deterministic",
  sanitize,
  async () => {
    const dirA = await Deno.makeTempDir(), dirB = await Deno.makeTempDir();
    try {
      const first = await pretrainLmBase(options(dirA));
      equal(first.cached, false);
      equal(first.losses.length, 12);
      const head = first.losses.slice(0, 3), tail = first.losses.slice(-3);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      ok(mean(tail) < mean(head) - 0.3, `loss ${first.losses.map((l) => l.toFixed(2))}`);
      deepEqual(Object.keys(first.panel), [...SKILL_NAMES]);
      for (const [skill, acc] of Object.entries(first.panel)) {
        ok(acc >= 0 && acc <= 1, `${skill}: ${acc}`);
      }

      const second = await pretrainLmBase(options(dirA));
      equal(second.cached, true);
      equal(second.hash, first.hash);
      deepEqual(second.panel, first.panel);
      deepEqual(second.losses, first.losses);
      const batch = () => padBatch([[BOS_ID, ...encode("rev:ab3=")], [BOS_ID, ...encode("1+2=")]]);
      const a = await llamaForward(tree.ref(first.params), batch(), { config: TINY }).data();
      const b = await llamaForward(tree.ref(second.params), batch(), { config: TINY }).data();
      deepEqual(a, b);

      // Same options elsewhere: the same key and byte-identical weights.
      const third = await pretrainLmBase(options(dirB));
      equal(third.cached, false);
      equal(third.hash, first.hash);
      deepEqual(
        await Deno.readFile(`${third.dir}/model.safetensors`),
        await Deno.readFile(`${first.dir}/model.safetensors`),
      );
      // Any change to what shapes the weights changes the key.
      const other = await pretrainLmBase({ ...options(dirB), seed: 4, steps: 1 });
      ok(other.hash !== first.hash);

      // A damaged cache: one line naming the file.
      await Deno.writeTextFile(`${first.dir}/model.safetensors`, "garbage");
      await rejects(pretrainLmBase(options(dirA)), (e) => {
        ok(e instanceof UsageError);
        ok(e.message.includes(`${first.dir}/model.safetensors`), e.message);
        ok(!e.message.includes("\n"), e.message);
        return true;
      });
      await Deno.writeTextFile(`${first.dir}/meta.json`, "{");
      await rejects(pretrainLmBase(options(dirA)), /meta\.json: not JSON/);
      for (const m of [first, second, third, other]) tree.dispose(m.params);
    } finally {
      await Deno.remove(dirA, { recursive: true });
      await Deno.remove(dirB, { recursive: true });
    }
  },
);

Deno.test("pretrainLmBase: rejects bad options before training", sanitize, async () => {
  await rejects(pretrainLmBase({ ...options("/nonexistent"), steps: 0 }), /steps must be/);
  await rejects(
    pretrainLmBase({ ...options("/nonexistent"), config: { ...TINY, vocab_size: 50 } }),
    /vocab_size 50/,
  );
});
