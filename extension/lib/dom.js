/*
 * The one small DOM helper of the extension's own markup, shared by the OSCAR content script, the
 * popup and the options page: build an element, and show text with a command the user can copy
 * (selectable in one click, and with a Copy button).
 *
 * A classic script that only assigns one frozen namespace, globalThis.etmaDom, so the same file
 * serves both worlds: the content script lists it in the manifest before the files that use it
 * (content scripts cannot be modules), and the module pages load it for its effect with
 * `import "../lib/dom.js"`. It declares no top-level names: run as a module they would be private
 * to the module, run as a classic script they would leak into the page's or the world's globals.
 */
"use strict";

(() => {
  /** A new element with attributes and, optionally, text. */
  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  /**
   * Put `text` on the clipboard from a click; `shown` is the element showing it, selected for a
   * manual copy when the browser refuses both ways. Resolves with whether it was copied.
   */
  async function copyText(text, shown) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Older browsers, or a page the clipboard API is not offered to: copy the selection.
    }
    const selection = shown.ownerDocument.getSelection();
    const range = shown.ownerDocument.createRange();
    range.selectNodeContents(shown);
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return shown.ownerDocument.execCommand("copy");
    } catch {
      return false;
    }
  }

  /** A Copy button for `command`, shown in `code`; it says whether the copy worked. */
  function copyButton(command, code) {
    const button = element("button", { type: "button", "data-role": "copy-command",
      "aria-label": `Copy the command ${command}` }, "Copy");
    button.addEventListener("click", async () => {
      const copied = await copyText(command, code);
      button.dataset.copied = copied ? "yes" : "no";
      button.textContent = copied ? "Copied" : "Selected: press Ctrl+C";
    });
    return button;
  }

  /**
   * Show `text` in `node`, with `command`, where it appears, as code the user can select in one
   * click, followed by a Copy button.
   */
  function withCommand(node, text, command) {
    const at = command ? text.indexOf(command) : -1;
    node.replaceChildren();
    if (at < 0) {
      node.textContent = text;
      return;
    }
    const code = element("code", {}, command);
    node.append(text.slice(0, at), code, " ", copyButton(command, code), text.slice(at + command.length));
  }

  globalThis.etmaDom = Object.freeze({ element, withCommand });
})();
