// Tests for lib/hub.ts against a loopback stand-in for the hub (Deno.serve on 127.0.0.1), with
// the environment passed as an option so the machine's own HF_* variables never leak in: dataset
// files and model repositories' files (their URLs, cache layout, optional files, offline).

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { UsageError, ValidationError } from "./errors.ts";
import { sha256Hex } from "./hash.ts";
import {
  cachedPath,
  cacheRoot,
  hubLabel,
  hubUrl,
  modelCachedPath,
  modelHubLabel,
  modelHubUrl,
  parseModelId,
  resolveDataFile,
  resolveModelFile,
} from "./hub.ts";
import { readRecords } from "./records.ts";
import { fixtureBytes } from "./published_files.ts";

const BYTES = fixtureBytes([{ q: "a", answer: 1 }, { q: "b", answer: 2 }], "jsonl");
const FILE = { repo: "org/ds", revision: "main", path: "data/test.jsonl" };

interface FakeHub {
  endpoint: string;
  requests: { path: string; auth: string | null }[];
  close(): Promise<void>;
}

/** A loopback server answering each URL path with bytes or a status code (404 otherwise). */
function serveHub(files: Record<string, Uint8Array | number>): FakeHub {
  const requests: FakeHub["requests"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    requests.push({ path, auth: req.headers.get("authorization") });
    const body = files[path];
    if (body instanceof Uint8Array) return new Response(body as Uint8Array<ArrayBuffer>);
    return new Response("nope", { status: body ?? 404 });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

async function withDirs(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forgetbench_hub_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every file under `dir`, relative, to check that nothing half-written was left. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await filesUnder(join(dir, e.name), rel));
    else out.push(rel);
  }
  return out.sort();
}

async function rejectsWith(
  p: Promise<unknown>,
  kind: new (...args: never[]) => Error,
  ...patterns: RegExp[]
): Promise<void> {
  await rejects(p, (e: Error) => {
    ok(e instanceof kind, `${kind.name} expected, got ${e}`);
    ok(!e.message.includes("\n"), `one line: ${e.message}`);
    for (const re of patterns) match(e.message, re);
    return true;
  });
}

Deno.test("hub: first call downloads into the cache layout, second is a cache hit", async () => {
  const urlPath = "/datasets/org/ds/resolve/main/data/test.jsonl";
  const hub = serveHub({ [urlPath]: BYTES });
  try {
    await withDirs(async (cacheDir) => {
      const env = { HF_ENDPOINT: hub.endpoint + "/", HF_TOKEN: "hf_test" };
      const progress: [number, number | null][] = [];
      const first = await resolveDataFile(FILE, {
        cacheDir,
        env,
        onProgress: (done, total) => progress.push([done, total]),
      });
      const sha = await sha256Hex(BYTES);
      deepEqual(first, {
        path: join(cacheDir, "datasets/org/ds/main/data/test.jsonl"),
        sha256: sha,
        source: "download",
        url: hub.endpoint + urlPath,
      });
      deepEqual(hub.requests, [{ path: urlPath, auth: "Bearer hf_test" }]);
      deepEqual(progress.at(-1), [BYTES.length, BYTES.length]);
      deepEqual(await Deno.readFile(first.path), BYTES);
      deepEqual(await filesUnder(cacheDir), ["datasets/org/ds/main/data/test.jsonl"]);
      equal((await readRecords(first.path)).records.length, 2);

      const second = await resolveDataFile(FILE, { cacheDir, env, offline: true });
      deepEqual(second, { path: first.path, sha256: sha, source: "cache" });
      equal(hub.requests.length, 1, "the cache hit made no request");
    });
  } finally {
    await hub.close();
  }
});

Deno.test("hub: a pinned file with a '/' revision downloads, verified, to an escaped folder", async () => {
  const bytes = fixtureBytes([{ q: "a" }], "parquet");
  const file = {
    repo: "org/ds",
    revision: "refs/convert/parquet",
    path: "default/test/0000.parquet",
    sha256: await sha256Hex(bytes),
  };
  const urlPath = "/datasets/org/ds/resolve/refs%2Fconvert%2Fparquet/default/test/0000.parquet";
  const hub = serveHub({ [urlPath]: bytes });
  try {
    await withDirs(async (cacheDir) => {
      const got = await resolveDataFile(file, { cacheDir, env: { HF_ENDPOINT: hub.endpoint } });
      equal(got.source, "download");
      equal(got.sha256, file.sha256);
      equal(got.path, join(cacheDir, "datasets/org/ds/refs%2Fconvert%2Fparquet", file.path));
      deepEqual(hub.requests, [{ path: urlPath, auth: null }]);
    });
  } finally {
    await hub.close();
  }
});

