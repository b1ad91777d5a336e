// Tests for models/tiny_llava.ts and the vision-language branch of models/onnx_lm.ts: the fixture
// is complete, small and byte-identical per seed; generation with images equals an independent
// float64 computation (CLIP normalisation, patch encoder, image-token scatter, Llama decoder) so
// the image provably reaches the decoder; budgets, stops, chat, errors.

import { deepEqual, equal, notEqual, ok, rejects } from "node:assert/strict";
import { AutoTokenizer, type PreTrainedTokenizer } from "@huggingface/transformers";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { encodePng } from "../lib/png.ts";
import { rng } from "../lib/rng.ts";
import type { OnnxLm } from "./onnx_lm.ts";
import { argmax, llamaEmbed, llamaLogitsFromEmbeds, llamaLoglik } from "./llama_ref.ts";
import { llavaImageFeatures, llavaInputsEmbeds } from "./llava_ref.ts";
import { imageTokens } from "./onnx/llava.ts";
import { loadOnnxLm } from "./onnx_lm.ts";
import {
  CLIP_MEAN,
  CLIP_STD,
  IMAGE_TOKEN,
  type RandomLlava,
  writeTinyLlava,
} from "./tiny_llava.ts";

const FILES = [
  "config.json",
  "generation_config.json",
  "preprocessor_config.json",
  "processor_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "onnx/embed_tokens.onnx",
  "onnx/vision_encoder.onnx",
  "onnx/decoder_model_merged.onnx",
];
const BOS = 1, EOS = 2, SIDE = 16;

async function withDirs(n: number, fn: (dirs: string[]) => Promise<void>): Promise<void> {
  const dirs = await Promise.all(
    Array.from({ length: n }, () => Deno.makeTempDir({ prefix: "tiny-llava-" })),
  );
  try {
    await fn(dirs);
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
}

interface Fixture {
  dir: string;
  model: RandomLlava;
  tok: PreTrainedTokenizer;
  lm: OnnxLm;
}

async function withLlava(fn: (f: Fixture) => Promise<void>, opts: { chat?: boolean } = {}) {
  await withDirs(1, async ([dir]) => {
    const model = await writeTinyLlava(dir, { seed: 3 });
    const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const lm = await loadOnnxLm(dir, { device: "cpu", chat: opts.chat });
    try {
      await fn({ dir, model, tok, lm });
    } finally {
      await lm.dispose();
    }
  });
}

/** A 16×16 test image (the processor's own size, so resizing and cropping are the identity). */
interface TestImage {
  rgb: Uint8Array;
  png: Uint8Array;
}

function image(pixel: (i: number) => number): TestImage {
  const rgb = Uint8Array.from({ length: SIDE * SIDE * 3 }, (_, i) => pixel(i));
  return { rgb, png: encodePng(rgb, { width: SIDE, height: SIDE }) };
}

const IMAGES: TestImage[] = [
  image(() => 0),
  image(() => 255),
  image((i) => (i % 3 === 0 ? 255 : 0)), // red
  image((i) => (i * 37 + 11) % 256),
  (() => {
    const r = rng(5);
    return image(() => r.int(256));
  })(),
];

/** CLIP preprocessing written out: rescale to [0, 1], normalise per channel, channels first. */
function pixelValues(rgb: Uint8Array): Float64Array {
  const out = new Float64Array(3 * SIDE * SIDE);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < SIDE * SIDE; p++) {
      out[c * SIDE * SIDE + p] = (rgb[p * 3 + c] / 255 - CLIP_MEAN[c]) / CLIP_STD[c];
    }
  }
  return out;
}

function enc(tok: PreTrainedTokenizer, text: string): number[] {
  return text === "" ? [] : tok.encode(text, { add_special_tokens: false });
}

/**
 * The reference: `ids` (image tokens included) with the image's features scattered over the
 * image tokens, then greedy float64 decoding by full recomputation, cut at EOS and the budget.
 */
function refGenerate(
  f: Fixture,
  opts: { ids: number[]; image?: TestImage; maxTokens: number },
): string {
  const m = f.model;
  const features = opts.image
    ? llavaImageFeatures(m.visionWeights, {
      vision: m.vision,
      textHidden: m.text.hidden_size,
    }, pixelValues(opts.image.rgb))
    : [];
  const embeds = llavaInputsEmbeds(m.weights, m.text, {
    tokens: opts.ids,
    imageTokenId: m.imageTokenId,
    features,
  });
  const out: number[] = [];
  while (out.length < opts.maxTokens) {
    const logits = llamaLogitsFromEmbeds(m.weights, m.text, embeds);
    const next = argmax(logits[logits.length - 1]);
    if (next === EOS) break;
    out.push(next);
    embeds.push(llamaEmbed(m.weights, m.text, [next])[0]);
  }
  return out.length ? f.tok.decode(out, { skip_special_tokens: true }) : "";
}

