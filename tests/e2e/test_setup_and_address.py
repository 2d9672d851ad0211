"""Setting eTMA Helper up, in real Chromium and Firefox with the real helper: the options page
opens on a first install and explains the eTMA address, Test connection says which of four
things is true of an address, a job at a wrong address stops in seconds with its fix on the OSCAR
page and in the popup, and the popup's current job and recent jobs tell the same story while a
job runs and after it stops for a login."""

from __future__ import annotations

import time

from tests import practice_extension
from tests.browsers.helper_install import install_helper
from tests.integration.test_wrong_address import NOT_ETMA_PAGE, closed_port, tiny_site

OPTIONS = "options/options.html"
CONTROL = "\ue009"


def options_tab(browser) -> str | None:
    """The tab showing the options page, if one is open."""
    here = browser.current_tab()
    try:
        for tab in browser.tabs():
            browser.switch_to_tab(tab)
            if OPTIONS in browser.current_url():
                return tab
    finally:
        browser.switch_to_tab(here)
    return None


def options_opened(browser) -> bool:
    """Whether some tab shows the options page, asked through the extension's own tabs API from
    the current tab: Chromium's driver does not list a tab the extension opened as it started."""
    browser.open_extension_page("popup/popup.html")
    return browser.run(
        "async () => (await (globalThis.browser ?? chrome).tabs.query({}))"
        ".some((tab) => String(tab.url || '').endsWith('/options/options.html'))"
    )


def show_the_options_the_install_opened(browser) -> None:
    """Make the options page the install opened the current tab. Firefox opens it in the
    browser's first, empty tab (and a navigation meanwhile would race it), Chromium in a tab of
    its own that its driver cannot switch to: there the page is opened again to read it."""
    try:
        tab = browser.wait(lambda: options_tab(browser), "the options tab", 8)
    except TimeoutError:
        assert options_opened(browser), "no tab shows the options page"
        browser.open_options()
    else:
        browser.switch_to_tab(tab)


def test_a_first_install_opens_the_options_page_explaining_the_etma_address(
    tmp_path, start_browser
):
    bare = install_helper(tmp_path / "home", register=False)
    shipped_like = practice_extension.build(tmp_path / "extension", etma_url=None)
    browser = start_browser(bare, extension=shipped_like)
    show_the_options_the_install_opened(browser)
    browser.wait(lambda: browser.shown("#first-run"), "the first-run welcome")
    hint = browser.text("#etma-url-hint")
    assert "EAB" in hint and "module code" in hint and "student PI" in hint
    assert "address bar" in hint  # how to find it
    assert browser.value("#etma-url") == ""
    # The site profile waits under the Advanced fold, closed.
    assert browser.run("() => document.querySelector('#advanced').open") is False
    assert browser.run("() => !!document.querySelector('#advanced #profile')")
    assert browser.run("() => document.querySelector('#profile').checkVisibility()") is False

    # No helper yet: the banner says where to run what, and its Copy button copies it.
    banner = browser.wait_for_text('#helper-banner[data-state="problem"]', "install.py")
    assert "the unpacked folder that holds install.py" in banner
    assert browser.text("#helper-banner code") == "python3 install.py"
    browser.click('#helper-banner [data-role="copy-command"]')
    browser.wait(
        lambda: browser.attribute('#helper-banner [data-role="copy-command"]', "data-copied"),
        "the copy",
    )
    assert browser.text('#helper-banner [data-role="copy-command"]') == "Copied"
    browser.click("#etma-url")
    browser.key_chord(CONTROL, "v")
    browser.wait(lambda: browser.value("#etma-url") == "python3 install.py", "the pasted command")


def test_a_build_with_an_address_opens_nothing_on_install(tmp_path, start_browser):
    """The practice build (the demo's and the tests') packages its eTMA address: nothing to ask."""
    bare = install_helper(tmp_path / "home", register=False)
    browser = start_browser(bare)
    browser.stays(lambda: not options_opened(browser), 3, "no options page opened on install")


def try_connection(browser, address: str) -> tuple[str, str]:
    """Type ``address`` on the options page, press Test connection; (verdict, words)."""
    browser.open_options()
    browser.wait_for_saved_settings()
    browser.fill("#etma-url", address)
    browser.click("#test-connection")
    verdict = browser.wait(
        lambda: (
            (v := browser.attribute("#connection", "data-verdict")) not in (None, "testing") and v
        ),
        f"the answer about {address}",
        30,
    )
    return verdict, browser.text("#connection")


