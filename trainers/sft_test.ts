// Tests for the SFT trainer's options: the labelling defaults to sft1, β is 0, and options of
// other trainers (sft_kl's beta) are rejected.

import { deepEqual, throws } from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import { sft } from "./sft.ts";

Deno.test("sft.parseOptions: labelling default, beta 0, unknown keys rejected", () => {
  deepEqual(sft.parseOptions({}, "t"), { labelling: "sft1", beta: 0 });
  deepEqual(sft.parseOptions({ labelling: "oracle" }, "t"), { labelling: "oracle", beta: 0 });
  throws(() => sft.parseOptions({ labelling: "" }, "t"), /t\.labelling: must be a labelling name/);
  throws(() => sft.parseOptions({ beta: 1 }, "t"), ValidationError); // sft_kl's option, not sft's
});
