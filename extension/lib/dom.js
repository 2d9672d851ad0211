/*
 * The one small DOM helper of the extension's own markup, shared by the OSCAR content script, the
 * popup and the options page: build an element, and show text with a command the user can copy.
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

  /** Show `text` in `node`, with `command`, where it appears, as code the user can select in one click. */
  function withCommand(node, text, command) {
    const at = command ? text.indexOf(command) : -1;
    node.replaceChildren();
    if (at < 0) {
      node.textContent = text;
      return;
    }
    node.append(text.slice(0, at), element("code", {}, command), text.slice(at + command.length));
  }

  globalThis.etmaDom = Object.freeze({ element, withCommand });
})();
