// Open-Reasoner-Zero's math problems (Hu et al. 2025) as RL's Razor trains on them: the prompt,
// the final-answer extraction and the answer equivalence behind the 0/1 reward and the score.
//
// The reference is ORZ's own reward (orz/ppo/tools/math_utils.py, playground/orz_7b_ppo.py in
// github.com/Open-Reasoner-Zero/Open-Reasoner-Zero): it takes the last \boxed{...} of the answer
// (`last_boxed_only_string`, `solution2answer`, applied to the ground truth too), a final
// "answer is ..." otherwise (`get_final_answer`), else the whole text, and calls two answers
// equal when MATH's `_strip_string` normalisations make them the same string or the same float,
// or when sympy parses both to the same expression. sympy is not reproduced here: equivalence is
// the normalised string or, for numbers, the same exact rational (orzEquivalent lists each rule).
// So this scoring is deterministic and a little stricter than ORZ's (`\sqrt{12}` is not
// `2\sqrt{3}`), and never more lenient on numbers (no float rounding).

/**
 * The instruction after the problem: Qwen2.5-Math's chain-of-thought prompt. ORZ's own template
 * wraps the problem in an R1-style base-model conversation that demands `<answer>` tags and
 * opens `<think>`; RL's Razor trains instruct models, and forgetbench sends plain text, so the
 * prompt keeps only what the reward reads: the final answer inside \boxed{}.
 */
export const ORZ_INSTRUCTION =
  "Please reason step by step, and put your final answer within \\boxed{}.";

/**
 * The prompt of a problem: the problem text as published, a newline, ORZ_INSTRUCTION.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(orzPrompt("What is 2+3?"),
 *   "What is 2+3?\nPlease reason step by step, and put your final answer within \\boxed{}.");
 * ```
 */
export function orzPrompt(question: string): string {
  return `${question}\n${ORZ_INSTRUCTION}`;
}

/**
 * The contents of the last `\boxed{...}` in `text` (of the last `\fbox{...}` when there is no
 * `\boxed`), braces balanced; escaped braces `\{`, `\}` do not count. Null when there is none or
 * it never closes (ORZ's `last_boxed_only_string` returns None then).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(lastBoxed("so \\boxed{1} or rather \\boxed{\\frac{1}{2}}."), "\\frac{1}{2}");
 * equal(lastBoxed("\\boxed{3"), null);
 * ```
 */
export function lastBoxed(text: string): string | null {
  let name = "\\boxed";
  let at = text.lastIndexOf(name);
  if (at < 0) at = text.lastIndexOf(name = "\\fbox");
  if (at < 0) return null;
  let i = at + name.length;
  while (text[i] === " ") i++;
  if (text[i] !== "{") return null;
  const start = i + 1;
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++; // an escaped character, \{ and \} included
    } else if (c === "{") {
      depth++;
    } else if (c === "}" && --depth === 0) {
      return text.slice(start, i);
    }
  }
  return null;
}

const ANSWER_IS = /\banswer\s*(?:is\b\s*:?|:)/gi;

/**
 * The final answer of a text, in order: the contents of the last `\boxed{...}`; else what follows
 * the last "answer is" or "answer:" (any case) to the end of its line; else the whole text
 * (a bare answer). Trimmed. The ground truth goes through the same function, as ORZ passes both
 * through `solution2answer`, so a ground truth scores 1 against itself whatever it holds.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(orzExtract("2+3=5, so the answer is \\boxed{5}."), "5");
 * equal(orzExtract("The final answer is: $5$.\nDone."), "$5$.");
 * equal(orzExtract(" 5 "), "5");
 * ```
 */
export function orzExtract(text: string): string {
  const boxed = lastBoxed(text);
  if (boxed !== null) return boxed.trim();
  const all = [...text.matchAll(ANSWER_IS)];
  if (all.length > 0) {
    const last = all[all.length - 1];
    const rest = text.slice(last.index! + last[0].length);
    return rest.split("\n", 1)[0].trim();
  }
  return text.trim();
}

// Each rule applies to prediction and ground truth alike; orzNormalize applies them in order.
const UNIT = /\\(?:text|mbox|mathrm)\{ [^{}]*\}$/; // a trailing \text{ cm}: a unit
const WRAPPER = /\\(?:text|textbf|textrm|mathrm|mbox)\{([^{}]*)\}/g;
const SPACING = /\\[!,;: ]|\\q?quad\b|~/g;
const DELIMITERS = /\$|\\[()[\]]|\\displaystyle\b/g;
const THOUSANDS = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

/**
 * The normal form two answers are compared in. In order:
 * 1. math delimiters dropped: `$`, `\(`, `\)`, `\[`, `\]`, `\displaystyle`;
 * 2. a trailing unit written as `\text{ unit}` (a space first, as MATH's `_remove_right_units`
 *    reads units) dropped: `20\text{ cm}` is `20`; units in any other form stay;
 * 3. `\text{}`, `\textbf{}`, `\textrm{}`, `\mathrm{}`, `\mbox{}` unwrapped to their contents;
 * 4. `\left`, `\right` dropped; `\dfrac`, `\tfrac` written `\frac`;
 * 5. degrees (`^\circ`, `^{\circ}`, `°`) and percent signs (`\%`, `%`) dropped, as MATH does;
 * 6. LaTeX spacing (`\!`, `\,`, `\;`, `\:`, `\ `, `\quad`, `~`) and then all whitespace dropped;
 * 7. `{,}` between digits read as a comma, and the commas of a number written with thousands
 *    separators (the whole answer, `1,234,567.5`) dropped; other commas (`1,-2`, `(1,2)`) stay;
 * 8. trailing periods dropped;
 * 9. `x=` before the value dropped where the left side is one variable (`x`, `k`, `a1`);
 * 10. `\frac12` and `\sqrt3` shorthand written out (`\frac{1}{2}`, `\sqrt{3}`); `.5` is `0.5`;
 * 11. an option letter in parentheses `(B)` is `B`.
 * Case is kept.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(orzNormalize("$x = \\dfrac{1}{2}$."), "\\frac{1}{2}");
 * equal(orzNormalize("1,000\\text{ dollars}"), "1000");
 * ```
 */
