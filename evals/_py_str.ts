// Python str semantics the lm-eval task templates rely on, where JS differs (private to evals/).

// Python's str.isspace() set, which str.strip() removes; JS trim() differs (it strips U+FEFF but
// not U+001C..U+001F or U+0085).
const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f" +
  "\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, "g");

/**
 * Python's `str.strip()` with no argument: leading and trailing whitespace as str.isspace() has it.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(pyStrip("\u0085 a b\n"), "a b");
 * ```
 */
export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, "");
}
