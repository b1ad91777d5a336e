// Tests for real-layout checkpoints (models/checkpoint.ts, models/llama_io.ts, the llama family):
// the tiny Qwen2.5 and Llama-3 checkpoints of models/tiny_checkpoints.ts are laid out as the
// published ones, load through the llama family with logits within 1e-4 of the float64
// reference, save after SFT steps in the layout and dtype they came in and load back with
// identical logits; a hub id resolves through the cache with a fake fetch and is refused
// offline with a one-line message; every bad input is a one-line error naming file and field.

import { deepEqual, equal, notDeepEqual, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { tree } from "@jax-js/jax";
import { UsageError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { TRAINERS } from "../trainers/mod.ts";
import { INDEX_FILE, readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { startEngine } from "./engine.ts";
import { FAMILIES } from "./families.ts";
import type { TrainInstance } from "./learner.ts";
import { llamaForward, type LlamaParams, padBatch, paramsFromWeights, weightsOf } from "./llama.ts";
import { type LlamaPolicy, loadLlamaPolicy } from "./llama_policy.ts";
import { llamaLogits } from "./llama_ref.ts";
import type { Policy } from "./policy.ts";
import { decodeSafetensors, encodeSafetensors, roundToDtype } from "./safetensors.ts";
import { type TinyCheckpoint, writeTinyLlama3, writeTinyQwen2 } from "./tiny_checkpoints.ts";

// jax-js's wasm worker pool outlives each test.
const opts = { sanitizeOps: false, sanitizeResources: false };
const OPEN = { seed: 0, device: "wasm" as const };
const TOL = 1e-4;

const WRITERS = { qwen2: writeTinyQwen2, llama3: writeTinyLlama3 } as const;

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "checkpoint_test_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function open(source: string, extra: Record<string, unknown> = {}): Promise<LlamaPolicy> {
  const family = FAMILIES.llama;
  const spec = family.parse({ family: "llama", source, ...extra }, "model");
  return (await family.open(spec, OPEN)) as LlamaPolicy;
}

/** Logits [T][V] of one unpadded sequence. */
async function logits(params: LlamaParams, p: Pick<LlamaPolicy, "config">, seq: number[]) {
  const d = await llamaForward(tree.ref(params), padBatch([seq], { length: seq.length }), {
    config: p.config,
  }).data();
  const V = p.config.vocab_size;
  return Array.from({ length: seq.length }, (_, t) => d.slice(t * V, (t + 1) * V));
}

function maxDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let m = 0;
  a.forEach((row, t) => {
    for (let i = 0; i < row.length; i++) m = Math.max(m, Math.abs(row[i] - b[t][i]));
  });
  return m;
}

/** A text long enough (≈110 tokens) that RoPE's rescaled low frequencies turn far. */
const TEXT = "The cat sat on the mat, and the dog ran in the garden of 1234 houses. Café crème! " +
  "Then it rained; everyone went in, and the children played cards until 9 at night.";

function fileNames(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
}

Deno.test("tiny checkpoints are laid out as Qwen2.5-Instruct and Llama-3.1-Instruct publish them", async () => {
  await withDir(async (dir) => {
    const q = await writeTinyQwen2(join(dir, "q"), { seed: 1 });
    deepEqual(fileNames(join(dir, "q")), [
      "config.json",
      "generation_config.json",
      "merges.txt",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
      "vocab.json",
    ]);
    const qc = JSON.parse(await Deno.readTextFile(join(dir, "q/config.json")));
    deepEqual(
      [qc.architectures, qc.model_type, qc.torch_dtype, qc.rope_theta, qc.tie_word_embeddings],
      [["Qwen2ForCausalLM"], "qwen2", "bfloat16", 1e6, true],
    );
    ok(qc.vocab_size > q.tokenizer.vocabSize, "vocab padded past the tokenizer's ids");
    const st = decodeSafetensors(await Deno.readFile(join(dir, "q/model.safetensors")), "q");
    ok([...st.dtypes.values()].every((d) => d === "BF16"));
    ok(!st.weights.has("lm_head.weight"), "tied: no lm_head");
    ok(st.weights.has("model.layers.1.self_attn.k_proj.bias"));
    const tc = JSON.parse(await Deno.readTextFile(join(dir, "q/tokenizer_config.json")));
    deepEqual([tc.bos_token, tc.eos_token, tc.pad_token, tc.add_bos_token], [
      null,
      "<|im_end|>",
      "<|endoftext|>",
      false,
    ]);

    await writeTinyLlama3(join(dir, "l"), { seed: 1 });
    deepEqual(fileNames(join(dir, "l")), [
      "config.json",
      "generation_config.json",
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    const lc = JSON.parse(await Deno.readTextFile(join(dir, "l/config.json")));
    deepEqual(lc.rope_scaling, {
      factor: 8,
      high_freq_factor: 4,
      low_freq_factor: 1,
      original_max_position_embeddings: 8192,
      rope_type: "llama3",
    });
    const index = JSON.parse(await Deno.readTextFile(join(dir, "l", INDEX_FILE)));
    equal(index.weight_map["lm_head.weight"], "model-00002-of-00002.safetensors");
    equal(index.weight_map["model.embed_tokens.weight"], "model-00001-of-00002.safetensors");
    const shard = await Deno.readFile(join(dir, "l/model-00001-of-00002.safetensors"));
    ok([...decodeSafetensors(shard, "s").dtypes.values()].every((d) => d === "F16"));
    // Same seed, same bytes.
    await writeTinyLlama3(join(dir, "l2"), { seed: 1 });
    for (const f of fileNames(join(dir, "l"))) {
      deepEqual(await Deno.readFile(join(dir, "l2", f)), await Deno.readFile(join(dir, "l", f)));
    }
  });
});

for (const [name, write] of Object.entries(WRITERS)) {
  Deno.test(
    `${name}: loads through the llama family; logits within ${TOL} of the float64 reference`,
    opts,
    async () => {
      await startEngine("wasm");
      await withDir(async (dir) => {
        const ck: TinyCheckpoint = await write(dir, { seed: 2 });
        const p = await open(dir);
        try {
          equal(p.dtype, ck.dtype);
          equal(p.tokenizer.name, dir);
          // Every file read, with the sha256 of its bytes.
          for (const f of p.files) equal(f.sha256, await sha256Hex(await Deno.readFile(f.path)));
          ok(p.files.some((f) => f.name === "tokenizer.json"));
          const tok = p.tokenizer;
          const seq = [...(tok.addBos ? [tok.bosId!] : []), ...tok.encode(TEXT)];
          ok(seq.length > 100, `${seq.length} tokens`);
          const want = llamaLogits(ck.weights, ck.config, seq);
          const got = await logits(p.params, p, seq);
          const d = maxDiff(got, want);
          console.log(`${name}: max |logit − float64 reference| = ${d.toExponential(2)}`);
          ok(d < TOL, `max |Δ| ${d}`);
          // The loaded weights are exactly the stored (rounded) ones.
          for (const [n, w] of await weightsOf(p.params)) deepEqual(w, ck.weights.get(n), n);
          if (name === "llama3") {
            // Without Llama-3's rescaling the reference moves far more than the tolerance.
            const plain = llamaLogits(ck.weights, { ...ck.config, rope_scaling: null }, seq);
            ok(maxDiff(plain, want) > 1e-2, "rope_scaling matters at these positions");
            deepEqual([tok.addBos, seq[0]], [true, tok.bosId]);
            deepEqual(p.generation.eosIds?.length, 3);
          } else {
            deepEqual([tok.bosId, tok.addBos], [null, false]);
            deepEqual(p.generation, {
              bosId: tok.padId,
              eosIds: [tok.eosId!, tok.padId],
              padId: tok.padId,
              temperature: 0.7,
              topP: 0.8,
              topK: 20,
              doSample: true,
            });
          }
        } finally {
          await p.dispose();
        }
      });
    },
  );

  Deno.test(
    `${name}: a fine-tuned save keeps the layout and dtype and loads back with identical logits`,
    opts,
    async () => {
      await startEngine("wasm");
      await withDir(async (dir) => {
        const src = join(dir, "src"), out = join(dir, "out"), f32 = join(dir, "f32");
        const ck = await write(src, { seed: 3 });
        const p = await open(src);
        try {
          const instances: TrainInstance[] = ["Q: 1+1?", "Q: the sky?", "Q: café?"].map(
            (prompt, i) => ({
              request: { kind: "generate", prompt, until: ["\n"], maxTokens: 8 },
              targets: (l) => (l === "sft1" ? [` answer ${i}`] : undefined),
            }),
          );
          await TRAINERS.sft.train(p.learner(instances, {}), {
            lr: 1e-2,
            checkpoints: [3],
            batch: 2,
            seed: 1,
            options: { labelling: "sft1", beta: 0 },
          });
          const trained = await weightsOf(p.params);
          notDeepEqual(trained.get("model.norm.weight"), ck.weights.get("model.norm.weight"));
          await p.save(out);
          // Same files, config and tokenizer bytes; same shards and per-tensor dtypes.
          deepEqual(fileNames(out), fileNames(src));
          for (const f of fileNames(src).filter((f) => !f.endsWith(".safetensors"))) {
            deepEqual(await Deno.readFile(join(out, f)), await Deno.readFile(join(src, f)), f);
          }
          const [a, b] = await Promise.all([readCheckpoint(src), readCheckpoint(out)]);
          deepEqual(b.dtypes, a.dtypes);
          deepEqual(b.weightMap, a.weightMap);
          const back = (await FAMILIES.llama.load(
            out,
            FAMILIES.llama.parse({ family: "llama", source: out }, "model"),
            OPEN,
          )) as LlamaPolicy;
          try {
            equal(back.dtype, ck.dtype);
            const seq = [...back.tokenizer.encode(TEXT)].slice(0, 40);
            const rounded = new Map(
              [...trained].map(([n, w]) => [n, roundToDtype(w, ck.dtype)]),
            );
            const want = paramsFromWeights(rounded, { config: p.config });
            deepEqual(await logits(back.params, back, seq), await logits(want, p, seq));
            tree.dispose(want);
            // Saving the loaded copy again gives the same bytes.
            const again = join(dir, "again");
            await back.save(again);
            for (const f of fileNames(out)) {
              deepEqual(await Deno.readFile(join(again, f)), await Deno.readFile(join(out, f)), f);
            }
          } finally {
            await back.dispose();
          }
          // F32 on request: every tensor stored as float32, torch_dtype says so, same shards.
          const asF32 = await open(src, { dtype: "F32" });
          try {
            await asF32.save(f32);
            const c = await readCheckpoint(f32);
            ok([...c.dtypes.values()].every((d) => d === "F32"));
            equal(c.configJson.torch_dtype, "float32");
            deepEqual(c.weightMap, a.weightMap);
          } finally {
            await asF32.dispose();
          }
        } finally {
          await p.dispose();
        }
      });
    },
  );
}

Deno.test("writeCheckpoint shards above the size threshold, HF-style names, stale weights removed", async () => {
  await withDir(async (dir) => {
    const tensors = new Map(
      ["a", "b", "c", "d"].map((n, i) => [n, { shape: [4], data: new Float32Array(4).fill(i) }]),
    );
    await writeCheckpoint(dir, { configJson: {}, tensors, dtype: "F32" });
    deepEqual(fileNames(dir), ["config.json", "model.safetensors"]);
    await writeCheckpoint(dir, { configJson: {}, tensors, dtype: "F32", maxShardBytes: 32 });
    deepEqual(fileNames(dir), [
      "config.json",
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      INDEX_FILE,
    ]);
    const index = JSON.parse(await Deno.readTextFile(join(dir, INDEX_FILE)));
    deepEqual(index, {
      metadata: { total_size: 64 },
      weight_map: {
        a: "model-00001-of-00002.safetensors",
        b: "model-00001-of-00002.safetensors",
        c: "model-00002-of-00002.safetensors",
        d: "model-00002-of-00002.safetensors",
      },
    });
    const back = await readCheckpoint(dir);
    deepEqual([...back.tensors.keys()].sort(), ["a", "b", "c", "d"]);
    deepEqual(back.tensors.get("c")!.data, new Float32Array(4).fill(2));
  });
});

/** A fake hub: URL path → bytes (404 otherwise), recording every request. */
function fakeHub(files: Record<string, Uint8Array>): { fetch: typeof fetch; requests: string[] } {
  const requests: string[] = [];
  const f: typeof fetch = (input) => {
    const path = new URL(String(input)).pathname;
    requests.push(path);
    const body = files[path];
    return Promise.resolve(
      body
        ? new Response(body as Uint8Array<ArrayBuffer>)
        : new Response("no", { status: 404, statusText: "Not Found" }),
    );
  };
  return { fetch: f, requests };
}

async function folderFiles(dir: string): Promise<Map<string, Uint8Array>> {
  return new Map(
    await Promise.all(
      fileNames(dir).map(async (f) => [f, await Deno.readFile(join(dir, f))] as const),
    ),
  );
}

Deno.test(
  "a hub id downloads into <cache>/models/<org>/<name>/<rev>/, then loads offline from the cache",
  opts,
  async () => {
    await startEngine("wasm");
    await withDir(async (dir) => {
      const src = join(dir, "src"), cacheDir = join(dir, "cache");
      await writeTinyLlama3(src, { seed: 4 });
      const files = await folderFiles(src);
      const hub = fakeHub(Object.fromEntries(
        [...files].map(([f, b]) => [`/org/tiny-llama3/resolve/v1.0/${f}`, b]),
      ));
      const env = { HF_ENDPOINT: "http://hub.test" };
      const policy = await loadLlamaPolicy("org/tiny-llama3@v1.0", {
        cacheDir,
        env,
        fetch: hub.fetch,
      });
      try {
        const cached = join(cacheDir, "models/org/tiny-llama3/v1.0");
        for (const f of ["config.json", "model-00002-of-00002.safetensors", "tokenizer.json"]) {
          deepEqual(await Deno.readFile(join(cached, f)), files.get(f), f);
        }
        ok(hub.requests.includes("/org/tiny-llama3/resolve/v1.0/model.safetensors"), "tried first");
        const shard = policy.files.find((f) => f.name === "model-00001-of-00002.safetensors")!;
        equal(shard.source, "download");
        equal(
          shard.url,
          "http://hub.test/org/tiny-llama3/resolve/v1.0/model-00001-of-00002.safetensors",
        );
        equal(shard.sha256, await sha256Hex(files.get(shard.name)!));
        equal(policy.id, "org/tiny-llama3@v1.0");
        // Offline now: everything from the cache, no request.
        const before = hub.requests.length;
        const again = await loadLlamaPolicy("org/tiny-llama3@v1.0", {
          cacheDir,
          env,
          fetch: hub.fetch,
          offline: true,
        });
        try {
          equal(hub.requests.length, before);
          ok(again.files.every((f) => f.source === "cache"));
          deepEqual(await weightsOf(again.params), await weightsOf(policy.params));
        } finally {
          await again.dispose();
        }
      } finally {
        await policy.dispose();
      }
      // Offline with an empty cache: one line saying what to download where.
      const empty = join(dir, "empty");
      await rejects(
        loadLlamaPolicy("org/other@main", { cacheDir: empty, env, offline: true }),
        (e: Error) => {
          ok(e instanceof UsageError && !e.message.includes("\n"), e.message);
          ok(
            e.message.includes(
              `hf://org/other@main/config.json: not in the cache and offline mode is on; download http://hub.test/org/other/resolve/main/config.json to ${
                join(empty, "models/org/other/main/config.json")
              }`,
            ),
            e.message,
          );
          return true;
        },
      );
      // Cached config only, offline: the tokenizer's, then the weights' message name URL and path.
      const other = join(empty, "models/org/other/main");
      await Deno.mkdir(other, { recursive: true });
      await Deno.writeFile(join(other, "config.json"), files.get("config.json")!);
      await rejects(
        loadLlamaPolicy("org/other", { cacheDir: empty, env, offline: true }),
        /tokenizer\.json: missing: .*download http:\/\/hub\.test\/org\/other\/resolve\/main\/tokenizer\.json to /,
      );
      for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
        await Deno.writeFile(join(other, f), files.get(f)!);
      }
      await rejects(
        loadLlamaPolicy("org/other", { cacheDir: empty, env, offline: true }),
        /model\.safetensors: missing, and so is model\.safetensors\.index\.json: .*download http:\/\/hub\.test\/org\/other\/resolve\/main\/model\.safetensors to /,
      );
    });
  },
);

/** A one-line ValidationError (or UsageError) whose message matches every pattern. */
async function failsWith(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  const e = await p.then(() => null, (e) => e);
  ok(e instanceof UsageError, `expected a one-line error, got ${e}`);
  ok(!e.message.includes("\n"), `one line: ${e.message}`);
  for (const re of patterns) ok(re.test(e.message), `${e.message} !~ ${re}`);
}

Deno.test(
  "bad checkpoints: one-line errors naming the file and the field or tensor",
  opts,
  async () => {
    await startEngine("wasm");
    await withDir(async (dir) => {
      const q = join(dir, "q"), l = join(dir, "l");
      await writeTinyQwen2(q, { seed: 5 });
      await writeTinyLlama3(l, { seed: 5 });
      const qFiles = await folderFiles(q), lFiles = await folderFiles(l);
      const reset = async () => {
        for (const [d, fs] of [[q, qFiles], [l, lFiles]] as const) {
          for (const e of Deno.readDirSync(d)) await Deno.remove(join(d, e.name));
          for (const [f, b] of fs) await Deno.writeFile(join(d, f), b);
        }
      };
      const editJson = async (path: string, edit: (j: Record<string, unknown>) => void) => {
        const j = JSON.parse(await Deno.readTextFile(path));
        edit(j);
        await Deno.writeTextFile(path, JSON.stringify(j));
      };
      const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      const openQ = () => open(q), openL = () => open(l);
      const shard1 = join(l, "model-00001-of-00002.safetensors");
      const shard2 = join(l, "model-00002-of-00002.safetensors");

      // No tokenizer.json (the tokenizer comes from the folder unless "char" is named).
      await Deno.remove(join(q, "tokenizer.json"));
      await failsWith(openQ(), new RegExp(`^${esc(join(q, "tokenizer.json"))}: missing`), /"char"/);
      await reset();
      // Unsupported dtype: an I8 tensor.
      const st = decodeSafetensors(qFiles.get("model.safetensors")!, "x");
      const bytes = encodeSafetensors(st.weights, {}, { dtype: st.dtypes });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
      header["model.norm.weight"].dtype = "I8";
      header["model.norm.weight"].data_offsets[1] = header["model.norm.weight"].data_offsets[0] +
        64;
      const head = new TextEncoder().encode(JSON.stringify(header));
      const bad = new Uint8Array(8 + head.length + bytes.length - 8 - n);
      new DataView(bad.buffer).setBigUint64(0, BigInt(head.length), true);
      bad.set(head, 8);
      bad.set(bytes.subarray(8 + n), 8 + head.length);
      await Deno.writeFile(join(q, "model.safetensors"), bad);
      await failsWith(
        openQ(),
        new RegExp(
          `^${esc(join(q, "model.safetensors"))}: tensor 'model.norm.weight' has dtype "I8"`,
        ),
      );
      await reset();
      // Unsupported architecture / model_type; unsupported rope_scaling; sliding windows.
      for (
        const [edit, re] of [
          [
            (j: Record<string, unknown>) => (j.model_type = "mistral"),
            /field 'model_type' must be "llama" or "qwen2"/,
          ],
          [
            (j: Record<string, unknown>) => (j.architectures = ["Qwen2ForSequenceClassification"]),
            /field 'architectures' must be \["Qwen2ForCausalLM"\]/,
          ],
          [
            (j: Record<string, unknown>) => (j.rope_scaling = { type: "yarn", factor: 4 }),
            /field 'rope_scaling' has rope_type "yarn"; models\/llama\.ts implements "llama3"/,
          ],
          [
            (j: Record<string, unknown>) => (j.use_sliding_window = true),
            /field 'use_sliding_window' has true/,
          ],
          [
            (j: Record<string, unknown>) => (j.hidden_size = "64"),
            /field 'hidden_size' must be a positive integer/,
          ],
        ] as const
      ) {
        await editJson(join(q, "config.json"), edit);
        await failsWith(openQ(), new RegExp(`^${esc(join(q, "config.json"))}: `), re);
        await reset();
      }
      await editJson(join(l, "config.json"), (j) => {
        (j.rope_scaling as Record<string, unknown>).high_freq_factor = 0.5;
      });
      await failsWith(
        openL(),
        /config\.json: field 'rope_scaling\.high_freq_factor' must be a number above low_freq_factor/,
      );
      await reset();
      // A bad generation_config.json field.
      await editJson(join(q, "generation_config.json"), (j) => (j.top_p = 2));
      await failsWith(
        openQ(),
        /generation_config\.json: field 'top_p' must be a number in \(0, 1\], got 2/,
      );
      await reset();
      // A missing shard.
      await Deno.remove(shard2);
      await failsWith(
        openL(),
        new RegExp(
          `^${
            esc(shard2)
          }: missing shard \\(model\\.safetensors\\.index\\.json's weight_map lists \\d+ tensors in it\\)`,
        ),
      );
      await reset();
      // Shards that disagree with the index: a tensor missing, extra, or listed under another shard.
      const s1 = decodeSafetensors(lFiles.get("model-00001-of-00002.safetensors")!, "s1");
      const writeShard1 = async (edit: (w: typeof s1.weights) => void) => {
        const w = new Map(s1.weights);
        edit(w);
        await Deno.writeFile(shard1, encodeSafetensors(w, {}, { dtype: "F16" }));
      };
      await writeShard1((w) => w.delete("model.layers.0.mlp.up_proj.weight"));
      await failsWith(
        openL(),
        new RegExp(
          `^${
            esc(shard1)
          }: missing tensor 'model\\.layers\\.0\\.mlp\\.up_proj\\.weight' \\(model\\.safetensors\\.index\\.json's weight_map lists it in this shard\\)`,
        ),
      );
      await writeShard1((w) =>
        w.set("model.extra.weight", { shape: [2], data: new Float32Array(2) })
      );
      await failsWith(
        openL(),
        new RegExp(
          `^${
            esc(shard1)
          }: tensor 'model\\.extra\\.weight' is not in model\\.safetensors\\.index\\.json's weight_map`,
        ),
      );
      await writeShard1((w) =>
        w.set("model.norm.weight", { shape: [64], data: new Float32Array(64) })
      );
      await failsWith(
        openL(),
        new RegExp(
          `^${
            esc(shard1)
          }: tensor 'model\\.norm\\.weight' is listed under 'model-00002-of-00002\\.safetensors'`,
        ),
      );
      await reset();
      // An index naming a shard outside the folder.
      await editJson(join(l, INDEX_FILE), (j) => {
        (j.weight_map as Record<string, string>)["model.norm.weight"] = "../x.safetensors";
      });
      await failsWith(
        openL(),
        /model\.safetensors\.index\.json: field 'weight_map\.model\.norm\.weight' must be a relative shard file name/,
      );
      await reset();
      // A tensor of the wrong shape, named in its own shard; a tensor the config does not expect.
      await writeShard1((w) =>
        w.set("model.layers.0.input_layernorm.weight", { shape: [63], data: new Float32Array(63) })
      );
      await failsWith(
        openL(),
        new RegExp(
          `^${
            esc(shard1)
          }: tensor 'model\\.layers\\.0\\.input_layernorm\\.weight' has shape \\[63\\], config\\.json implies \\[64\\]`,
        ),
      );
      await reset();
      await editJson(join(l, INDEX_FILE), (j) => {
        delete (j.weight_map as Record<string, string>)["model.layers.1.self_attn.o_proj.weight"];
      });
      const s2 = decodeSafetensors(lFiles.get("model-00002-of-00002.safetensors")!, "s2");
      const w2 = new Map(s2.weights);
      w2.delete("model.layers.1.self_attn.o_proj.weight");
      await Deno.writeFile(shard2, encodeSafetensors(w2, {}, { dtype: "F16" }));
      await failsWith(
        openL(),
        new RegExp(
          `^${
            esc(join(l, INDEX_FILE))
          }: missing tensor 'model\\.layers\\.1\\.self_attn\\.o_proj\\.weight'`,
        ),
      );
      await reset();
      // A Llama config over Qwen2 weights: the biases are unexpected.
      await editJson(join(q, "config.json"), (j) => {
        j.model_type = "llama";
        j.architectures = ["LlamaForCausalLM"];
      });
      await failsWith(
        openQ(),
        /model\.safetensors: unexpected tensor 'model\.layers\.\d\.self_attn\.[qkv]_proj\.bias' \(q\/k\/v biases need model_type qwen2/,
      );
      await reset();
      // No weights at all; config.json not JSON; a source that is neither folder nor hub id.
      await Deno.remove(join(q, "model.safetensors"));
      await failsWith(
        openQ(),
        new RegExp(
          `^${
            esc(join(q, "model.safetensors"))
          }: missing, and so is model\\.safetensors\\.index\\.json`,
        ),
      );
      await reset();
      await Deno.writeTextFile(join(q, "config.json"), "{");
      await failsWith(openQ(), new RegExp(`^${esc(join(q, "config.json"))}: not JSON`));
      await reset();
      await failsWith(open(join(dir, "nope", "x", "y")), /no such folder, and not a hub id/);
      // Options: bad dtype, chat with the char tokenizer.
      const parse = (raw: Record<string, unknown>) =>
        Promise.resolve().then(() =>
          FAMILIES.llama.parse({ family: "llama", source: q, ...raw }, "model")
        );
      await failsWith(parse({ dtype: "fp16" }), /^model\.dtype: must be one of F32, BF16, F16/);
      await failsWith(
        parse({ chat: true, tokenizer: "char" }),
        /^model\.chat: chat formatting needs/,
      );
      await failsWith(parse({ tokenizer: "bpe" }), /^model\.tokenizer: unknown tokenizer 'bpe'/);
      // With the character tokenizer named, a folder without tokenizer files still loads.
      await Deno.remove(join(q, "tokenizer.json"));
      const charPolicy = await open(q, { tokenizer: "char" });
      equal(charPolicy.tokenizer.name, "char");
      await charPolicy.dispose();
    });
  },
);

Deno.test(
  "a tied checkpoint may store lm_head.weight only as a copy of the embeddings",
  opts,
  async () => {
    await startEngine("wasm");
    await withDir(async (dir) => {
      const ck = await writeTinyQwen2(dir, { seed: 6 });
      const path = join(dir, "model.safetensors");
      const st = decodeSafetensors(await Deno.readFile(path), path);
      const embed = st.weights.get("model.embed_tokens.weight")!;
      st.weights.set("lm_head.weight", { shape: embed.shape, data: embed.data.slice() });
      await Deno.writeFile(path, encodeSafetensors(st.weights, {}, { dtype: "BF16" }));
      const p: Policy = await open(dir);
      await p.dispose();
      st.weights.set("lm_head.weight", { shape: embed.shape, data: embed.data.map((v) => v + 1) });
      await Deno.writeFile(path, encodeSafetensors(st.weights, {}, { dtype: "BF16" }));
      await failsWith(open(dir), /lm_head\.weight' differs from model\.embed_tokens\.weight/);
      ok(ck.config.tie_word_embeddings);
    });
  },
);