def test_test_connection_says_which_of_four_things_is_true(browser, fresh_sites):
    right = fresh_sites.etma_url + "etma/admin"
    verdict, words = try_connection(browser, right)
    assert verdict == "ok" and "you are logged in" in words, words
    # The page never shows the eTMA session it tested with.
    cookies = browser.run(
        "async (url) => (await (globalThis.browser ?? chrome).cookies.getAll({url}))"
        ".map((cookie) => cookie.value)",
        right,
    )
    assert cookies and not [value for value in cookies if value in browser.text("body")]

    closed = f"http://127.0.0.1:{closed_port()}/etma/admin"
    verdict, words = try_connection(browser, closed)
    assert verdict == "unreachable", words
    assert f"{closed} could not be reached (connection refused)" in words

    with tiny_site(lambda request: (404, {}, b"<h1>Not Found</h1>")) as missing:
        verdict, words = try_connection(browser, missing + "etma/admin")
    assert verdict == "not_etma" and "HTTP 404" in words, words
    with tiny_site(lambda request: (200, {}, NOT_ETMA_PAGE)) as other:
        verdict, words = try_connection(browser, other)
    assert verdict == "not_etma" and "not eTMA's admin page" in words, words

    fresh_sites.expire_etma_sessions()
    verdict, words = try_connection(browser, right)
    assert verdict == "needs_login" and "log in to eTMA" in words, words
    assert browser.attribute("#etma-login-link", "href") == right
    # Testing saves nothing: the saved address is still the one the tutor saved.
    browser.open_options()
    browser.wait(lambda: browser.value("#etma-url") == right, "the saved address, unchanged")


def test_a_job_at_a_wrong_address_stops_in_seconds_with_its_fix(browser, sites, cohort):
    wrong = f"http://127.0.0.1:{closed_port()}/etma/admin"
    browser.set_etma_address(wrong)
    try:
        browser.open_allocation(sites)
        browser.press("select-all")
        started = time.monotonic()
        browser.press("download")
        message = browser.wait_for_message("Check the eTMA address", timeout=15)
        took = time.monotonic() - started
        assert took < 5, f"the job took {took:.1f} s to stop"
        assert f"eTMA Helper's options: {wrong} could not be reached (connection refused)" in (
            message
        )
        # Nothing was tried: every student is left as they were, none failed.
        browser.wait_for_rows(lambda s: set(s.values()) == {"idle"}, "every row idle", 10)
        assert len(browser.row_states()) == len(cohort.students)
        # Nothing ran, so there is no "0 of 30 finished" beside the fix.
        assert browser.toolbar_text("progress-text") == ""

        browser.open_popup()
        browser.wait_for_text('#job [data-state="wrong_address"]', "check the eTMA address")
        assert f"{wrong} could not be reached" in browser.text("#job")
        browser.wait(
            lambda: browser.attribute("#recent li[data-job-id]", "data-state") == "wrong_address",
            "the recent job stopped for its address",
        )
    finally:
        browser.set_etma_address(sites.etma_url + "etma/admin")


def popup_views(browser) -> dict:
    """The popup's current job and, for the same job, its recent-jobs entry, read at once."""
    return browser.run(
        """() => {
          const state = document.querySelector('#job [data-state]');
          const counts = document.querySelector('#job .counts');
          const items = [...document.querySelectorAll('#recent li[data-job-id]')];
          const item = items[0];
          return {
            state: state?.dataset.state ?? null, text: state?.innerText ?? '',
            counts: counts ? [...counts.children].map((s) => s.innerText) : [],
            recentState: item?.dataset.state ?? null,
            recentText: item?.querySelector('.when')?.innerText ?? '',
            recentCounts: item
              ? [...item.querySelectorAll('.result > span')].map((s) => s.innerText) : [],
          };
        }"""
    )


def test_popup_current_and_recent_jobs_agree_while_running_and_after_a_login_stop(
    browser, fresh_sites, cohort
):
    fresh_sites.latency = 0.15  # slow enough to look at the job in the middle
    browser.open_allocation(fresh_sites)
    browser.press("select-all")
    browser.press("download")
    oscar = browser.current_tab()
    browser.wait_for_rows(lambda s: "done" in s.values(), "the job under way")
    browser.new_tab()
    browser.open_popup()
    running = browser.wait(
        lambda: (
            (v := popup_views(browser))["state"] == "running"
            and v["recentState"] == "running"
            and v
        ),
        "the running job in both places",
    )
    assert running["text"].startswith("Running: ")
    # Read at the same moment, the two say the same: the same words and the same counts.
    for _ in range(3):
        views = popup_views(browser)
        if views["state"] != "running":
            break
        assert views["text"] in views["recentText"], views
        assert views["counts"] == views["recentCounts"], views
        time.sleep(0.4)

    fresh_sites.expire_etma_sessions()  # the tutor's eTMA session ends mid-job
    ended = browser.wait(
        lambda: (
            (v := popup_views(browser))["state"] == "needs_login"
            and v["recentState"] == "needs_login"
            and v
        ),
        "the login stop in both places",
        60,
    )
    assert ended["text"].startswith("Stopped: log in to eTMA")
    assert "Finished" not in ended["text"] and "Finished" not in ended["recentText"]
    assert ended["text"] in ended["recentText"]
    assert ended["counts"] == ended["recentCounts"]
    assert any("need an eTMA login" in count for count in ended["counts"])
    browser.close_tab()
    browser.switch_to_tab(oscar)
