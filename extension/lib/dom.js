/* Small DOM helpers shared by the extension's own pages (popup, options). */
"use strict";

/** A new element with attributes and, optionally, text. */
function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

/** Text with `command` shown as code the user can select with one click. */
function withCommand(node, text, command) {
  const at = command ? text.indexOf(command) : -1;
  node.replaceChildren();
  if (at < 0) {
    node.textContent = text;
    return;
  }
  node.append(text.slice(0, at), element("code", {}, command), text.slice(at + command.length));
}
