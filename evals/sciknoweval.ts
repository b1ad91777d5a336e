// SciKnowEval (Feng et al. 2024) as RL's Razor uses it: the prompt of a record, the reference
// scorer of its multiple-choice questions and a verifiable scorer of its chemical-equation
// balancing questions.
//
// The reference is SciKnowEval's own evaluation (github.com/HICAI-ZJU/SciKnowEval, eval.py and
// evaluation/metrics.py, V2 of July 2025): `get_single_score_MCQ` scores a multiple-choice
// response, reproduced here rule for rule (sciknowevalMcqScore). Balancing is scored there by
// `get_score_filling`, "the reference equation is a substring of the response", which credits a
// response that lists several equations; here the response's equation must balance the same
// species with the same coefficients (sciknowevalEquationScore), a strict 0/1 fit for a reward.
// The repository ships no prompt builder (eval.py reads responses from the user): each record
// carries its instruction in `prompt.default`; sciknowevalPrompt lays it out with the question
// and the options, documented there.

/** The fields of a record the prompt reads. */
export interface SciKnowEvalQuestion {
  /** The record's `prompt.default`: the instruction. */
  readonly instruction: string;
  readonly question: string;
  /** Option texts with their labels (`choices.text`, `choices.label`); none for balancing. */
  readonly options: readonly string[];
  readonly labels: readonly string[];
}

/**
 * The prompt of a record: its instruction (`prompt.default`), a blank line, the question, and for
 * a multiple-choice record a blank line and one line per option, `<label>. <text>` (the form
 * SciKnowEval's scorer looks for first: `A.`). Labels and texts are paired in order as far as
 * both go, as the scorer's `zip` pairs them (20 published records list 2, 5 or 6 texts against
 * the labels A to D). A balancing record's question already ends with "The balanced chemical
 * equation is:". Nothing is trimmed.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(sciknowevalPrompt({ instruction: "Pick one.", question: "2+2?",
 *   options: ["3", "4"], labels: ["A", "B"] }), "Pick one.\n\n2+2?\n\nA. 3\nB. 4");
 * ```
 */
export function sciknowevalPrompt(q: SciKnowEvalQuestion): string {
  const head = `${q.instruction}\n\n${q.question}`;
  const n = Math.min(q.options.length, q.labels.length);
  if (n === 0) return head;
  const lines = q.options.slice(0, n).map((t, i) => `${q.labels[i]}. ${t}`);
  return `${head}\n\n${lines.join("\n")}`;
}

/** What a multiple-choice score needs: the options and the gold label. */
export interface McqKey {
  readonly labels: readonly string[];
  readonly options: readonly string[];
  readonly answerKey: string;
}

/** The letters `get_single_score_MCQ` tries, in its order (for 2-option questions too). */
const KEYS = ["D", "C", "B", "A"];

/**
 * The option a response picks by `get_single_score_MCQ`'s last rule: the first of D, C, B, A
 * (in that order) written as `X.`, `X` + newline, `X)`, `X ` , `"X` or `X"` anywhere in the
 * stripped response, or starting it; null when none is.
 */
export function sciknowevalMcqLetter(response: string): string | null {
  const pred = response.trim();
  if (pred.length === 0) return null;
  for (const k of KEYS) {
    const marks = [`${k}.`, `${k}\n`, `${k})`, `${k} `, `"${k}`, `${k}"`];
    if (marks.some((m) => pred.includes(m)) || pred[0] === k) return k;
  }
  return null;
}

/**
 * The label SciKnowEval's multiple-choice scorer (`get_single_score_MCQ`) reads a response as,
 * in its order, on the response stripped of surrounding whitespace: none when empty; the
 * response itself when it is one character; the gold label when the response holds the gold
 * option's text and none of the other options' texts (labels and texts paired by `zip`, as far
 * as both go); otherwise the letter sciknowevalMcqLetter finds (or none).
 */
export function sciknowevalMcqPick(response: string, key: McqKey): string | null {
  const pred = response.trim();
  if (pred.length === 0) return null;
  if (Array.from(pred).length === 1) return pred; // Python's len counts code points
  const gold = key.labels.indexOf(key.answerKey);
  const goldText = gold >= 0 ? key.options[gold] : undefined;
  const wrong: string[] = [];
  for (let i = 0; i < Math.min(key.labels.length, key.options.length); i++) {
    if (key.labels[i] !== key.answerKey) wrong.push(key.options[i]);
  }
  if (goldText !== undefined && pred.includes(goldText) && !wrong.some((w) => pred.includes(w))) {
    return key.answerKey;
  }
  return sciknowevalMcqLetter(pred);
}

/**
 * SciKnowEval's score of a multiple-choice response (`get_single_score_MCQ`): 1 when the label
 * sciknowevalMcqPick reads is the gold label. So "B", "B. Collagen" and "(B)" (via `B)`) score,
 * and so does a response quoting the gold option's text alone; "The answer is B" does not (a
 * bare letter at the very end matches no pattern), as in the reference.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const key = { labels: ["A", "B"], options: ["acid", "base"], answerKey: "B" };
 * equal(sciknowevalMcqScore("B", key), 1);
 * equal(sciknowevalMcqScore("It is a base.", key), 1);
 * equal(sciknowevalMcqScore("The answer is B", key), 0);
 * ```
 */