/** LLaVA-1.5's layout: BOS, one image token per feature, "\n", the prompt. */
function imagePromptIds(f: Fixture, prompt: string): number[] {
  const n = imageTokens(f.model.vision);
  return [BOS, ...Array(n).fill(f.model.imageTokenId), ...enc(f.tok, "\n" + prompt)];
}

async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of FILES) out[f] = await sha256Hex(await Deno.readFile(`${dir}/${f}`));
  return out;
}

Deno.test("writeTinyLlava: complete LLaVA folder under 1 MB, byte-identical per seed", async () => {
  await withDirs(3, async ([a, b, c]) => {
    const model = await writeTinyLlava(a, { seed: 11 });
    await writeTinyLlava(b, { seed: 11 });
    await writeTinyLlava(c, { seed: 12 });
    let total = 0;
    for (const f of FILES) total += (await Deno.stat(`${a}/${f}`)).size;
    ok(total < 1_000_000, `folder is ${total} bytes`);
    deepEqual(await hashes(a), await hashes(b));
    const [ha, hc] = [await hashes(a), await hashes(c)];
    for (const f of FILES.filter((f) => f.startsWith("onnx/"))) notEqual(ha[f], hc[f], f);
    equal(ha["tokenizer.json"], hc["tokenizer.json"]);

    const config = JSON.parse(await Deno.readTextFile(`${a}/config.json`));
    equal(config.model_type, "llava");
    deepEqual(config.architectures, ["LlavaForConditionalGeneration"]);
    equal(config.text_config.model_type, "llama");
    equal(config.text_config.vocab_size, model.tokenizer.vocabSize);
    const tok = await AutoTokenizer.from_pretrained(a, { local_files_only: true });
    deepEqual(tok.encode(IMAGE_TOKEN, { add_special_tokens: false }), [config.image_token_index]);
    equal(config.image_token_index, model.imageTokenId);
    // The processor expands <image> to (crop / patch)² tokens: as many as the encoder emits.
    const pre = JSON.parse(await Deno.readTextFile(`${a}/preprocessor_config.json`));
    const proc = JSON.parse(await Deno.readTextFile(`${a}/processor_config.json`));
    equal((pre.crop_size.height / proc.patch_size) ** 2 + proc.num_additional_image_tokens, 4);
    equal(imageTokens(model.vision), 4);
  });
});

Deno.test("VLM generate: equals the float64 reference per image, batched or not; images change the output", async () => {
  await withLlava(async (f) => {
    equal(f.lm.vision, true);
    const prompt = "<image 1> Which colour fills the square?\n(A) Red\n(B) Blue\n\nAnswer:";
    const want = IMAGES.map((image) =>
      refGenerate(f, { ids: imagePromptIds(f, prompt), image, maxTokens: 8 })
    );
    const requests = IMAGES.map((image) => ({
      prompt,
      until: [],
      maxTokens: 8,
      images: [{ bytes: image.png }],
    }));
    const batched = await f.lm.generate(requests, { batchSize: 5 });
    deepEqual(batched, want);
    deepEqual(await f.lm.generate(requests, { batchSize: 2 }), want);
    deepEqual(await f.lm.generate(requests, { batchSize: 5 }), batched, "deterministic");
    ok(new Set(batched).size >= 3, `images should steer generation: ${JSON.stringify(batched)}`);
    // Only the first image is seen (LLaVA-1.5 in MMMU's code): a second one changes nothing.
    const [two] = await f.lm.generate([{
      ...requests[0],
      prompt: prompt + " <image 2>",
      images: [requests[0].images[0], requests[1].images[0]],
    }]);
    equal(
      two,
      refGenerate(f, {
        ids: imagePromptIds(f, prompt + " <image 2>"),
        image: IMAGES[0],
        maxTokens: 8,
      }),
    );
  });
});

