/*
 * The options page's "Test connection": the helper looks once at the eTMA address typed in the
 * field (saved or not) with the browser's cookies for it (the `check_etma` action), and says
 * whether it is eTMA's admin page and whether the tutor is logged in there. The cookies go to the
 * helper only; the answer the page gets holds none.
 */
import { nextId, request, requireAction } from "./port.js";
import { asProblem, connectionWords, helperErrorProblem } from "./problems.js";
import { etmaCookies } from "./settings.js";

/** The helper's look takes at most about 20 s; leave it room to answer. */
const CHECK_TIMEOUT_MS = 40000;

/**
 * Ask the helper about `address`; answers `{data, words}` (the helper's verdict, see
 * docs/PROTOCOL.md, and what it means for the tutor) or `{error}` (a problem for the page).
 * @param {unknown} address
 */
export async function checkEtmaAddress(address) {
  let url;
  try {
    url = new URL(String(address ?? "").trim());
  } catch {
    return { error: { text: "That is not a web address." } };
  }
  if (!["http:", "https:"].includes(url.protocol)) {
    return { error: { text: "The address must start with http:// or https://." } };
  }
  try {
    await requireAction("check_etma");
    // Without the site's permission the browser gives no cookies: the helper then finds the
    // login page, which is what the tutor needs to hear.
    const cookies = await etmaCookies(url.href).catch(() => []);
    const reply = await request(
      { id: nextId("check-"), action: "check_etma", etma_url: url.href, cookies }, CHECK_TIMEOUT_MS);
    if (reply.status !== "ok") return { error: helperErrorProblem(reply) };
    return { data: reply.data ?? {}, words: connectionWords(reply.data ?? {}) };
  } catch (error) {
    return { error: asProblem(error) };
  }
}
