// Everything a page's own script can try against the extension, from the page's world. Served by
// tests/e2e/test_hostile_page.py inside a hostile OSCAR-like page (EXTENSION_ID is filled in there).
// It waits for the extension's toolbar, then records in window.etmaAttack what it could reach.
(() => {
  const log = { tried: [] };
  window.etmaAttack = log;
  const deadline = Date.now() + 10000;
  const click = (el) => el.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, composed: true }));
  const press = (el, key) => {
    for (const type of ["keydown", "keypress", "keyup"]) {
      el.dispatchEvent(new KeyboardEvent(type, { key, code: key, bubbles: true, cancelable: true, composed: true }));
    }
  };
  function attempt(name, fn) {
    log.tried.push(name);
    try { fn(); } catch (error) { log[name + "Error"] = String(error); }
  }
  function attack() {
    const host = document.getElementById("etma-helper-toolbar");
    if (!host || !document.querySelector("input.etma-helper-select")) {
      if (Date.now() < deadline) { setTimeout(attack, 50); return; }
      log.noToolbar = true;
      log.done = true;
      return;
    }
    const root = host.shadowRoot;
    log.shadowRoot = root !== null;
    const rows = [...document.querySelectorAll("tr[data-etma-pi]")];
    attempt("tickRowsByClick", () => { for (const box of document.querySelectorAll("input.etma-helper-select")) box.click(); });
    attempt("tickAllByEvent", () => click(document.querySelector("input.etma-helper-select-all")));
    attempt("contextMenuOnRow", () => rows[1].dispatchEvent(new MouseEvent("contextmenu", { bubbles: true, cancelable: true, button: 2 })));
    attempt("clickHost", () => { host.click(); click(host); });
    attempt("keysOnHost", () => { host.focus(); press(host, "Enter"); press(host, " "); press(document.body, "Enter"); });
    attempt("reattachShadow", () => host.attachShadow({ mode: "open" }));
    if (root) {
      for (const action of ["select-all", "download", "codes", "fill", "fill-confirm", "unlock-confirm", "cancel"]) {
        attempt("button:" + action, () => {
          const button = root.querySelector(`[data-action="${action}"]`);
          button.click();
          click(button);
          button.focus();
          press(button, "Enter");
        });
      }
      log.message = root.querySelector('[data-role="message"]')?.textContent ?? null;
    }
    const job = { type: "startJob", action: "codes", module: "TM351", assignment: "TMA02", pis: rows.map((r) => r.dataset.etmaPi) };
    log.runtime = typeof globalThis.chrome?.runtime?.sendMessage;
    attempt("sendMessage", () => chrome.runtime.sendMessage(EXTENSION_ID, job, () => {}));
    attempt("connect", () => chrome.runtime.connect(EXTENSION_ID).postMessage(job));
    attempt("postMessage", () => window.postMessage(job, "*"));
    attempt("customEvent", () => document.dispatchEvent(new CustomEvent("etma-helper", { detail: job })));
    log.done = true;
  }
  attack();
})();
