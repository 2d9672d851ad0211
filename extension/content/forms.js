/*
 * eTMA Helper on the OSCAR pages — OSCAR's own forms, sent in the background of the page as the
 * browser would send them on their button, and OSCAR's pages fetched to read: always this page's
 * own origin, OSCAR's cookies added by the browser (this script never reads one), every wait with
 * a deadline. Used by Fill and unlock on the work allocation (content/unlock.js) and by Fill marks
 * on the marks page (content/marks-fill.js). Adds oscar.forms to globalThis.etmaOscar.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js

  /** How long OSCAR has to answer one request. */
  const ANSWER_MS = 30_000;

  /** Text of a reply in its own character set (an old site may send Windows-1252). */
  function decode(buffer, contentType) {
    let charset = /charset=["']?([\w-]+)/i.exec(contentType || "")?.[1];
    if (!charset) {
      const head = new TextDecoder("windows-1252").decode(buffer.slice(0, 1024));
      charset = /<meta[^>]+charset=["']?([\w-]+)/i.exec(head)?.[1] || "utf-8";
    }
    try {
      return new TextDecoder(charset).decode(buffer);
    } catch {
      return new TextDecoder().decode(buffer);
    }
  }

  /**
   * OSCAR's answer as a page: {status, url, doc, signIn}. `signIn`: the answer came from another
   * site (a sign-on page) or asks for a password, so OSCAR wants the tutor to sign in again.
   */
  async function readReply(response, sentTo) {
    const doc = new DOMParser().parseFromString(
      decode(await response.arrayBuffer(), response.headers.get("content-type")), "text/html");
    const url = new URL(response.url || sentTo);
    const signIn = url.origin !== location.origin || Boolean(doc.querySelector('input[type="password"]'));
    return { status: response.status, url: url.href, doc, signIn };
  }

  /** The address `raw` resolved against `base`, when it is on this page's own origin; else null. */
  function sameOrigin(raw, base = location.href) {
    try {
      const address = new URL(raw, base);
      return address.origin === location.origin ? address : null;
    } catch {
      return null;
    }
  }

  /** Fetch one of OSCAR's pages (same origin only) to read it; resolves with readReply's answer. */
  async function fetchPage(url) {
    const address = sameOrigin(url);
    if (!address) throw new Error(`the page ${String(url).slice(0, 80)} is not on OSCAR's own site`);
    const response = await fetch(address, {
      credentials: "same-origin", cache: "no-store", redirect: "follow", signal: AbortSignal.timeout(ANSWER_MS),
    });
    return readReply(response, address);
  }

  /**
   * Send `form` as the browser would on `submitter`: the form's own fields as they are now, its
   * own method and address (resolved against `base`, the address of the page the form came from),
   * to this page's origin only. Resolves with readReply's answer, or {notSent: reason} when the
   * form goes elsewhere; rejects when OSCAR cannot be reached (TimeoutError after ANSWER_MS).
   * @param {HTMLFormElement} form
   * @param {{submitter?: HTMLElement|null, base?: string}} options
   */
  async function send(form, { submitter = null, base = location.href } = {}) {
    // getAttribute: a field named "action" or "method" would shadow the form's own properties.
    const address = new URL(form.getAttribute("action") || base, base);
    if (address.origin !== location.origin) return { notSent: `its form goes to another site (${address.origin}).` };
    const fields = new FormData(form, submitter);
    const method = (form.getAttribute("method") || "get").toUpperCase() === "POST" ? "POST" : "GET";
    const multipart = /multipart\/form-data/i.test(form.getAttribute("enctype") || "");
    const encoded = new URLSearchParams();
    for (const [name, value] of fields) if (typeof value === "string") encoded.append(name, value);
    if (method === "GET") for (const [name, value] of encoded) address.searchParams.append(name, value);
    const response = await fetch(address, {
      method,
      body: method === "POST" ? (multipart ? fields : encoded) : undefined,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "follow",
      signal: AbortSignal.timeout(ANSWER_MS),
    });
    return readReply(response, address);
  }

  /** Why a request got no answer at all, in words. */
  const unreachableWords = (error) =>
    (error?.name === "TimeoutError" ? `no answer in ${ANSWER_MS / 1000} s` : String(error?.message || error));

  oscar.forms = Object.freeze({ ANSWER_MS, decode, sameOrigin, fetchPage, send, unreachableWords });
})();