Deno.test("hub: a sha256 mismatch names the file and both hashes and caches nothing", async () => {
  const hub = serveHub({ "/datasets/org/ds/resolve/main/data/test.jsonl": BYTES });
  try {
    await withDirs(async (cacheDir) => {
      const pinned = "0".repeat(64);
      await rejectsWith(
        resolveDataFile({ ...FILE, sha256: pinned }, {
          cacheDir,
          env: { HF_ENDPOINT: hub.endpoint },
        }),
        ValidationError,
        /hf:\/\/datasets\/org\/ds@main\/data\/test\.jsonl/,
        new RegExp(await sha256Hex(BYTES)),
        new RegExp(`pins ${pinned}`),
      );
      deepEqual(await filesUnder(cacheDir), [], "no file and no temporary left in the cache");
    });
  } finally {
    await hub.close();
  }
});

Deno.test("hub: HTTP 404 and 401 are one-line errors with status, URL and what to do", async () => {
  const hub = serveHub({ "/datasets/org/gated/resolve/main/data/test.jsonl": 401 });
  try {
    await withDirs(async (cacheDir) => {
      const env = { HF_ENDPOINT: hub.endpoint };
      await rejectsWith(
        resolveDataFile(FILE, { cacheDir, env }),
        UsageError,
        new RegExp(
          `HTTP 404 .*from ${hub.endpoint}/datasets/org/ds/resolve/main/data/test\\.jsonl`,
        ),
        /check the repo, revision and path$/,
      );
      await rejectsWith(
        resolveDataFile({ ...FILE, repo: "org/gated" }, { cacheDir, env }),
        UsageError,
        /^hf:\/\/datasets\/org\/gated@main\/data\/test\.jsonl: HTTP 401 /,
        /set HF_TOKEN$/,
      );
      deepEqual(await filesUnder(cacheDir), []);
    });
  } finally {
    await hub.close();
  }
});

Deno.test("hub: offline (option or env) with an empty cache says how to provide the file", async () => {
  const hub = serveHub({});
  try {
    await withDirs(async (cacheDir) => {
      const env = { HF_ENDPOINT: hub.endpoint };
      const where = cachedPath(FILE, cacheDir).replaceAll("\\", "\\\\");
      await rejectsWith(
        resolveDataFile(FILE, { cacheDir, env, offline: true }),
        UsageError,
        /^hf:\/\/datasets\/org\/ds@main\/data\/test\.jsonl: not in the cache and offline mode is on/,
        new RegExp(`download ${hub.endpoint}/datasets/org/ds/resolve/main/data/test.jsonl`),
        new RegExp(`to ${where} or give its location as the data path`),
      );
      for (const offlineEnv of [{ HF_HUB_OFFLINE: "1" }, { FORGETBENCH_OFFLINE: "true" }]) {
        await rejectsWith(
          resolveDataFile(FILE, { cacheDir, env: { ...env, ...offlineEnv } }),
          UsageError,
          /HF_HUB_OFFLINE\/FORGETBENCH_OFFLINE is set/,
        );
      }
      equal(hub.requests.length, 0, "offline never touches the network");
    });
  } finally {
    await hub.close();
  }
});

