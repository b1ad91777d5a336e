// report.html in a real browser: `bench smoke` into a temporary folder, its report.html opened in
// headless Chromium over the DevTools protocol (tests/chromium.ts). Checks that the page logs no
// console error or exception, requests nothing but itself, and draws every chart as an SVG of
// non-zero size with visible marks; saves a screenshot (report.png, with report.html) to
// $FORGETBENCH_ARTIFACTS (default: the test's temporary folder, kept), and to docs/report.png
// with FORGETBENCH_UPDATE_SCREENSHOT=1. Without Chromium the test is ignored, or fails under CI.

import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { cli } from "./cli.ts";
import { findChromium, launch } from "./chromium.ts";

const CHROMIUM = findChromium();
const CI = !["", "0", "false"].includes((Deno.env.get("CI") ?? "").toLowerCase());
const ROOT = new URL("..", import.meta.url).pathname;

if (!CHROMIUM && !CI) {
  console.warn(
    "report_browser_test: ignored: no chromium on PATH (apt-get install chromium, or set " +
      "CHROMIUM=/path/to/chrome); under CI (CI set) it fails instead",
  );
}

const VARIANTS = ["sft1", "oracle-sft", "sft-kl", "grpo-kl", "reinforce10", "rif-rft"];
const CHARTS = [
  ...VARIANTS.map((v) => `matrix-${v}`),
  ...VARIANTS.map((v) => `curves-${v}`),
  "law-panel-drop",
  "matched",
  "panel",
];

interface ChartInfo {
  id: string;
  svgs: number;
  width: number;
  height: number;
  /** Elements in the SVG's data-mark groups, and how many of them have a visible box. */
  marks: number;
  visible: number;
}

Deno.test({
  name: CHROMIUM
    ? "report.html of bench smoke in headless Chromium: no errors, every chart drawn"
    : "report.html of bench smoke in headless Chromium (chromium not found" +
      (CI ? ": required under CI)" : ": ignored)"),
  ignore: !CHROMIUM && !CI,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!CHROMIUM) {
      throw new Error(
        "chromium is not installed: .ci/run installs it (apt-get install chromium); " +
          "CI is set, so this test cannot be skipped",
      );
    }
    const tmp = await Deno.makeTempDir({ prefix: "fb-report-browser-" });
    const out = join(tmp, "out");
    const res = await cli(["bench", "smoke", "--out", out, "--quiet"], {
      env: { FORGETBENCH_CACHE: join(tmp, "cache") },
    });
    equal(res.code, 0, res.stderr);
    await Deno.remove(join(tmp, "cache"), { recursive: true });
    const file = join(out, "report.html");
    const browser = await launch(CHROMIUM);
    try {
      const page = await browser.open(`file://${file}`, { width: 1280, height: 900 });
      const info = await page.evaluate<{ title: string; charts: ChartInfo[]; broken: string[] }>(`(
        () => {
          const charts = [...document.querySelectorAll("figure[data-chart]")].map((f) => {
            const svgs = f.querySelectorAll("svg");
            const box = svgs[0] ? svgs[0].getBoundingClientRect() : { width: 0, height: 0 };
            const marks = svgs[0] ? [...svgs[0].querySelectorAll(".role-mark > *")] : [];
            const visible = marks.filter((m) => {
              const b = m.getBBox();
              return b.width > 0 || b.height > 0;
            });
            return {
              id: f.dataset.chart,
              svgs: svgs.length,
              width: box.width,
              height: box.height,
              marks: marks.length,
              visible: visible.length,
            };
          });
          const broken = [...document.querySelectorAll('a[href^="#"]')]
            .map((a) => a.getAttribute("href").slice(1))
            .filter((id) => !document.getElementById(id));
          return { title: document.title, charts, broken };
        }
      )()`);
      equal(info.title, "forgetbench report: smoke");
      deepEqual(info.charts.map((c) => c.id).sort(), [...CHARTS].sort(), "every chart");
      for (const c of info.charts) {
        equal(c.svgs, 1, `${c.id}: one svg`);
        ok(c.width > 50 && c.height > 50, `${c.id}: drawn at ${c.width}×${c.height}`);
        ok(c.marks > 0 && c.visible > 0, `${c.id}: ${c.visible} of ${c.marks} marks visible`);
      }
      deepEqual(info.broken, [], "every table-of-contents link has its target");

      const shot = await page.screenshot();
      ok(shot.length > 10_000, "a screenshot");
      deepEqual([...shot.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "a PNG");
      const log = page.log();
      deepEqual(log.consoleErrors, [], "no console error");
      deepEqual(log.exceptions, [], "no exception");
      deepEqual(log.logErrors, [], "no error in the browser's log");
      deepEqual(
        log.requests.filter((u) => !u.startsWith("file://") && !u.startsWith("data:")),
        [],
        "nothing requested from outside",
      );
      equal(log.requests.filter((u) => u.startsWith("file://")).length, 1, "only the page");

      const artifacts = Deno.env.get("FORGETBENCH_ARTIFACTS") || tmp;
      await Deno.mkdir(artifacts, { recursive: true });
      await Deno.writeFile(join(artifacts, "report.png"), shot);
      await Deno.copyFile(file, join(artifacts, "report.html"));
      console.log(`report_browser_test: screenshot in ${join(artifacts, "report.png")}`);
      if (Deno.env.get("FORGETBENCH_UPDATE_SCREENSHOT") === "1") {
        await Deno.writeFile(join(ROOT, "docs", "report.png"), shot);
        console.log("report_browser_test: docs/report.png updated");
      }
    } finally {
      await browser.close();
    }
    // Without $FORGETBENCH_ARTIFACTS the temporary folder keeps report.png and report.html only.
    if (Deno.env.get("FORGETBENCH_ARTIFACTS")) await Deno.remove(tmp, { recursive: true });
    else await Deno.remove(out, { recursive: true });
  },
});
