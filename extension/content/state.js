/*
 * eTMA Helper on the OSCAR page — the state every part shares, and the guards every handler uses.
 * Opens the namespace the content files build up, file by file: globalThis.etmaOscar (see
 * content/oscar.js for the files and their order). In a content script globalThis is the
 * extension's isolated world, never the page's: a page's script cannot see or change any of it.
 */
"use strict";

(() => {
  if (globalThis.etmaOscar) return; // already running in this world: see content/oscar.js
  const oscar = (globalThis.etmaOscar = {});

  /** The class on every cell this script adds to the page's rows. */
  const OWN_CELL = "etma-helper-cell";
  /** The id of the toolbar's host element, before the table. */
  const TOOLBAR_ID = "etma-helper-toolbar";

  const page = {
    /** @type {HTMLTableElement|null} */ table: null,
    columns: { pi: -1, name: -1 },
    /** upper-case PI → the row */ rows: new Map(),
    /** upper-case PIs, in table order */ order: [],
    /** upper-case PIs the user ticked */ selected: new Set(),
    /** upper-case PI → latest student record and the action it came from */ records: new Map(),
    /**
     * the job this page follows: {id, action, total, running, accepted, pis, keys, finished,
     * cancelled, summary}
     */
    job: null,
    /** "Show problems only": rows whose job went well are hidden */ problemsOnly: false,
    lastClickedPi: null,
    contextPi: null,
    toolbar: null,
    /** the toolbar's closed shadow root: only this script holds it */ shadow: null,
    pendingRows: new Set(),
    renderScheduled: false,
    /** the watcher that re-attaches the enhancements when the page re-renders the table */ observer: null,
  };

  /** The cells this script added to a row, so re-enhancing never has to query the row. */
  const ownCells = new WeakMap();
  /**
   * Each enhanced row's and row checkbox's student (upper-case PI), as read when enhancing. A
   * job's PIs come from here, never from data-etma-pi, which the page could rewrite.
   */
  const keyOf = new WeakMap();

  /**
   * Wrap an event handler so that only the user's own input reaches it: events a page's script
   * makes (element.click(), dispatchEvent) have isTrusted false and are ignored.
   */
  const trustedOnly = (handler) => (event) => {
    if (event.isTrusted) handler(event);
  };

  /** Wrap `fn` so that an error in it stops only that enhancement, never the page. */
  function guard(fn) {
    return (...args) => {
      try {
        return fn(...args);
      } catch (error) {
        console.debug("eTMA Helper:", error);
        return undefined;
      }
    };
  }

  oscar.state = Object.freeze({ OWN_CELL, TOOLBAR_ID, page, ownCells, keyOf, trustedOnly, guard });
})();