Deno.test("hub: a user's data path (file, clone folder, flat folder) wins and is verified", async () => {
  await withDirs(async (dir) => {
    const noNet: typeof fetch = () => Promise.reject(new Error("network used"));
    const opts = { cacheDir: join(dir, "cache"), env: {}, fetch: noNet };
    const sha256 = await sha256Hex(BYTES);
    const clone = join(dir, "clone"), flat = join(dir, "flat");
    await Deno.mkdir(join(clone, "data"), { recursive: true });
    await Deno.mkdir(flat);
    await Deno.writeFile(join(clone, "data/test.jsonl"), BYTES);
    await Deno.writeFile(join(flat, "test.jsonl"), BYTES);

    for (
      const [dataPath, path] of [
        [join(flat, "test.jsonl"), join(flat, "test.jsonl")],
        [clone, join(clone, "data/test.jsonl")],
        [flat, join(flat, "test.jsonl")],
      ]
    ) {
      deepEqual(await resolveDataFile({ ...FILE, sha256 }, { ...opts, dataPath }), {
        path,
        sha256,
        source: "local",
      });
    }
    await rejectsWith(
      resolveDataFile(FILE, { ...opts, dataPath: join(dir, "cache") }),
      ValidationError,
      /no such file or folder \(given as the data for hf:\/\/datasets\/org\/ds@main\/data\/test\.jsonl\)$/,
    );
    await rejectsWith(
      resolveDataFile(FILE, { ...opts, dataPath: dir }),
      ValidationError,
      /folder holds neither data\/test\.jsonl nor test\.jsonl/,
    );
    await rejectsWith(
      resolveDataFile({ ...FILE, sha256: "f".repeat(64) }, { ...opts, dataPath: flat }),
      ValidationError,
      new RegExp(
        `test\\.jsonl \\(given for hf://.*\\): sha256 is ${sha256} but the task pins f{64}`,
      ),
    );
  });
});

Deno.test("hub: a corrupt cached file is refused; network failure and truncation are one line", async () => {
  await withDirs(async (cacheDir) => {
    const cached = cachedPath(FILE, cacheDir);
    await Deno.mkdir(join(cached, ".."), { recursive: true });
    await Deno.writeFile(cached, BYTES.subarray(0, 5));
    await rejectsWith(
      resolveDataFile({ ...FILE, sha256: await sha256Hex(BYTES) }, { cacheDir, env: {} }),
      ValidationError,
      /\(cached hf:\/\/datasets\/org\/ds@main\/data\/test\.jsonl\): sha256 is [0-9a-f]{64} but/,
      /delete it to download it again$/,
    );
    await Deno.remove(cached);

    const refused: typeof fetch = () => Promise.reject(new TypeError("connection refused"));
    await rejectsWith(
      resolveDataFile(FILE, { cacheDir, env: {}, fetch: refused }),
      UsageError,
      /download from https:\/\/huggingface\.co\/datasets\/org\/ds\/resolve\/main\/data\/test\.jsonl failed \(connection refused\)/,
    );
    const short: typeof fetch = () =>
      Promise.resolve(
        new Response(BYTES, { headers: { "content-length": String(BYTES.length + 9) } }),
      );
    await rejectsWith(
      resolveDataFile(FILE, { cacheDir, env: {}, fetch: short }),
      UsageError,
      new RegExp(`stopped at ${BYTES.length} of ${BYTES.length + 9} bytes; run again$`),
    );
    deepEqual(await filesUnder(cacheDir), []);
  });
});

Deno.test("hub: URLs, labels, cache roots and malformed hub files", async () => {
  equal(
    hubUrl({
      repo: "TIGER-Lab/MMLU-Pro",
      revision: "main",
      path: "data/test-00000-of-00001.parquet",
    }, {}),
    "https://huggingface.co/datasets/TIGER-Lab/MMLU-Pro/resolve/main/data/test-00000-of-00001.parquet",
  );
  equal(hubLabel(FILE), "hf://datasets/org/ds@main/data/test.jsonl");
  equal(cacheRoot({ FORGETBENCH_CACHE: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }), "/c");
  equal(cacheRoot({ XDG_CACHE_HOME: "/x", HOME: "/h" }), join("/x", "forgetbench"));
  equal(cacheRoot({ HOME: "/h" }), join("/h", ".cache", "forgetbench"));
  await rejectsWith(
    Promise.resolve().then(() => cacheRoot({})),
    UsageError,
    /set FORGETBENCH_CACHE/,
  );
  for (
    const [bad, re] of [
      [{ ...FILE, repo: "../etc" }, /repo '\.\.\/etc' must look like 'org\/name'/],
      [{ ...FILE, repo: "justname" }, /must look like 'org\/name'/],
      [{ ...FILE, path: "../../x.jsonl" }, /path must be relative/],
      [{ ...FILE, path: "/abs.jsonl" }, /path must be relative/],
      [{ ...FILE, revision: ".." }, /revision '\.\.'/],
      [{ ...FILE, sha256: "ABC" }, /sha256 'ABC' is not 64 lowercase hex digits/],
    ] as const
  ) {
    await rejectsWith(
      resolveDataFile(bad, { env: {}, cacheDir: "/nonexistent" }),
      ValidationError,
      re,
    );
  }
});

