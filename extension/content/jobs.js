/*
 * eTMA Helper on the OSCAR page — jobs: starting and cancelling one through the background (which
 * owns the helper), following it (started here, from the row menu, or before a reload), the
 * students' records as progress arrives, the summary line, and painting progress in batches.
 *
 * A job's PIs are the keys this script read when it enhanced the rows (page.order, page.selected),
 * never attributes the page could have rewritten since.
 *
 * Speed: progress for hundreds of students is painted once a frame, timed on the page's
 * performance timeline as "etma-helper:render" (one measure per frame; sum them for the total).
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { page, guard } = oscar.state;
  const { findModuleAndAssignment } = oscar.reading;
  const { part, showMessage, showProblem, updateButtons } = oscar.toolbar;
  const { paintRow } = oscar.rows;
  const { FINISHED, progressWords, jobWords, summaryHeadline, tidyName } = oscar.words;
  const { ask, plural, countWords } = globalThis.etmaShared;

  /** Ask the background; if it is gone (the extension was updated), say how to get it back. */
  const send = (message) =>
    ask(message, () => "The eTMA Helper extension was updated or restarted. Reload this page and try again.");

  async function start(action) {
    // The keys this script read when it enhanced the rows: the page's attributes may have changed since.
    const pis = page.order.filter((key) => page.selected.has(key));
    if (pis.length === 0) {
      showMessage("Select at least one student first.", { kind: "error" });
      return;
    }
    const { module, assignment } = findModuleAndAssignment();
    if (!module) {
      showMessage("The module code (such as TM351) was not found on this page.", { kind: "error" });
      return;
    }
    showMessage(`Asking the eTMA Helper program for ${plural(pis.length, "student")}…`,
      { announce: jobWords(action, pis.length) });
    const answer = await send({ type: "startJob", action, module, assignment, pis, names: namesOf(pis) });
    if (answer?.job) adopt(answer.job);
    if (answer?.error) onJobError({ jobId: answer.job?.id ?? null, error: answer.error, job: answer.job });
  }

  /**
   * The students' names as OSCAR's table shows them, by PI, for the helper's records and codes
   * table: read from the name column (by meaning, as the PI is), tidied to what the helper takes.
   */
  function namesOf(pis) {
    const names = {};
    for (const pi of pis) {
      const name = tidyName(oscar.results.oscarName(pi));
      if (name) names[pi] = name;
    }
    return names;
  }

  async function cancel() {
    if (!page.job?.running) return;
    showMessage("Cancelling…");
    const answer = await send({ type: "cancelJob", jobId: page.job.id });
    if (answer?.error) showProblem(answer.error);
  }

  function rememberRecord(record, action) {
    if (!record?.pi) return;
    const key = String(record.pi).toUpperCase();
    const before = page.records.get(key);
    // A later job without a code (a cancelled one, say) must not hide a code already fetched.
    const code = record.code || (record.state !== "done" ? before?.code : "") || "";
    page.records.set(key, { ...record, code, action });
    page.pendingRows.add(key);
    if (!page.job?.keys.has(key)) return;
    if (FINISHED.has(record.state)) page.job.finished.add(key); else page.job.finished.delete(key);
    if (record.state === "cancelled") page.job.cancelled.add(key); else page.job.cancelled.delete(key);
  }

  /** Follow a job the background knows about (started here, from the menu, or before a reload). */
  function adopt(job) {
    if (!job) return;
    const isNew = page.job?.id !== job.id;
    const pis = job.pis || [];
    if (isNew) {
      page.job = { id: job.id, action: job.action, total: 0, running: false, accepted: false, pis,
        keys: new Set(pis.map((pi) => pi.toUpperCase())), finished: new Set(), cancelled: new Set(),
        summary: null };
    }
    page.job.total = job.total || pis.length || 0;
    page.job.running = job.running;
    page.job.accepted ||= Boolean(job.accepted);
    for (const record of Object.values(job.students || {})) rememberRecord(record, job.action);
    if (job.summary) showSummary(job.summary);
    else if (job.error) showProblem(job.error);
    else if (job.running && isNew) showMessage(`Working on ${plural(page.job.total, "student")}…`);
    updateButtons();
    scheduleRender();
  }

  function onJobError({ jobId, error, job }) {
    if (job) adopt(job);
    if (page.job && jobId != null && jobId === page.job.id) {
      page.job.running = false;
      // A job stopped before its first student (a wrong eTMA address, say): nothing ran, so
      // the page shows no "0 of 30 finished", only the problem and its fix.
      if (page.job.finished.size === 0) page.job.accepted = false;
    }
    updateButtons();
    showProblem(error);
    scheduleRender();
  }

  /** The message line at a job's end: counts, where the files and codes are, and how they got there. */
  function showSummary(summary) {
    if (page.job) {
      page.job.summary = summary;
      page.job.accepted = true;
    }
    const counts = summary.counts || {};
    const parts = countWords(counts).map((part) => part.text);
    const where = [];
    if (summary.action !== "codes" && summary.folder) where.push(`files in ${summary.folder}`);
    if (summary.codes_csv) where.push(`codes in ${summary.codes_csv}`);
    const headline = summaryHeadline(summary, page.job?.total ?? 0);
    // A finished job's headline is its counts; the others say the counts after it.
    let text = summary.outcome === "finished" || !summary.outcome ? headline.replace(/\.$/, "")
      : `${headline} ${parts.join(", ")}`;
    if (where.length) text += ` — ${where.join(", ")}`;
    // How the files got to the folder the summary names, when not simply fetched now.
    const how = summary.how || {};
    const copiedFrom = Array.isArray(summary.copied_from) ? summary.copied_from : [];
    const notes = [];
    if (how.copied) notes.push(`${plural(how.copied, "student")}' files copied from ${copiedFrom.join(", ") || "an earlier download"} (checked)`);
    if (how.fetched_again) notes.push(`${plural(how.fetched_again, "student")} fetched again (the earlier download elsewhere was missing or changed)`);
    if (how.already_downloaded) notes.push(`${plural(how.already_downloaded, "student")} already there from an earlier run`);
    if (notes.length) text += `. ${notes.join("; ")}.`;
    const stopped = summary.outcome === "disk_full" || summary.outcome === "needs_login";
    const kind = counts.failed || stopped ? "error" : "done";
    showMessage(text, { kind, announce: headline });
  }

  /** A message the helper sent about a job; only the job this page follows is painted. */
  function onHelperMessage({ jobId, message }) {
    if (!message || !page.job || jobId !== page.job.id) return;
    if (message.type === "reply" && message.status === "ok") {
      page.job.accepted = true;
      if (Number.isInteger(message.data?.total)) page.job.total = message.data.total;
    } else if (message.type === "progress") {
      rememberRecord(message.data, page.job.action);
    } else if (message.type === "summary") {
      page.job.running = false;
      if (message.data) showSummary(message.data);
      // Now, not at the next frame: the summary's message line and what it offers next (Retry
      // failed, Log in to eTMA) appear together, never the one without the other.
      render();
      return;
    }
    scheduleRender();
  }

  // --- Painting progress in batches, once a frame -----------------------------------------------

  function scheduleRender() {
    if (page.renderScheduled) return;
    page.renderScheduled = true;
    // A hidden tab gets no frames; the timer makes sure the page catches up anyway.
    const timer = setTimeout(() => flush(), 500);
    const flush = guard(() => {
      if (!page.renderScheduled) return;
      page.renderScheduled = false;
      clearTimeout(timer);
      render();
    });
    requestAnimationFrame(flush);
  }

  function render() {
    const startedAt = performance.now();
    try {
      renderPending();
    } finally {
      performance.measure("etma-helper:render", { start: startedAt, end: performance.now() });
    }
  }

  /** Apply every record that arrived since the last frame; only writes, never reads layout. */
  function renderPending() {
    for (const key of page.pendingRows) {
      const row = page.rows.get(key);
      if (row?.isConnected) paintRow(row, page.records.get(key));
    }
    page.pendingRows.clear();
    const bar = part('[data-role="progress"]');
    const words = part('[data-role="progress-text"]');
    if (bar && page.job) {
      const total = Math.max(page.job.total, 1);
      const finished = Math.min(page.job.finished.size, total);
      bar.max = total;
      bar.value = finished;
      const { running, accepted, cancelled } = page.job;
      const now = progressWords({ total: page.job.total, running, accepted, finished, cancelled: cancelled.size });
      if (words.textContent !== now) words.textContent = now;
    }
    oscar.results.update();
    updateButtons();
  }

  oscar.jobs = Object.freeze({ send, start, cancel, adopt, onJobError, onHelperMessage });
})();
