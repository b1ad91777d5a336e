// Tests for tasks/toolalpaca.ts beyond the shared suite: records shaped as eval_real.json and
// train_data.json hold them (authentication, external tools, inputs given as objects, golden
// steps that cannot be checked, build_dataset.py's training filter), repeated API names, the
// parquet form of the fixture, and the hint a user gets without the files.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { UsageError, ValidationError } from "../lib/errors.ts";
import { writeFixture } from "../lib/published_files.ts";
import { loadTestFile } from "./hub_data.ts";
import type { Item } from "./task.ts";
import { toolalpaca, type ToolAlpacaItem } from "./toolalpaca.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forgetbench-toolalpaca-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ids = (items: readonly Item[]) => items.map((i) => i.id);

const WEATHER = {
  Name: "apilayer weatherstack",
  Description: "Real-Time & Historical World Weather Data API",
  Category: "Weather",
  Authentication: { access_key: "***" },
  external_tools: ["retrieval"],
  Documentation: '{"openapi": "3.0.1"}',
  NLDocumentation: "current_get: Current weather\nforecast_get: Forecast",
  Function_Description: {
    current_get: 'Current weather\nParameters: {"query": "Required. string."}',
    forecast_get: 'Forecast\nParameters: {"query": "Required. string.", "days": "integer."}',
    components:
      "\nThe detailed output format for the tools is outlined below:\n#Weather: Object{t}",
  },
  Function_Projection: { current_get: ["/current", "get"], forecast_get: ["/forecast", "get"] },
  Instructions: [
    "What is the weather in Paris, in Fahrenheit?",
    "Forecast for Rome, 3 days, please.",
    "Weather in Oslo and in Bergen?",
    "Historical weather for Paris?",
    "Weather where I am?",
  ],
  Golden_Answers: [
    [{ Action: "current_get", Action_Input: '{"query": "Paris", "units": "f"}' }],
    // Inputs may be given as objects.
    [{ Action: "forecast_get", Action_Input: { query: "Rome", days: 3 } }],
    [
      { Action: "current_get", Action_Input: '{"query": "Oslo"}' },
      { Action: "current_get", Action_Input: '{"query": "Bergen"}' },
    ],
    // A function the prompt does not list: not an item.
    [{ Action: "historical_get", Action_Input: '{"query": "Paris"}' }],
    // Not JSON: not an item.
    [{ Action: "current_get", Action_Input: '{"query": "query": "here"}' }],
  ],
};

Deno.test("eval records: one item per checkable instruction, authentication appended, tools as ToolAlpaca lists them", async () => {
  await withDir(async (dir) => {
    const path = await writeFixture(dir, "eval_real", [WEATHER], "json");
    const loaded = await loadTestFile(toolalpaca, path);
    const items = loaded.splits.test as ToolAlpacaItem[];
    deepEqual(ids(items), [
      "apilayer weatherstack/0",
      "apilayer weatherstack/1",
      "apilayer weatherstack/2",
    ]);
    equal(loaded.skipped, 2);
    equal(
      items[0].instruction,
      "What is the weather in Paris, in Fahrenheit?\nAuthentication information: access_key=***",
    );
    deepEqual(items[0].tools.map((t) => t.name), [
      "getDetails",
      "retrievalDataFromFile",
      "current_get",
      "forecast_get",
    ]);
    ok(items[0].tools[3].description.endsWith(
      'days": "integer."}\nThe detailed output format' +
        " for the tools is outlined below:\n#Weather: Object{t}",
    ));
    deepEqual(items[1].golden, [{ name: "forecast_get", input: { query: "Rome", days: 3 } }]);
    const req = toolalpaca.request(items[2], { shots: [] });
    ok(req.kind === "generate");
    ok(req.prompt.includes("\ncurrent_get: Current weather\nParameters:"));
    ok(req.prompt.endsWith(
      "USER: Weather in Oslo and in Bergen?\nAuthentication information: access_key=***\nASSISTANT Thought:",
    ));
    const target = toolalpaca.target(items[2]);
    equal(
      target,
      '\nASSISTANT Action: current_get\nASSISTANT Action Input: {"query": "Oslo"}' +
        '\nASSISTANT Action: current_get\nASSISTANT Action Input: {"query": "Bergen"}',
    );
    const score = (text: string) =>
      (toolalpaca.score(items[2], { kind: "generate", outputs: [text] }, {}) as {
        metrics: Record<string, number>;
      }).metrics.acc;
    equal(score(target), 1);
    equal(score(target.replace("Bergen", "Oslo")), 0);
  });
});

