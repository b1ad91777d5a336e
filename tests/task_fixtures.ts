// `deno task fixtures DIR`: DIR/data (every hub task's fixture records in their published
// formats, runs/fixtures.ts), DIR/model (the tiny Llama) and DIR/vlm (the tiny LLaVA), to try
// `eval` offline: deno task eval --model DIR/model --tasks hellaswag --data DIR/data --offline
// (or --model DIR/vlm --tasks mmmu). `deno run -A tests/task_fixtures.ts --merges` rewrites
// models/tiny_merges.json from the fixtures.

import { join } from "node:path";
import { writeTinyLlama } from "../models/tiny_llama.ts";
import { writeTinyLlava } from "../models/tiny_llava.ts";
import { tinyMergesJson, writeAllTaskFixtures } from "../runs/fixtures.ts";

if (import.meta.main) {
  if (Deno.args[0] === "--merges") {
    // Regenerates models/tiny_merges.json after a fixture changes (tests/tiny_merges_test.ts).
    await Deno.writeTextFile(
      new URL("../models/tiny_merges.json", import.meta.url),
      tinyMergesJson(),
    );
    console.log("wrote models/tiny_merges.json");
    Deno.exit(0);
  }
  const dir = Deno.args[0];
  if (!dir) {
    console.error("usage: deno task fixtures DIR");
    Deno.exit(2);
  }
  const files = await writeAllTaskFixtures(join(dir, "data"));
  await writeTinyLlama(join(dir, "model"), { seed: 3 });
  await writeTinyLlava(join(dir, "vlm"), { seed: 3 });
  console.log(
    `wrote ${files.length} data files under ${join(dir, "data")}, a model in ${
      join(dir, "model")
    } and a vision-language model in ${join(dir, "vlm")}`,
  );
  Deno.exit(0);
}