export function orzNormalize(answer: string): string {
  let s = answer.trim().replace(DELIMITERS, "").trim();
  s = s.replace(UNIT, "");
  for (let prev = ""; prev !== s;) {
    prev = s;
    s = s.replace(WRAPPER, "$1"); // innermost first: \text{\textbf{B}} takes two rounds
  }
  s = s.replace(/\\(?:left|right)(?![A-Za-z])/g, "").replace(/\\[dt]frac(?![A-Za-z])/g, "\\frac");
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![A-Za-z])|°|\\?%/g, "");
  s = s.replace(SPACING, "").replace(/\s+/g, "");
  s = s.replace(/(\d)\{,\}(\d)/g, "$1,$2");
  if (THOUSANDS.test(s)) s = s.replace(/,/g, "");
  s = s.replace(/\.+$/, "");
  const eq = s.split("=");
  if (eq.length === 2 && /^[A-Za-z][A-Za-z0-9]?$/.test(eq[0]) && eq[1] !== "") s = eq[1];
  s = s.replace(/\\frac([0-9A-Za-z])([0-9A-Za-z])/g, "\\frac{$1}{$2}")
    .replace(/\\frac([0-9A-Za-z])\{/g, "\\frac{$1}{")
    .replace(/\\frac(\{[^{}]*\})([0-9A-Za-z])/g, "\\frac$1{$2}")
    .replace(/\\sqrt([0-9A-Za-z])/g, "\\sqrt{$1}");
  s = s.replace(/^(-?)\./, (_, sign) => `${sign}0.`);
  const letter = /^\(([A-Z])\)$/.exec(s);
  return letter ? letter[1] : s;
}

/** An exact rational, denominator positive. */
interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

function decimal(s: string): Rational | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return null;
  const frac = m[3] ?? "";
  const n = BigInt(m[2] + frac) * (m[1] ? -1n : 1n);
  return { n, d: 10n ** BigInt(frac.length) };
}

function ratio(a: Rational | null, b: Rational | null, negate: boolean): Rational | null {
  if (!a || !b || b.n === 0n) return null;
  const n = a.n * b.d * (negate ? -1n : 1n), d = a.d * b.n;
  return d < 0n ? { n: -n, d: -d } : { n, d };
}

/**
 * The exact value of a normalised answer that is a number: an integer (`-12`), a decimal
 * (`0.125`), a fraction `a/b` or `\frac{a}{b}` of integers or decimals (sign in front or on
 * either part); null for anything else (and for a zero denominator).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(orzNumber("-\\frac{3}{4}"), { n: -3n, d: 4n });
 * deepEqual(orzNumber("x+1"), null);
 * ```
 */
export function orzNumber(s: string): Rational | null {
  const plain = decimal(s);
  if (plain) return plain;
  const slash = /^(-?)(-?[\d.]+)\/(-?[\d.]+)$/.exec(s);
  if (slash) return ratio(decimal(slash[2]), decimal(slash[3]), slash[1] === "-");
  const frac = /^(-?)\\frac\{(-?[\d.]+)\}\{(-?[\d.]+)\}$/.exec(s);
  if (frac) return ratio(decimal(frac[2]), decimal(frac[3]), frac[1] === "-");
  return null;
}

/**
 * Whether two final answers are the same: their normal forms (orzNormalize) are the same
 * string, or both are numbers (orzNumber) of the same exact value (`0.5`, `1/2`, `\frac{1}{2}`,
 * `\dfrac12` alike; `0.333` is not `1/3`). An empty answer equals nothing.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(orzEquivalent("0.50", "\\frac{1}{2}"), true);
 * equal(orzEquivalent("\\frac{1}{3}", "0.333"), false);
 * ```
 */
export function orzEquivalent(prediction: string, truth: string): boolean {
  const a = orzNormalize(prediction), b = orzNormalize(truth);
  if (a === "" || b === "") return false;
  if (a === b) return true;
  const x = orzNumber(a), y = orzNumber(b);
  return x !== null && y !== null && x.n * y.d === y.n * x.d;
}

/**
 * The 0/1 score and reward of a generation against a ground truth: the final answers of both
 * (orzExtract) are equivalent (orzEquivalent).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(orzScore("Adding, we get \\boxed{\\dfrac{3}{4}}.", "\\frac34"), 1);
 * equal(orzScore("The answer is 0.74", "\\frac{3}{4}"), 0);
 * ```
 */
export function orzScore(output: string, truth: string): 0 | 1 {
  return orzEquivalent(orzExtract(output), orzExtract(truth)) ? 1 : 0;
}
