// The marks page's chart (extension/content/chart.js): where each bar goes and what the chart says
// in words. chart.js is a classic script that adds oscar.chart to globalThis.etmaOscar.
import assert from "node:assert/strict";
import { test } from "node:test";

globalThis.etmaOscar = {};
await import("../../extension/content/chart.js");
const { bars, describe, SIZE } = globalThis.etmaOscar.chart;

const QUESTIONS = [
  { question: "Q1", maximum: 10, first: 7, second: 4 },
  { question: "Q3", maximum: 20, first: 20, second: 10 },
  { question: "Q4", maximum: 5, first: 0, second: null },
];

test("each question has the first marker's bar then the second's, as tall as the share of its maximum", () => {
  const { bars: placed, baseline } = bars(QUESTIONS);
  assert.deepEqual(placed.map((b) => [b.question, b.marker, b.mark]), [
    ["Q1", "first", 7], ["Q1", "second", 4], ["Q3", "first", 20], ["Q3", "second", 10],
    ["Q4", "first", 0], ["Q4", "second", null],
  ]);
  const heights = placed.map((b) => b.height);
  assert.deepEqual(heights.slice(0, 4), [0.7 * SIZE.plot, 0.4 * SIZE.plot, SIZE.plot, 0.5 * SIZE.plot]);
  assert.equal(heights[4], 0);
  // Every bar stands on the same baseline.
  for (const bar of placed) assert.equal(Math.round((bar.y + bar.height) * 100) / 100, baseline);
});

test("a mark not given is an outline the full height, and bars never overlap", () => {
  const { bars: placed, width } = bars(QUESTIONS);
  const missing = placed.at(-1);
  assert.equal(missing.missing, true);
  assert.equal(missing.height, SIZE.plot);
  for (let i = 1; i < placed.length; i += 1) assert.ok(placed[i].x >= placed[i - 1].x + placed[i - 1].width);
  assert.ok(placed.at(-1).x + placed.at(-1).width <= width);
});

test("a mark outside 0..maximum is drawn within the plot", () => {
  const { bars: placed } = bars([{ question: "Q1", maximum: 10, first: 12, second: -1 }]);
  assert.deepEqual(placed.map((b) => b.height), [SIZE.plot, 0]);
});

test("the chart in words names every mark and maximum, and a missing mark", () => {
  assert.equal(describe(QUESTIONS),
    "Q1 (out of 10): first 7, second 4. Q3 (out of 20): first 20, second 10. Q4 (out of 5): first 0, second no mark.");
});
