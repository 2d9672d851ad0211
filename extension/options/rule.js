/*
 * The third-marking rule as the tutor types it on the options page — a threshold, grade
 * boundaries and band names — checked before it is saved, the way the helper checks it
 * (host/etma_helper/third_marking.py): a threshold from 0 to 100; boundaries from the highest
 * down, each from 0 to 100 and lower than the one before; one more band name than boundaries,
 * each different and not blank. A module with no side effects (tests/js/rule.test.mjs).
 */

/** What the helper uses when the tutor saved nothing. */
export const DEFAULT_RULE = Object.freeze({
  threshold: 15,
  boundaries: Object.freeze([85, 70, 55, 40]),
  bands: Object.freeze(["Pass 1", "Pass 2", "Pass 3", "Pass 4", "Fail"]),
});

/** Most boundaries a rule may have (the helper takes as many). */
export const MAX_BOUNDARIES = 10;
/** Longest band name. */
export const MAX_BAND_NAME = 60;

const NUMBER = /^\d{1,3}(\.\d{1,6})?$/;

/** "85, 70, 55, 40" from [85, 70, 55, 40]: the way the options page shows a list. */
export const listText = (values) => values.join(", ");

/**
 * Check the three fields as typed. Answers `{rule}` to save, or `{field, error}` for the first
 * field that is wrong ("threshold", "boundaries" or "bands"), in words that say how to fix it.
 * @param {{threshold: string, boundaries: string, bands: string}} typed
 * @returns {{rule: {threshold: number, boundaries: number[], bands: string[]}} | {field: string, error: string}}
 */
export function parseRule({ threshold, boundaries, bands }) {
  const thresholdText = String(threshold ?? "").trim();
  if (!NUMBER.test(thresholdText) || Number(thresholdText) > 100) {
    return { field: "threshold", error: "Enter a percentage from 0 to 100, such as 15." };
  }
  const parts = String(boundaries ?? "").split(",").map((part) => part.trim()).filter(Boolean);
  if (!parts.length || parts.length > MAX_BOUNDARIES) {
    return { field: "boundaries", error: `Enter 1 to ${MAX_BOUNDARIES} boundaries, highest first, separated by commas, such as 85, 70, 55, 40.` };
  }
  const wrong = parts.find((part) => !NUMBER.test(part) || Number(part) > 100);
  if (wrong !== undefined) {
    return { field: "boundaries", error: `“${wrong.slice(0, 20)}” is not a percentage from 0 to 100.` };
  }
  const numbers = parts.map(Number);
  const outOfOrder = numbers.findIndex((value, index) => index > 0 && value >= numbers[index - 1]);
  if (outOfOrder > 0) {
    return { field: "boundaries", error: `Boundaries go from the highest down, each lower than the one before (${parts[outOfOrder - 1]} then ${parts[outOfOrder]}).` };
  }
  const names = String(bands ?? "").split(",").map((name) => name.replace(/\s+/g, " ").trim());
  if (names.length !== numbers.length + 1) {
    return { field: "bands", error: `${numbers.length} ${numbers.length === 1 ? "boundary needs" : "boundaries need"} ${numbers.length + 1} band names, highest first, separated by commas (now ${names.filter(Boolean).length}).` };
  }
  if (names.some((name) => !name) || new Set(names).size !== names.length) {
    return { field: "bands", error: "Band names must be different and not blank." };
  }
  if (names.some((name) => name.length > MAX_BAND_NAME)) {
    return { field: "bands", error: `A band name may be at most ${MAX_BAND_NAME} characters.` };
  }
  return { rule: { threshold: Number(thresholdText), boundaries: numbers, bands: names } };
}
