/*
 * The right-click menu on a student's row of an OSCAR page: its items, the pages it shows on, and
 * what a click does (start a one-student job, or open the student's eTMA page). The content
 * script says which row was clicked; the pages come from oscar-pages.js.
 */
import { api } from "./browser-api.js";
import { startJob } from "./jobs.js";
import { asProblem } from "./problems.js";
import { openStudentPage } from "./student-page.js";
import { pageAddress } from "./watchers.js";

const MENU_ITEMS = [
  { id: "etma-download-student", title: "Download this student's scripts", action: "download" },
  { id: "etma-codes-student", title: "Get this student's confirmation code", action: "codes" },
  { id: "etma-open-student", title: "Open this student's eTMA page", action: "open_student" },
];

/** Make the menu afresh (on install or update), shown on these page patterns. */
export async function createMenus(pagePatterns) {
  await Promise.resolve(api.contextMenus.removeAll());
  for (const item of MENU_ITEMS) {
    api.contextMenus.create({
      id: item.id,
      title: item.title,
      contexts: ["page", "selection", "link", "editable"],
      documentUrlPatterns: pagePatterns,
    });
  }
}

/** Show the menu on these page patterns (after the tutor changed their OSCAR pages). */
export async function showMenusOn(pagePatterns) {
  for (const item of MENU_ITEMS) {
    await Promise.resolve(api.contextMenus.update(item.id, {
      documentUrlPatterns: pagePatterns,
    })).catch(() => {});
  }
}

/** Tell the OSCAR tab something about a menu action (it shows it on the toolbar's message line). */
export function noticeTab(tabId, notice) {
  api.tabs.sendMessage(tabId, { type: "notice", ...notice }).catch(() => {});
}

/**
 * contextMenus.onClicked: ask the page which row was right-clicked, then act on that student.
 * @param {chrome.contextMenus.OnClickData} info
 * @param {chrome.tabs.Tab} [tab]
 */
export async function onMenuClicked(info, tab) {
  const item = MENU_ITEMS.find((entry) => entry.id === info.menuItemId);
  if (!item || !tab?.id || tab.id < 0) return;
  let row = null;
  try {
    row = await api.tabs.sendMessage(tab.id, { type: "contextRow" }, { frameId: info.frameId ?? 0 });
  } catch {
    row = null;
  }
  if (!row?.pi) {
    const error = { text: "Right-click on a student's row in the table to use this menu." };
    api.tabs.sendMessage(tab.id, { type: "jobError", jobId: null, error }).catch(() => {});
    return;
  }
  if (item.action === "open_student") {
    await openStudentPage(tab.id, row)
      .then(() => noticeTab(tab.id, { text: `Opened ${row.pi}'s eTMA page in a new tab.` }))
      .catch((error) => noticeTab(tab.id, { error: asProblem(error) }));
    return;
  }
  await startJob({ tabId: tab.id, address: pageAddress(info.pageUrl ?? tab.url) }, {
    action: item.action,
    module: row.module,
    assignment: row.assignment,
    pis: [row.pi],
  });
}