Deno.test("hub models: <endpoint>/<org>/<name>/resolve/<rev>/<path> into <cache>/models/...", async () => {
  const MODEL = { repo: "Qwen/Qwen2.5-0.5B", revision: "main", path: "config.json" };
  const body = new TextEncoder().encode('{"model_type":"qwen2"}');
  const hub = serveHub({ "/Qwen/Qwen2.5-0.5B/resolve/main/config.json": body });
  try {
    await withDirs(async (cacheDir) => {
      const env = { HF_ENDPOINT: hub.endpoint, HF_TOKEN: "hf_x" };
      const got = await resolveModelFile(MODEL, { cacheDir, env });
      deepEqual(got, {
        path: join(cacheDir, "models/Qwen/Qwen2.5-0.5B/main/config.json"),
        sha256: await sha256Hex(body),
        source: "download",
        url: `${hub.endpoint}/Qwen/Qwen2.5-0.5B/resolve/main/config.json`,
      });
      deepEqual(hub.requests, [{
        path: "/Qwen/Qwen2.5-0.5B/resolve/main/config.json",
        auth: "Bearer hf_x",
      }]);
      // Cached: no request, even offline.
      equal((await resolveModelFile(MODEL, { cacheDir, env, offline: true }))!.source, "cache");
      equal(hub.requests.length, 1);
      // An optional file the hub lacks is null; a required one is the 404 message.
      const gen = { ...MODEL, path: "generation_config.json" };
      equal(await resolveModelFile(gen, { cacheDir, env, optional: true }), null);
      await rejectsWith(
        resolveModelFile(gen, { cacheDir, env }),
        UsageError,
        /^hf:\/\/Qwen\/Qwen2\.5-0\.5B@main\/generation_config\.json: HTTP 404 /,
        /check the repo, revision and path$/,
      );
      // Offline: optional and uncached is null, required is where to put it; no request.
      const n = hub.requests.length;
      equal(await resolveModelFile(gen, { cacheDir, env, offline: true, optional: true }), null);
      await rejectsWith(
        resolveModelFile(gen, { cacheDir, env: { ...env, HF_HUB_OFFLINE: "1" } }),
        UsageError,
        new RegExp(
          `not in the cache and HF_HUB_OFFLINE/FORGETBENCH_OFFLINE is set; download ${hub.endpoint}/Qwen/Qwen2\\.5-0\\.5B/resolve/main/generation_config\\.json to .*models.Qwen.Qwen2\\.5-0\\.5B.main.generation_config\\.json or give a local model folder instead$`,
        ),
      );
      equal(hub.requests.length, n);
      deepEqual(await filesUnder(cacheDir), ["models/Qwen/Qwen2.5-0.5B/main/config.json"]);
    });
  } finally {
    await hub.close();
  }
});

Deno.test("hub models: ids, URLs, labels and cache paths", () => {
  deepEqual(parseModelId("Qwen/Qwen2.5-0.5B-Instruct"), {
    repo: "Qwen/Qwen2.5-0.5B-Instruct",
    revision: "main",
  });
  deepEqual(parseModelId("meta-llama/Llama-3.2-1B@0123abc"), {
    repo: "meta-llama/Llama-3.2-1B",
    revision: "0123abc",
  });
  for (const bad of ["justname", "a/b/c", "../x", "a/..", "a/b@", "a/b@x y", "./models/x"]) {
    equal(parseModelId(bad), null, bad);
  }
  const f = { repo: "org/m", revision: "refs/pr/1", path: "onnx/model.onnx" };
  equal(modelHubUrl(f, {}), "https://huggingface.co/org/m/resolve/refs%2Fpr%2F1/onnx/model.onnx");
  equal(modelHubLabel(f), "hf://org/m@refs/pr/1/onnx/model.onnx");
  equal(modelCachedPath(f, "/c"), join("/c", "models/org/m/refs%2Fpr%2F1/onnx/model.onnx"));
});
