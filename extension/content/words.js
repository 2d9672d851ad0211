/*
 * eTMA Helper on the OSCAR page — what the page says, worked out from the students' records
 * alone: a row's status and its detail line, a job's live counts and progress, the end-of-job
 * announcement, which students a "Run again" or "Retry failed" takes, and the list of students
 * with nothing submitted. Pure functions of plain records (no DOM), so tests/js/ checks them in
 * Node; the files after this one put the words on the page.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { plural, FINISHED_STATES, countWords } = globalThis.etmaShared;

  /** A student in one of these has finished; a cancelled one has not: it is counted apart. */
  const FINISHED = new Set(FINISHED_STATES);
  /** The states a job needs nothing more for: the rest is what "Run again" takes. */
  const ENDED_WELL = new Set(["done", "not_submitted"]);

  /** What a row's status says for its latest record. */
  function statusWords(record) {
    if (!record) return "";
    switch (record.state) {
      case "queued": return "Queued";
      case "working": return "Working…";
      case "done": {
        if (record.action === "codes") return record.code ? `Code ${record.code}` : "Done – no code shown";
        const count = record.files_total ?? record.files?.length ?? 0;
        const files = `Done – ${plural(count, "file")}`;
        return record.code ? `${files} · Code ${record.code}` : files;
      }
      case "not_submitted": {
        // Not a failure: eTMA shows no submission, and any code it shows is still the tutor's to use.
        const words = record.late ? "Nothing submitted (marked late)" : "Nothing submitted";
        return record.code ? `${words} · Code ${record.code}` : words;
      }
      case "failed": {
        const failed = `Failed: ${record.reason || "no reason given"}`;
        return record.code ? `${failed} · Code ${record.code}` : failed;
      }
      case "needs_login": return "Log in to eTMA again";
      case "cancelled": return "Cancelled";
      // A state a newer helper added: final, neither done nor failed, said by the helper's reason.
      default: return record.reason ? String(record.reason) : "";
    }
  }

  /** The end of a folder's path, enough to tell students apart: ".../TM351/TMA02/P1234567". */
  function shortFolder(folder) {
    const parts = String(folder || "").split(/[\\/]+/).filter(Boolean);
    if (parts.length <= 3) return String(folder || "");
    return `…/${parts.slice(-3).join("/")}`;
  }

  /**
   * The row's second line, read as text (not a tooltip): where the files are for a finished
   * download, the helper's reason when the status words do not already say it.
   */
  function detailWords(record) {
    if (!record) return "";
    const said = statusWords(record);
    const reason = String(record.reason || "");
    const notes = [];
    // Nothing submitted and needs-login rows say it all in their words; the toolbar offers the rest.
    if (reason && !said.includes(reason) && !["not_submitted", "needs_login", "queued", "working"].includes(record.state)) {
      notes.push(reason);
    }
    if (record.folder && record.state === "done") notes.push(`Folder ${shortFolder(record.folder)}`);
    return notes.join(" · ");
  }

  /**
   * A job's counts by final state, from its students' latest records: {done, not_submitted,
   * failed, needs_login, cancelled}. Students still waiting are in none of them.
   * @param {Iterable<string>} keys  the job's students (upper-case PIs)
   * @param {Map<string, {state: string}>} records
   */
  function jobCounts(keys, records) {
    const counts = { done: 0, not_submitted: 0, failed: 0, needs_login: 0, cancelled: 0 };
    for (const key of keys) {
      const state = records.get(key)?.state;
      if (state && Object.hasOwn(counts, state)) counts[state] += 1;
    }
    return counts;
  }

  /** The live counts the toolbar shows while a job runs and after it: every one, 0 included. */
  function liveCountWords(counts) {
    return [
      { state: "done", text: `${counts.done ?? 0} done` },
      { state: "failed", text: `${counts.failed ?? 0} failed` },
      { state: "not_submitted", text: `${counts.not_submitted ?? 0} not submitted` },
      { state: "needs_login", text: `${counts.needs_login ?? 0} need login` },
    ];
  }

  /**
   * "120 of 300" while running, "120 of 300 finished" after; cancelled students are named apart.
   * Nothing at all for a job that never started (the helper is missing, say): nothing ran.
   */
  function progressWords({ total, running, accepted, finished, cancelled }) {
    if (!accepted && finished === 0) return "";
    const apart = cancelled ? `, ${cancelled} cancelled` : "";
    return `${finished} of ${total}${running ? "" : " finished"}${apart}`;
  }

  /** What a job does, in a tutor's words, for the start announcement. */
  function jobWords(action, count) {
    const what = action === "codes" ? "Getting confirmation codes" : "Downloading scripts";
    return `${what} for ${plural(count, "student")}.`;
  }

  /** The sentence said (and announced) when a job ends, from its summary. */
  function summaryHeadline(summary, total) {
    const counts = summary?.counts || {};
    const finished = FINISHED_STATES.reduce((sum, state) => sum + (counts[state] || 0), 0);
    switch (summary?.outcome) {
      case "cancelled": return `Cancelled: ${finished} of ${total} finished.`;
      case "needs_login": {
        const rest = total - (counts.done || 0) - (counts.not_submitted || 0);
        return `Log in to eTMA again, then press Run again to finish the rest${rest > 0 ? ` (${plural(rest, "student")})` : ""}.`;
      }
      case "disk_full": return `Stopped: ${summary.stopped_because || "the disk is nearly full."}`;
      default: return `Finished: ${countWords(counts).map((part) => part.text).join(", ")}.`;
    }
  }

  /**
   * The students a "Run again" takes: those of the job that did not end done or with nothing
   * submitted (waiting for a login, cancelled, failed, never reached), in table order.
   */
  function unfinishedKeys(order, jobKeys, records) {
    return order.filter((key) => jobKeys.has(key) && !ENDED_WELL.has(records.get(key)?.state));
  }

  /** The students a "Retry failed" takes: those of the job that failed, in table order. */
  function failedKeys(order, jobKeys, records) {
    return order.filter((key) => jobKeys.has(key) && records.get(key)?.state === "failed");
  }

  /** "11/03/2024 14:22" from the helper's ISO local time ("2024-03-11T14:22"), else as given. */
  function submittedWords(when) {
    const found = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}:\d{2}))?/.exec(String(when || ""));
    if (!found) return String(when || "");
    const [, year, month, day, time] = found;
    return `${day}/${month}/${year}${time ? ` ${time}` : ""}`;
  }

  /**
   * The students of the job with nothing submitted, in table order, each as a line:
   * "Ada Lovelace (P1234567) – marked late", with the submission date where eTMA showed one.
   */
  function notSubmittedLines(order, jobKeys, records, nameOf) {
    return order.filter((key) => jobKeys.has(key) && records.get(key)?.state === "not_submitted")
      .map((key) => {
        const record = records.get(key);
        const name = nameOf(key) || record.name || "";
        const notes = [];
        if (record.submitted) notes.push(`submitted ${submittedWords(record.submitted)}`);
        if (record.late === true) notes.push("marked late");
        const who = name ? `${name} (${key})` : key;
        return notes.length ? `${who} – ${notes.join(", ")}` : who;
      });
  }

  /** Longest name the helper takes (docs/PROTOCOL.md, the job's `names`). */
  const MAX_NAME = 200;

  /** A character the helper refuses in a name: controls, line separators, bidi overrides. */
  function unsafeInName(char) {
    const code = char.codePointAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029
      || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
  }

  /** A name from OSCAR's table as the helper takes it: one line, tidy spaces, at most 200 characters. */
  function tidyName(text) {
    const clean = [...String(text || "")].map((char) => (unsafeInName(char) ? " " : char)).join("");
    return [...clean.replace(/\s+/g, " ").trim()].slice(0, MAX_NAME).join("").trim();
  }

  oscar.words = Object.freeze({
    FINISHED, statusWords, shortFolder, detailWords, jobCounts, liveCountWords, progressWords,
    jobWords, summaryHeadline, unfinishedKeys, failedKeys, submittedWords, notSubmittedLines, tidyName,
  });
})();
