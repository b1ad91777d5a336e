// lm-evaluation-harness's tokenisation of log-likelihood requests, shared by every language-model
// family (the ONNX backend and the jax-js Llama), so that the same request scores the same
// tokens whatever runs it.

/**
 * Trailing whitespace as Python's str.rstrip() sees it (lm-eval's rule): JavaScript's \s plus
 * U+001C–U+001F and U+0085, minus U+FEFF.
 */
const TRAILING_SPACE =
  // deno-lint-ignore no-control-regex -- U+001C-U+001F are whitespace to Python
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/** What pair encoding needs of a tokenizer. */
export interface PairEncoder {
  /** Token ids of a text, no special tokens. */
  encode(text: string): number[];
  /** The token an empty context is scored after (lm-eval's prefix_token_id: BOS, else EOS). */
  readonly prefixId: number;
  /** Whether contexts start with BOS (lm-eval's add_bos_token; off by default but for Gemma). */
  readonly addBos?: boolean;
}

/**
 * lm-eval's _encode_pair: trailing whitespace of the context moves onto the continuation, then
 * the continuation's tokens are tokens(context + continuation) after len(tokens(context)). An
 * empty context (also one that was only whitespace, where lm-eval would index out of range) is
 * scored after the prefix token. With `addBos` the context starts with it (the prefix token).
 */
export function encodePair(
  req: { readonly context: string; readonly continuation: string },
  enc: PairEncoder,
): { ctx: number[]; cont: number[] } {
  let { context, continuation } = req;
  const nSpaces = context.length - context.replace(TRAILING_SPACE, "").length;
  if (nSpaces > 0) {
    continuation = context.slice(-nSpaces) + continuation;
    context = context.slice(0, -nSpaces);
  }
  const bos = enc.addBos ? [enc.prefixId] : [];
  if (context === "") return { ctx: [enc.prefixId], cont: enc.encode(continuation) };
  const whole = enc.encode(context + continuation);
  const ctx = enc.encode(context);
  const cont = whole.slice(ctx.length);
  return { ctx: ctx.length === 0 ? [enc.prefixId] : [...bos, ...ctx], cont };
}

/**
 * The model input of a pair, as lm-eval builds it: (context + continuation)[-(maxLength + 1):]
 * without its last token, so the last `cont.length` input positions predict the continuation.
 * An empty continuation keeps one real token, so a batch is never zero wide.
 */
export function windowInput(
  pair: { readonly ctx: readonly number[]; readonly cont: readonly number[] },
  maxLength: number,
): number[] {
  const input = [...pair.ctx, ...pair.cont].slice(-(maxLength + 1)).slice(0, -1);
  if (input.length === 0) input.push(pair.ctx[pair.ctx.length - 1]);
  return input;
}

/** Cuts `text` at the earliest occurrence of any non-empty stop string. */
export function cutAtStop(text: string, until: readonly string[]): string {
  let cut = text.length;
  for (const s of until) {
    if (s === "") continue;
    const at = text.indexOf(s);
    if (at >= 0 && at < cut) cut = at;
  }
  return text.slice(0, cut);
}

/**
 * Whether a generation is over after the new tokens `ids`: its token budget is spent, the last
 * token is an end-of-sequence id (the tokenizer's EOS, and every id generation_config.json lists,
 * as Qwen2.5-Instruct's <|im_end|> and <|endoftext|>), or the decoded text holds a stop string.
 */
export function generationDone(
  req: { readonly maxTokens: number; readonly until: readonly string[] },
  ids: readonly number[],
  tok: { readonly stopIds: ReadonlySet<number>; decode(ids: readonly number[]): string },
): boolean {
  if (ids.length >= req.maxTokens) return true;
  if (tok.stopIds.has(ids[ids.length - 1])) return true;
  if (req.until.every((s) => s === "")) return false;
  const text = tok.decode(ids);
  return cutAtStop(text, req.until).length < text.length;
}
