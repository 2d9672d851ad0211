// The third-marking rule as typed on the options page (extension/options/rule.js), checked the
// way the helper checks it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_RULE, listText, parseRule } from "../../extension/options/rule.js";

const typed = (changes = {}) => ({
  threshold: "15", boundaries: "85, 70, 55, 40", bands: "Pass 1, Pass 2, Pass 3, Pass 4, Fail", ...changes,
});

test("the defaults as shown parse back to the defaults", () => {
  const shown = { threshold: String(DEFAULT_RULE.threshold), boundaries: listText(DEFAULT_RULE.boundaries),
    bands: listText(DEFAULT_RULE.bands) };
  assert.deepEqual(parseRule(shown), { rule: { threshold: 15, boundaries: [85, 70, 55, 40],
    bands: ["Pass 1", "Pass 2", "Pass 3", "Pass 4", "Fail"] } });
});

test("other rules are taken: decimals, fewer boundaries with their names, tidy spaces", () => {
  assert.deepEqual(parseRule(typed({ threshold: " 12.5 ", boundaries: "50", bands: " Pass ,  Fail  " })),
    { rule: { threshold: 12.5, boundaries: [50], bands: ["Pass", "Fail"] } });
  assert.deepEqual(parseRule(typed({ threshold: "0" })).rule.threshold, 0);
});

test("each wrong field is named with how to fix it", () => {
  const wrong = (changes) => parseRule(typed(changes));
  assert.equal(wrong({ threshold: "" }).field, "threshold");
  assert.equal(wrong({ threshold: "101" }).field, "threshold");
  assert.equal(wrong({ threshold: "-1" }).field, "threshold");
  assert.equal(wrong({ threshold: "ten" }).field, "threshold");
  assert.equal(wrong({ boundaries: "" }).field, "boundaries");
  assert.match(wrong({ boundaries: "85, 70, x, 40" }).error, /“x” is not a percentage/);
  assert.match(wrong({ boundaries: "85, 70, 70, 40" }).error, /highest down.*\(70 then 70\)/);
  assert.match(wrong({ boundaries: "40, 55, 70, 85" }).error, /\(40 then 55\)/);
  assert.equal(wrong({ boundaries: "120, 70, 55, 40" }).field, "boundaries");
  assert.equal(wrong({ boundaries: Array.from({ length: 11 }, (_, i) => 95 - i * 5).join(",") }).field, "boundaries");
  assert.match(wrong({ boundaries: "85, 70, 55" }).error, /3 boundaries need 4 band names/);
  assert.equal(wrong({ bands: "Pass 1, Pass 1, Pass 3, Pass 4, Fail" }).field, "bands");
  assert.equal(wrong({ bands: "Pass 1, , Pass 3, Pass 4, Fail" }).field, "bands");
  assert.equal(wrong({ bands: `${"x".repeat(61)}, b, c, d, e` }).field, "bands");
});
