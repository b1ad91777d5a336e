// Tests for the shared LM item machinery: prompt-hash splits, distinct draws and their random
// streams, the pretraining corpus sampler, failure on an exhausted space, and the output and
// character conventions every task relies on.

import { deepEqual, equal, notDeepEqual, ok, throws } from "node:assert/strict";
import { ValidationError } from "../../lib/errors.ts";
import { hashString, type Rng, rng } from "../../lib/rng.ts";
import {
  answerText,
  generateDistinct,
  isPrintableAscii,
  type LmItem,
  randomString,
  sampleCorpus,
  splitOf,
} from "./items.ts";

const draw = (r: Rng) => ({ prompt: `x${r.int(1000)}`, answer: "y" });

Deno.test("splitOf: a function of task and prompt, about one prompt in five in test", () => {
  equal(splitOf("t", "abc"), splitOf("t", "abc"));
  const prompts = Array.from({ length: 5000 }, (_, i) => `p${i}`);
  const held = prompts.filter((p) => splitOf("t", p) === "test").length;
  ok(held > 850 && held < 1150, `${held} of 5000 in test`);
  // The task salts the hash: another task splits the same prompts differently.
  ok(prompts.some((p) => splitOf("t", p) !== splitOf("u", p)));
});

Deno.test("generateDistinct: distinct prompts of the asked split, deterministic ids", () => {
  const a = generateDistinct<LmItem>("t", { seed: 3, n: 100, split: "train", draw });
  deepEqual(a, generateDistinct<LmItem>("t", { seed: 3, n: 100, split: "train", draw }));
  equal(new Set(a.map((i) => i.prompt)).size, 100);
  ok(a.every((i) => splitOf("t", i.prompt) === "train"));
  equal(a[7].id, "t/train/7");
  const h = generateDistinct<LmItem>("t", { seed: 3, n: 50, split: "test", draw });
  ok(h.every((i) => !a.some((j) => j.prompt === i.prompt)), "splits share no prompt");
  equal(h[3].id, "t/test/3");
  equal(generateDistinct<LmItem>("t", { seed: 3, n: 0, split: "train", draw }).length, 0);
});

Deno.test("generateDistinct: the test split draws from the stream salted 'heldout'", () => {
  // What the generators drew before the split was renamed: the first distinct test prompts of
  // the stream rng(seed, hash(task), hash("heldout")).
  const r = rng(3, hashString("t"), hashString("heldout")), want: string[] = [], seen = new Set();
  while (want.length < 20) {
    const p = draw(r).prompt;
    if (!seen.has(p) && splitOf("t", p) === "test") want.push(p);
    seen.add(p);
  }
  const got = generateDistinct<LmItem>("t", { seed: 3, n: 20, split: "test", draw });
  deepEqual(got.map((i) => i.prompt), want);
});

Deno.test("generateDistinct: bad n or split, or an exhausted space, is a ValidationError", () => {
  const small = (r: Rng) => ({ prompt: `x${r.int(20)}`, answer: "y" });
  const fails = (n: number, split: string, re: RegExp) =>
    throws(
      () => generateDistinct<LmItem>("t", { seed: 1, n, split: split as "train", draw: small }),
      (e) => e instanceof ValidationError && re.test(e.message),
    );
  fails(-1, "train", /n must be a non-negative integer/);
  fails(1.5, "train", /n must be a non-negative integer/);
  fails(1, "heldout", /split must be 'train' or 'test'/);
  fails(21, "train", /^tasks\/lm 't': found only \d+ distinct train items of 21/);
});

Deno.test("sampleCorpus: train prompts with repeats, pretrain ids, the same for the same seed", () => {
  const corpus = sampleCorpus<LmItem>("t", { seed: 3, n: 3000, draw });
  equal(corpus.length, 3000);
  ok(new Set(corpus.map((i) => i.prompt)).size < 1000, "1000 prompts at most, so repeats");
  ok(corpus.every((i) => splitOf("t", i.prompt) === "train"), "a test prompt in the corpus");
  equal(corpus[5].id, "t/pretrain/5");
  deepEqual(sampleCorpus<LmItem>("t", { seed: 3, n: 3000, draw }), corpus);
  notDeepEqual(sampleCorpus<LmItem>("t", { seed: 4, n: 3000, draw }), corpus);
  // Its own stream: not the train split's draws in another order.
  const train = generateDistinct<LmItem>("t", { seed: 3, n: 50, split: "train", draw });
  notDeepEqual(corpus.slice(0, 50).map((i) => i.prompt), train.map((i) => i.prompt));
  equal(sampleCorpus<LmItem>("t", { seed: 3, n: 0, draw }).length, 0);
  throws(() => sampleCorpus<LmItem>("t", { seed: 3, n: -2, draw }), ValidationError);
});

Deno.test("answerText drops trailing whitespace only; isPrintableAscii", () => {
  equal(answerText("12\n"), "12");
  equal(answerText("12 \r\n\n"), "12");
  equal(answerText(" 12"), " 12");
  equal(answerText("12\nmore"), "12\nmore");
  ok(isPrintableAscii("a=3 b=~{}!"));
  ok(isPrintableAscii(""));
  ok(!isPrintableAscii("a\nb"));
  ok(!isPrintableAscii("caf\u00e9"));
  ok(!isPrintableAscii("\t"));
});

Deno.test("randomString: the asked length, only the alphabet's characters", () => {
  const r = rng(1);
  for (let len = 0; len < 20; len++) {
    const s = randomString(r, "ab", len);
    equal(s.length, len);
    ok(/^[ab]*$/.test(s), s);
  }
});
