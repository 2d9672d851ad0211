/*
 * "Open this student's eTMA page": the helper says how eTMA's search form is filled in for the
 * student, and a new tab on the eTMA site submits it, so the browser's own eTMA session (its
 * cookies, SameSite=Lax ones included) does the search.
 */
import "../lib/protocol.js";
import { api } from "./browser-api.js";
import { nextId, request, requireAction } from "./port.js";
import { HelperError, helperErrorProblem } from "./problems.js";
import { etmaAddress, etmaCookies } from "./settings.js";

const { PATTERNS } = globalThis.etmaProtocol;

const TAB_LOAD_TIMEOUT_MS = 30000;

/** Resolve once a tab has finished loading a page of `origin`. */
function tabLoaded(tabId, origin) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      api.tabs.onUpdated.removeListener(listener);
      reject(new HelperError({ text: "The eTMA page did not load. Check the eTMA address on the options page." }));
    }, TAB_LOAD_TIMEOUT_MS);
    function listener(updatedId, change, tab) {
      if (updatedId !== tabId || change.status !== "complete") return;
      if (tab.url && !tab.url.startsWith(origin)) return;
      clearTimeout(timer);
      api.tabs.onUpdated.removeListener(listener);
      resolve(tab);
    }
    api.tabs.onUpdated.addListener(listener);
  });
}

/** The reply's `page_fields` (names of fields too large to send) as a short list of names. */
function pageFieldNames(names) {
  if (!Array.isArray(names)) return [];
  return names.filter((name) => typeof name === "string" && name.length > 0 && name.length <= 200).slice(0, 50);
}

/**
 * Runs in the eTMA tab (scripting.executeScript, so it must not use anything outside itself):
 * build eTMA's search form from the helper's description and submit it. Same-origin, so the
 * browser sends its own eTMA cookies (SameSite=Lax ones included). Fields named in `pageFields`
 * were too large for the helper's reply (an ASP.NET __VIEWSTATE of hundreds of KB): their values
 * come from the same form on the eTMA page this tab has just loaded, and a field that page does
 * not hold is left out. Returns "" when submitted, else what went wrong.
 */
function submitSearchForm(form) {
  const action = new URL(form.action, location.href);
  if (action.origin !== location.origin) return "The eTMA search form points to another site.";
  const element = document.createElement("form");
  element.method = form.method === "get" ? "get" : "post";
  element.action = action.href;
  element.style.display = "none";
  const onPage = [...document.forms];
  const postsTo = (candidate) => new URL(candidate.getAttribute("action") || "", location.href).href;
  // The page's own search form (posting where the helper's does) first, then any form holding it.
  const sources = [...onPage.filter((candidate) => postsTo(candidate) === action.href), ...onPage];
  const pageValue = (name) => {
    const field = sources.map((candidate) => candidate.elements.namedItem(name)).find(Boolean);
    // Several fields of one name: the first one's value (a hidden state field is one field).
    const single = field instanceof RadioNodeList ? field[0] : field;
    return single && "value" in single ? String(single.value) : null;
  };
  const fields = [...form.fields];
  for (const name of form.pageFields ?? []) {
    const value = pageValue(name);
    if (value !== null) fields.push([name, value]);
  }
  for (const [name, value] of fields) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    element.append(input);
  }
  document.body.append(element);
  HTMLFormElement.prototype.submit.call(element);
  return "";
}

/**
 * Ask the helper how to search for the student, then search in a new tab next to the OSCAR tab.
 * Rejects with a HelperError saying what went wrong.
 * @param {number} fromTabId the OSCAR tab
 * @param {{pi: string, module?: string}} row the right-clicked row, as its page read it
 */
export async function openStudentPage(fromTabId, row) {
  if (!PATTERNS.pi.test(row.pi) || !PATTERNS.module.test(row.module || "")) {
    throw new HelperError({ text: "The module code (such as TM351) was not found on this page." });
  }
  const etmaUrl = await etmaAddress();
  await requireAction("student_search");
  const reply = await request({
    id: nextId("search-"),
    action: "student_search",
    etma_url: etmaUrl,
    module: row.module.toUpperCase(),
    pi: row.pi.toUpperCase(),
    cookies: await etmaCookies(etmaUrl),
  });
  if (reply.status !== "ok") throw new HelperError(helperErrorProblem(reply));
  const form = reply.data ?? {};
  if (typeof form.action !== "string" || !Array.isArray(form.fields)) {
    throw new HelperError({ text: "The eTMA Helper program sent an unusable search form." });
  }
  const origin = new URL(etmaUrl).origin;
  const opener = await api.tabs.get(fromTabId).catch(() => null);
  const tab = await api.tabs.create({ url: etmaUrl, index: opener ? opener.index + 1 : undefined });
  await tabLoaded(tab.id, origin);
  const [result] = await api.scripting.executeScript({
    target: { tabId: tab.id },
    func: submitSearchForm,
    args: [{ action: form.action, method: String(form.method || "post").toLowerCase(),
      fields: form.fields.map(([name, value]) => [String(name), String(value)]),
      pageFields: pageFieldNames(form.page_fields) }],
  });
  if (result?.result) throw new HelperError({ text: result.result });
}
