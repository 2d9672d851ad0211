/* The options page: where the eTMA system lives. Settings sync through the browser's storage. */
"use strict";

const api = globalThis.browser ?? globalThis.chrome;
const DEFAULTS = { etmaUrl: "http://127.0.0.2:8802/etma/admin" };

const form = document.getElementById("settings");
const field = document.getElementById("etma-url");
const status = document.getElementById("status");

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("error", isError);
}

api.storage.sync.get(DEFAULTS).then((saved) => {
  field.value = saved.etmaUrl;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  let address;
  try {
    address = new URL(field.value.trim());
  } catch {
    say("That is not a web address.", true);
    return;
  }
  if (!["http:", "https:"].includes(address.protocol)) {
    say("The address must start with http:// or https://.", true);
    return;
  }
  await api.storage.sync.set({ etmaUrl: address.href });
  say("Saved.");
});
