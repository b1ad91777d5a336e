// Tests for models/char_tokenizer.ts: fixed ids, round trips, eos handling, one-line errors.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import {
  BOS_ID,
  decode,
  encode,
  EOS_ID,
  NEWLINE_ID,
  PAD_ID,
  VOCAB_SIZE,
} from "./char_tokenizer.ts";

Deno.test("char tokenizer: fixed ids for specials, newline and printable ASCII", () => {
  deepEqual([PAD_ID, BOS_ID, EOS_ID, NEWLINE_ID], [0, 1, 2, 3]);
  equal(VOCAB_SIZE, 99);
  deepEqual(encode(" ~\n"), [4, 98, 3]);
  deepEqual(encode("ab"), [69, 70]);
  deepEqual(encode(""), []);
});

Deno.test("char tokenizer: every printable character and newline round-trips", () => {
  let all = "\n";
  for (let c = 0x20; c <= 0x7e; c++) all += String.fromCharCode(c);
  const ids = encode(all);
  equal(new Set(ids).size, all.length);
  ok(ids.every((id) => id >= 3 && id < VOCAB_SIZE));
  equal(decode(ids), all);
  equal(decode(encode("kv:a=3 b=71;b=")), "kv:a=3 b=71;b=");
});

Deno.test("char tokenizer: decode skips pad/bos and stops at eos", () => {
  equal(decode([BOS_ID, ...encode("12"), NEWLINE_ID, EOS_ID, ...encode("zz")]), "12\n");
  equal(decode([PAD_ID, ...encode("x"), PAD_ID]), "x");
});

Deno.test("char tokenizer: errors name the character or id and its position", () => {
  throws(() => encode("ab\tc"), (e) => {
    ok(e instanceof ValidationError);
    ok(/"\\t".*position 2/.test(e.message), e.message);
    ok(!e.message.includes("\n"));
    return true;
  });
  throws(() => encode("é"), /U\+00E9\) at position 0/);
  throws(() => decode([4, 99]), /id 99 at position 1/);
  throws(() => decode([1.5]), ValidationError);
});