Deno.test("a repeated API name numbers its instructions on; an unknown external tool is an error", async () => {
  await withDir(async (dir) => {
    const one = (n: number) => ({
      Name: "Covid-19",
      Function_Description: { summary: "Summary.\nParameters: {}", components: "" },
      Function_Projection: { summary: ["/summary", "get"] },
      Instructions: Array.from({ length: n }, (_, k) => `Question ${n}.${k}`),
      Golden_Answers: Array.from({ length: n }, () => [{ Action: "summary", Action_Input: "{}" }]),
    });
    const path = await writeFixture(
      dir,
      "apis",
      [one(2), { ...one(1), Name: "Dog" }, one(3)],
      "json",
    );
    const loaded = await loadTestFile(toolalpaca, path);
    deepEqual(ids(loaded.splits.test), [
      "Covid-19/0",
      "Covid-19/1",
      "Dog/0",
      "Covid-19/2",
      "Covid-19/3",
      "Covid-19/4",
    ]);
    const bad = await writeFixture(dir, "bad", [{ ...one(1), external_tools: ["web"] }], "jsonl");
    await rejects(
      loadTestFile(toolalpaca, bad),
      (e) =>
        e instanceof ValidationError && e.message.startsWith(`${bad}:1: field 'external_tools'`),
    );
  });
});

Deno.test("train records: the calls of each instance build_dataset.py keeps, ids train-<Name>/<k>", async () => {
  await withDir(async (dir) => {
    const step = (action: string, input: string) => [[action, input, "log"], "observation"];
    const instance = (input: string, steps: unknown[]) => ({
      input,
      output: "ok",
      intermediate_steps: steps,
    });
    const record = {
      Name: "Numbers",
      Function_Description: { fact: 'A fact.\nParameters: {"n": "integer."}', components: "" },
      Function_Projection: { fact: ["/fact", "get"] },
      Instructions: ["Fact about 7?", "Fact about 8?", "Six facts?", "A fact?", "Ask me.", "Bad"],
      Instances: [
        instance("Fact about 7?\nHint: say 7", [step("fact", '{"n": 7}')]),
        instance("Fact about 8?", [
          step("getDetails", '{"Question": "n?"}'),
          step("fact", '{"n": 8}'),
        ]),
        instance("Six facts?", Array.from({ length: 6 }, (_, i) => step("fact", `{"n": ${i}}`))),
        { error: "timeout" },
        instance("Ask me.", [step("getDetails", '{"Question": "What?"}')]),
        instance("Bad", [step("fact", "n = 3")]),
      ],
    };
    // No API description at all: build_dataset.py skips the API.
    const bare = {
      Name: "Bare",
      Instructions: ["Hi?"],
      Instances: [instance("Hi?", [step("x", "{}")])],
    };
    const test = {
      Name: "Numbers",
      Function_Description: record.Function_Description,
      Instructions: ["Fact about 9?"],
      Golden_Answers: [[{ Action: "fact", Action_Input: '{"n": 9}' }]],
    };
    await writeFixture(dir, "data/train_data", [record, bare], "json");
    await writeFixture(dir, "data/eval_simulated", [test], "json");
    const loaded = await toolalpaca.load({
      seed: 0,
      data: { dataPath: dir, cacheDir: join(dir, "cache") },
    });
    deepEqual(ids(loaded.splits.test), ["Numbers/0"]);
    const train = loaded.splits.train as ToolAlpacaItem[];
    deepEqual(ids(train), ["train-Numbers/0", "train-Numbers/1"]);
    equal(loaded.skipped, 5);
    equal(train[0].instruction, "Fact about 7?");
    deepEqual(train[1].golden, [
      { name: "getDetails", input: { Question: "n?" } },
      { name: "fact", input: { n: 8 } },
    ]);
    equal(toolalpaca.train!.reward!(train[0], '\nAction: fact\nAction Input: {"n": 7}'), 1);
    equal(toolalpaca.train!.reward!(train[0], '\nAction: fact\nAction Input: {"n": "7"}'), 0);
  });
});

Deno.test("the fixture read back from parquet (structs of every API's keys) gives the same items", async () => {
  await withDir(async (dir) => {
    const records = toolalpaca.fixture.records!.test;
    const json = await loadTestFile(toolalpaca, await writeFixture(dir, "t", records, "json"));
    const parquet = await loadTestFile(
      toolalpaca,
      await writeFixture(dir, "t", records, "parquet"),
    );
    deepEqual(parquet.splits.test, json.splits.test);
    equal(parquet.skipped, json.skipped);
  });
});

Deno.test("without the files, load says where ToolAlpaca is published and downloads nothing", async () => {
  await withDir(async (dir) => {
    await rejects(
      toolalpaca.load({ seed: 0, splits: ["test"], data: { cacheDir: dir } }),
      (e) =>
        e instanceof UsageError && !e.message.includes("\n") &&
        e.message.startsWith(
          "toolalpaca: data/eval_simulated.json not found; ToolAlpaca is published on GitHub",
        ) &&
        e.message.includes(
          "https://raw.githubusercontent.com/tangqiaoyu/ToolAlpaca/189069998d64a7baf1b4a1c3c4b2e75eb9d05532/data/eval_simulated.json",
        ),
    );
  });
});

Deno.test("one file given: it is the test split; the train split only if the cache holds it", async () => {
  await withDir(async (dir) => {
    const path = await writeFixture(dir, "eval_simulated", [WEATHER], "json");
    const loaded = await toolalpaca.load({
      seed: 0,
      data: { dataPath: path, cacheDir: join(dir, "cache") },
    });
    deepEqual(Object.keys(loaded.splits), ["test"]);
    equal(loaded.splits.test.length, 3);
    equal(loaded.files.length, 1);
  });
});
