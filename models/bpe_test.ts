// Tests for models/bpe.ts: merges learned by hand on a tiny corpus (most frequent pair first, ties
// by text, counts weighted by piece frequency, no merge across pre-tokenizer pieces), early stop,
// and a tokenizer built from learned merges round-trips text through transformers.js and
// compresses it.

import { deepEqual, equal, ok } from "node:assert/strict";
import { trainBpe } from "./bpe.ts";
import { loadHfTokenizer } from "./tokenizer.ts";
import { qwen2TokenizerFiles } from "./tokenizer_files.ts";

Deno.test("trainBpe: most frequent pair first, ties by text, within pieces only", () => {
  // Pieces: "aaab" ×1, " aab" ×2 (Qwen2's split keeps the space on the word: "Ġaab").
  // Pair counts: a a: 2 + 2 = 4, a b: 1 + 2 = 3, Ġ a: 2. First merge "a a".
  // Then "aaab" → [aa, a, b], "Ġaab" → [Ġ, aa, b]: aa a 1, a b 1, Ġ aa 2, aa b 2 → tie at 2,
  // "Ġ aa" < "aa b"? "Ġ" is U+0120, above "a": "aa b" comes first.
  const m = trainBpe(["aaab aab aab"], { count: 3 });
  deepEqual(m[0], ["a", "a"]);
  deepEqual(m[1], ["aa", "b"]);
  // Now [aa, a, b] and [Ġ, aab]: Ġ aab ×2 is the only pair seen twice.
  deepEqual(m[2], ["Ġ", "aab"]);
  // Nothing occurs twice any more: training stops early.
  equal(trainBpe(["aaab aab aab"], { count: 100 }).length, 3);
  deepEqual(trainBpe(["aaab aab aab"], { count: 3 }), m, "deterministic");
});

Deno.test("trainBpe: a tokenizer with learned merges round-trips and compresses", async () => {
  const corpus = Array.from(
    { length: 40 },
    (_, i) => `The reaction of sodium with water gives hydrogen ${i}. Balance the equation!`,
  );
  const merges = trainBpe(corpus, { count: 200 });
  ok(merges.length > 50, `${merges.length} merges`);
  const t = qwen2TokenizerFiles({ merges });
  const enc = new TextEncoder();
  const tok = await loadHfTokenizer(
    new Map([
      ["tokenizer.json", enc.encode(JSON.stringify(t.tokenizer))],
      ["tokenizer_config.json", enc.encode(JSON.stringify(t.config))],
    ]),
    { name: "learned", where: "memory" },
  );
  const text = "The reaction of sodium with water gives hydrogen 7. Naïve café — 水!";
  equal(tok.decode(tok.encode(text)), text);
  const seen = corpus[3];
  ok(tok.encode(seen).length * 3 < seen.length, `${tok.encode(seen).length} tokens`);
});