Deno.test("VLM generate: budgets, stop strings, padded batches mixing image and text-only rows", async () => {
  await withLlava(async (f) => {
    const prompt = "<image 1> What is shown?";
    const full = refGenerate(f, {
      ids: imagePromptIds(f, prompt),
      image: IMAGES[3],
      maxTokens: 12,
    });
    ok(full.length >= 4, `reference output too short: ${JSON.stringify(full)}`);
    const stop = full.slice(2, 4);
    const img = [{ bytes: IMAGES[3].png }];
    const short = "<image 1> Hi";
    const [budget3, budget0, cut, text, padded] = await f.lm.generate([
      { prompt, until: [], maxTokens: 3, images: img },
      { prompt, until: [], maxTokens: 0, images: img },
      { prompt, until: [stop], maxTokens: 12, images: img },
      { prompt: "The cat", until: [], maxTokens: 6 },
      { prompt: short, until: [], maxTokens: 6, images: [{ bytes: IMAGES[1].png }] },
    ], { batchSize: 5 });
    equal(
      budget3,
      refGenerate(f, { ids: imagePromptIds(f, prompt), image: IMAGES[3], maxTokens: 3 }),
    );
    equal(budget0, "");
    equal(cut, full.slice(0, full.indexOf(stop)));
    // A row without images: BOS and the text, no image tokens, same decoder.
    equal(text, refGenerate(f, { ids: [BOS, ...enc(f.tok, "The cat")], maxTokens: 6 }));
    // A shorter prompt with an image in a padded batch is unaffected by the padding.
    equal(
      padded,
      refGenerate(f, { ids: imagePromptIds(f, short), image: IMAGES[1], maxTokens: 6 }),
    );
  });
});

Deno.test("VLM generate: chat mode uses the vicuna_v1 template with the image token in the user turn", async () => {
  await withLlava(async (f) => {
    const prompt = "<image 1> Describe it.";
    const templated =
      "<s>A chat between a curious human and an artificial intelligence assistant. " +
      "The assistant gives helpful, detailed, and polite answers to the human's questions. " +
      `USER: ${IMAGE_TOKEN}\n${prompt} ASSISTANT:`;
    const raw = enc(f.tok, templated);
    equal(raw[0], BOS);
    const at = raw.indexOf(f.model.imageTokenId);
    const ids = [
      ...raw.slice(0, at),
      ...Array(imageTokens(f.model.vision)).fill(f.model.imageTokenId),
      ...raw.slice(at + 1),
    ];
    const [out] = await f.lm.generate([{
      prompt,
      until: [],
      maxTokens: 6,
      images: [{ bytes: IMAGES[4].png }],
    }]);
    equal(out, refGenerate(f, { ids, image: IMAGES[4], maxTokens: 6 }));
  }, { chat: true });
});

Deno.test("VLM loglikelihood: the text path runs embed_tokens + decoder, as the plain Llama reference", async () => {
  await withLlava(async (f) => {
    const [r] = await f.lm.loglikelihood([{ context: "The cat sat", continuation: " on the mat" }]);
    const ctx = enc(f.tok, "The cat sat");
    const ref = llamaLoglik(f.model.weights, f.model.text, {
      context: ctx,
      continuation: enc(f.tok, "The cat sat on the mat").slice(ctx.length),
    });
    ok(Math.abs(r.logprob - ref.logprob) < 1e-4, `${r.logprob} vs ${ref.logprob}`);
    equal(r.greedy, ref.greedy);
  });
});

Deno.test("VLM generate: undecodable image bytes and a literal image token are one-line UsageErrors", async () => {
  await withLlava(async ({ lm, dir }) => {
    await rejects(
      lm.generate([{
        prompt: "x",
        until: [],
        maxTokens: 2,
        images: [{ bytes: new Uint8Array(8) }],
      }]),
      (e: Error) =>
        e instanceof UsageError && e.message.startsWith(`model ${dir}: the image bytes`) &&
        !e.message.includes("\n"),
    );
    await rejects(
      lm.generate([{
        prompt: `see ${IMAGE_TOKEN}`,
        until: [],
        maxTokens: 2,
        images: [{ bytes: IMAGES[0].png }],
      }]),
      (e: Error) =>
        e instanceof UsageError &&
        e.message === `model ${dir}: prompt 1 itself contains the image token ${IMAGE_TOKEN}`,
    );
  });
});

Deno.test("loadOnnxLm: a VLM folder missing a required file is a one-line ValidationError naming it", async () => {
  await withDirs(1, async ([dir]) => {
    await writeTinyLlava(dir, { seed: 0 });
    for (const file of FILES.filter((f) => f !== "config.json" && f !== "generation_config.json")) {
      const bytes = await Deno.readFile(`${dir}/${file}`);
      await Deno.remove(`${dir}/${file}`);
      await rejects(
        loadOnnxLm(dir, { device: "cpu" }),
        (e: Error) =>
          e instanceof ValidationError &&
          e.message.startsWith(`${dir}: missing ${file} (a vision-language model folder needs `) &&
          !e.message.includes("\n"),
        file,
      );
      await Deno.writeFile(`${dir}/${file}`, bytes);
    }
    await rejects(
      loadOnnxLm(dir, { device: "cpu", dtype: "q8" }),
      /missing onnx\/embed_tokens_quantized\.onnx/,
    );
  });
});
