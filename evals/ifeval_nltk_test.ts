// Tests for evals/ifeval_nltk.ts. Expected values were produced in Python 3.11 with nltk 3.8:
// RegexpTokenizer(r"\w+"), and a PunktSentenceTokenizer and word_tokenize built with this
// module's Punkt parameters (PUNKT_ABBREVIATIONS; PUNKT_COMMON_WORDS as orthographic context),
// then pasted here. (The ported Punkt and Treebank code also agreed with nltk on 2,400 random
// texts of abbreviations, initials, numbers, quotes, brackets, Unicode and newlines.)

import { deepEqual, equal } from "node:assert/strict";
import {
  countSentences,
  countWords,
  punktSentences,
  treebankWords,
  wordTokenize,
} from "./ifeval_nltk.ts";

/** [text, Punkt's sentences]. */
const SENTENCES: readonly (readonly [string, readonly string[]])[] = [
  ["Mr. Smith went to Washington. He arrived at 5 p.m. yesterday.", [
    "Mr. Smith went to Washington.",
    "He arrived at 5 p.m. yesterday.",
  ]],
  ["I have 3 apples. You have 5. Is that fair?", [
    "I have 3 apples.",
    "You have 5.",
    "Is that fair?",
  ]],
  ["1. Apples\n2. Pears\n3. Plums", ["1.", "Apples\n2.", "Pears\n3.", "Plums"]],
  ['"Stop!" she said. "Now." He did.', ['"Stop!"', "she said.", '"Now."', "He did."]],
  ["(Sent one.) Sent two.", ["(Sent one.)", "Sent two."]],
  ["Wait... What happened? Nothing...really.", ["Wait...", "What happened?", "Nothing...really."]],
  ["J. R. R. Tolkien wrote books. They sold well.", [
    "J. R. R. Tolkien wrote books.",
    "They sold well.",
  ]],
  ["The U.S. Army is big. The U.K. is small.", ["The U.S. Army is big.", "The U.K. is small."]],
  ["See e.g. the list. It is long.", ["See e.g. the list.", "It is long."]],
  ["no punctuation at all\nacross lines", ["no punctuation at all\nacross lines"]],
  ["", []],
  ["   ", []],
  ["Hello!!! Are you there?? Yes.", ["Hello!!!", "Are you there??", "Yes."]],
  ["It costs $5.50 today. Tomorrow more.", ["It costs $5.50 today.", "Tomorrow more."]],
  ["Visit www.example.com. It is fine.", ["Visit www.example.com.", "It is fine."]],
];

Deno.test("punktSentences: nltk's Punkt (abbreviations, initials, numbers, ellipses, quotes realigned; newlines never split)", () => {
  for (const [text, want] of SENTENCES) {
    deepEqual(punktSentences(text), want, JSON.stringify(text));
    equal(countSentences(text), want.length);
  }
});

/** [text, nltk.word_tokenize's tokens]. */
const WORDS: readonly (readonly [string, readonly string[]])[] = [
  ["I DON'T know.", ["I", "DO", "N'T", "know", "."]],
  ["THE U.S. ROCKS!", ["THE", "U.S.", "ROCKS", "!"]],
  ['Can\'t we go? "Yes," he said.', [
    "Ca",
    "n't",
    "we",
    "go",
    "?",
    "``",
    "Yes",
    ",",
    "''",
    "he",
    "said",
    ".",
  ]],
  ["cannot gonna 'tis", ["can", "not", "gon", "na", "'t", "is"]],
  ["(a) [b] {c} <d> -- e...", [
    "(",
    "a",
    ")",
    "[",
    "b",
    "]",
    "{",
    "c",
    "}",
    "<",
    "d",
    ">",
    "--",
    "e",
    "...",
  ]],
  ["It's Tom's book; he'll read it.", [
    "It",
    "'s",
    "Tom",
    "'s",
    "book",
    ";",
    "he",
    "'ll",
    "read",
    "it",
    ".",
  ]],
  ["«Bonjour» “hi” ‘x’", ["«", "Bonjour", "»", "“", "hi", "”", "‘", "x", "’"]],
];

Deno.test("wordTokenize: nltk.word_tokenize (Treebank rules per Punkt sentence: contractions, quotes, brackets)", () => {
  for (const [text, want] of WORDS) deepEqual(wordTokenize(text), want, text);
  deepEqual(treebankWords("Hello. World."), ["Hello.", "World", "."]);
});

/** [text, instructions_util.count_words]. */
const COUNTS: readonly (readonly [string, number])[] = [
  ["Don't stop-me now, 2 times!", 7],
  ["नमस्ते दुनिया", 5],
  ["", 0],
  ["日本語 テキスト", 2],
  ["a_b c1", 2],
];

Deno.test("countWords: \\w+ runs, combining marks splitting words as in Python", () => {
  for (const [text, want] of COUNTS) equal(countWords(text), want, text);
});
