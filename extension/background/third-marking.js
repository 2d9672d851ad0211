/*
 * Third marking, in the background: the tutor's rule (threshold, grade boundaries and band
 * names, saved by the options page) that goes with every `flags` and `export_worksheet`
 * request, the flagged students the marks page hands to the work-allocation page ("Select
 * flagged"), and the fields of Fill marks' `worksheet_marks` request.
 *
 * The hand-over is kept in storage.session (memory only, gone when the browser closes, and out of
 * content scripts' reach), by module and assignment: the work-allocation page takes it (so it is
 * used once), and one older than KEEP_FOR_MS is dropped unused.
 */
import "../lib/protocol.js";
import { api } from "./browser-api.js";

const { PATTERNS, MAX_PIS } = globalThis.etmaProtocol;

/** storage.sync key of the tutor's rule (options/third-marking.js writes it). */
export const RULE_KEY = "thirdMarkingRule";
/** storage.session key of the kept selections. */
const KEPT_KEY = "flaggedForThirdMarking";
/** How long a kept selection waits for its work-allocation page. */
export const KEEP_FOR_MS = 4 * 60 * 60 * 1000;

/**
 * The rule's fields for a `flags` request: what the tutor saved, else nothing (the helper's
 * defaults, 15 and 85, 70, 55, 40). The helper checks them.
 * @returns {Promise<{threshold?: number, boundaries?: number[], bands?: string[]}>}
 */
export async function savedRule() {
  const saved = (await api.storage.sync.get(RULE_KEY).catch(() => ({})))?.[RULE_KEY];
  if (!saved || typeof saved !== "object") return {};
  const rule = {};
  if (Number.isFinite(saved.threshold)) rule.threshold = saved.threshold;
  if (Array.isArray(saved.boundaries) && saved.boundaries.every(Number.isFinite)) rule.boundaries = saved.boundaries;
  if (Array.isArray(saved.bands) && saved.bands.every((name) => typeof name === "string")) rule.bands = saved.bands;
  return rule;
}

/** "TM351 TMA02": the key of a module and assignment ("TMA 02" and "tma02" are the same). */
function keyOf(module, assignment) {
  const mod = typeof module === "string" ? module.trim().toUpperCase() : "";
  const ass = typeof assignment === "string" ? assignment.replace(/\s+/g, "").toUpperCase() : "";
  if (!PATTERNS.module.test(mod) || (ass && !PATTERNS.assignment.test(ass))) return null;
  return `${mod} ${ass}`.trim();
}

/** The kept selections still fresh, by key. */
async function keptSelections(now) {
  const kept = (await api.storage.session.get(KEPT_KEY).catch(() => ({})))?.[KEPT_KEY] ?? {};
  return Object.fromEntries(Object.entries(kept).filter(([, entry]) =>
    entry && Array.isArray(entry.pis) && now - entry.at < KEEP_FOR_MS && entry.at <= now));
}

/**
 * Keep the flagged students of a module and assignment for its work-allocation page.
 * @param {{module: string, assignment?: string, pis: string[]}} message
 */
export async function keepFlagged({ module, assignment, pis }) {
  const key = keyOf(module, assignment);
  if (!key) return { error: { text: "The marks page did not name a module and assignment." } };
  if (!Array.isArray(pis) || pis.length > MAX_PIS || !pis.every((pi) => typeof pi === "string" && PATTERNS.pi.test(pi))) {
    return { error: { text: "The flagged students could not be kept: the list of PIs was not valid." } };
  }
  const now = Date.now();
  const kept = await keptSelections(now);
  kept[key] = { pis: [...new Set(pis.map((pi) => pi.toUpperCase()))], at: now };
  await api.storage.session.set({ [KEPT_KEY]: kept });
  return { kept: kept[key].pis.length };
}

/**
 * Take (and forget) the students kept for a module and assignment; `pis` is empty when none are.
 * @param {{module: string, assignment?: string}} message
 */
export async function takeFlagged({ module, assignment }) {
  const key = keyOf(module, assignment);
  const now = Date.now();
  const kept = await keptSelections(now);
  const entry = key ? kept[key] : undefined;
  if (entry) {
    delete kept[key];
    await api.storage.session.set({ [KEPT_KEY]: kept });
  }
  return { pis: entry?.pis ?? [] };
}

/**
 * The helper's `export_worksheet` request for the marks page's "Export marks worksheet": the
 * page's module, assignment, marks rows and choice of students, with the tutor's saved rule
 * (`rule`, added by the background, never the page's). The helper chooses where it is written.
 * @param {{module?: string, assignment?: string, rows?: Object[], students?: string | string[],
 *   rule?: Object}} message
 */
export function exportRequest({ module, assignment, rows, students, rule }) {
  const chosen = students === "flagged" || students === "all"
    || (Array.isArray(students) && students.every((pi) => typeof pi === "string")) ? students : "flagged";
  return {
    module: typeof module === "string" ? module : "",
    ...(typeof assignment === "string" && assignment ? { assignment } : {}),
    rows: Array.isArray(rows) ? rows : [],
    students: chosen,
    ...rule,
  };
}

/**
 * The fields of a `worksheet_marks` request (Fill marks) from the marks page's message: its
 * module and assignment, its marks rows, and which part of the answer it asks for (`start`).
 * The helper reads the module's own worksheet; no path is passed on, whatever the page sends.
 * @param {{module?: unknown, assignment?: unknown, rows?: unknown, start?: unknown}} message
 */
export function worksheetMarksFields({ module, assignment, rows, start }) {
  return {
    module: typeof module === "string" ? module : "",
    ...(typeof assignment === "string" && assignment ? { assignment } : {}),
    rows: Array.isArray(rows) ? rows : [],
    ...(Number.isInteger(start) && start > 0 ? { start } : {}),
  };
}