export function sciknowevalMcqScore(response: string, key: McqKey): 0 | 1 {
  return sciknowevalMcqPick(response, key) === key.answerKey ? 1 : 0;
}

// ── Balancing chemical equations ─────────────────────────────────────────────────────────────

/** One side of an equation: each species (whitespace removed) with its total coefficient. */
export type EquationSide = ReadonlyMap<string, number>;

/** A parsed equation: reactants and products. */
export interface Equation {
  readonly left: EquationSide;
  readonly right: EquationSide;
}

const ARROW = /<=>|<->|->|=>|⇌|⟶|→|=/g;

/** Splits at `+` outside brackets and braces (charges such as `Fe{3+}` keep theirs). */
function terms(side: string): string[] | null {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < side.length; i++) {
    const c = side[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "+" && depth === 0) {
      out.push(side.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) return null;
  }
  out.push(side.slice(start));
  return depth === 0 ? out : null;
}

function parseSide(side: string): EquationSide | null {
  const parts = terms(side);
  if (!parts) return null;
  const species = new Map<string, number>();
  for (const raw of parts) {
    const t = raw.replace(/\s+/g, "");
    const m = /^(\d*)([A-Za-z([].*)$/.exec(t);
    if (!m) return null;
    const k = m[1] === "" ? 1 : Number(m[1]);
    if (!Number.isSafeInteger(k) || k === 0) return null;
    species.set(m[2], (species.get(m[2]) ?? 0) + k);
  }
  return species;
}

/**
 * A chemical equation as SciKnowEval writes them, `Na2CrO4(aq) + 2LiBr(aq) = Li2CrO4(aq) +
 * 2NaBr(s)`: two sides around one arrow (`=`; also `->`, `→`, `⟶`, `⇌`, `<=>` in a response),
 * terms split at `+` outside brackets and braces (so charges `H{+}`, `SO4{2-}` stay whole), each
 * term an optional integer coefficient (1 when absent) and a species that starts with a letter or
 * a bracket (`(NH4)2SO4`, `[Co(NH3)6]Cl3`, `CuSO4*5H2O`); whitespace anywhere is ignored, and
 * state symbols (`(aq)`, `(s)`) are part of the species. Null when the text is not one such
 * equation (no arrow or several, an empty term, a zero coefficient).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * const eq = parseEquation("2H2 + O2 = 2 H2O")!;
 * deepEqual([...eq.left], [["H2", 2], ["O2", 1]]);
 * deepEqual([...eq.right], [["H2O", 2]]);
 * ```
 */
export function parseEquation(text: string): Equation | null {
  const sides = text.split(ARROW);
  if (sides.length !== 2) return null;
  const left = parseSide(sides[0]), right = parseSide(sides[1]);
  return left && right ? { left, right } : null;
}

/**
 * The equation a response gives: its last line holding an arrow, after the last `:` on that
 * line where there is one ("The balanced equation is: ..."), with surrounding `$`, backticks and
 * a final period removed.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(sciknowevalEquationText("Balanced:\nAnswer: 2H2 + O2 = 2H2O."), "2H2 + O2 = 2H2O");
 * ```
 */
export function sciknowevalEquationText(response: string): string | null {
  const lines = response.split("\n").filter((l) => /<=>|<->|->|=>|⇌|⟶|→|=/.test(l));
  if (lines.length === 0) return null;
  let line = lines[lines.length - 1];
  const colon = line.lastIndexOf(":");
  if (colon >= 0) line = line.slice(colon + 1);
  return line.trim().replace(/^[$`]+|[$`]+$/g, "").trim().replace(/\.$/, "").trim();
}

function sameSide(a: EquationSide, b: EquationSide): boolean {
  return a.size === b.size && [...a].every(([s, k]) => b.get(s) === k);
}

/**
 * The 0/1 score of a balancing response against the reference equation: the response's equation
 * (sciknowevalEquationText, parseEquation) has the same species with the same coefficients on
 * each side as the reference (order within a side, spacing and a written coefficient 1 do not
 * matter; swapped sides, a multiple of the coefficients or another state symbol do). A reference
 * that does not parse as one equation (all 300 of SciKnowEval's do parse) is compared with the
 * whole response as text, whitespace removed.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(sciknowevalEquationScore("O2 + 2H2 = 2H2O", "2H2 + O2 = 2H2O"), 1);
 * equal(sciknowevalEquationScore("4H2 + 2O2 = 4H2O", "2H2 + O2 = 2H2O"), 0);
 * ```
 */
export function sciknowevalEquationScore(response: string, reference: string): 0 | 1 {
  const gold = parseEquation(reference);
  if (!gold) {
    const squash = (s: string) => s.replace(/\s+/g, "");
    return squash(response) === squash(reference) && squash(reference) !== "" ? 1 : 0;
  }
  const text = sciknowevalEquationText(response);
  if (text === null) return 0;
  const got = parseEquation(text);
  return got && sameSide(got.left, gold.left) && sameSide(got.right, gold.right) ? 1 : 0;
}
