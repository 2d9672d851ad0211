"""The baseline: the seed's notebook script, made runnable against the practice eTMA.

It does what the seed post's notebook does (the blog post the product grew from), in the same
shape and with the same costs: one student at a time; every student starts from the admin tab's
form page; the whole zip is read into memory (``r.content``) and unpacked from a ``BytesIO``; and
the files and the confirmation codes are fetched in two SEPARATE passes, each pass searching for
every student again. The seed uses MechanicalSoup (requests + BeautifulSoup); this uses requests
and BeautifulSoup directly, which is what MechanicalSoup does underneath, so the requests on the
wire are the same.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup

TIMEOUT = 60


@dataclass
class BaselineResult:
    """What the seed-style script ended with."""

    downloaded: list[str] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def _form_payload(form) -> dict[str, str]:
    """The form's own values, as MechanicalSoup's ``submit_selected`` sends them."""
    data: dict[str, str] = {}
    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name or element.get("type") == "submit":
            continue
        if element.name == "select":
            option = element.find("option", selected=True) or element.find("option")
            data[name] = option.get("value", option.text) if option else ""
        else:
            data[name] = element.get("value", "")
    return data


def _submit(browser: requests.Session, page_url: str, form, **values: str) -> requests.Response:
    data = {**_form_payload(form), **values}
    action = urljoin(page_url, form.get("action") or page_url)
    if (form.get("method") or "get").lower() == "post":
        return browser.post(action, data=data, timeout=TIMEOUT)
    return browser.get(action, params=data, timeout=TIMEOUT)


def _student_page(browser: requests.Session, admin_url: str, module: str, pid: str):
    """Open the admin tab, fill in the module code and the PI, submit: the student's page."""
    admin = browser.get(admin_url, timeout=TIMEOUT)
    form = BeautifulSoup(admin.text, "html.parser").find("form", attrs={"name": "eabForm"})
    response = _submit(browser, admin.url, form, course_code=module, student_pi=pid)
    return response, BeautifulSoup(response.text, "html.parser")


def downloader(browser: requests.Session, admin_url: str, module: str, pid: str, outdir: str):
    """The seed's ``downloader``: fetch one student's zip into memory and unzip it."""
    os.makedirs(outdir, exist_ok=True)  # the seed's !mkdir -p {outdir}
    response, soup = _student_page(browser, admin_url, module, pid)
    form = soup.find("form", attrs={"name": "downloadForm"})
    if form is None:
        raise LookupError(f"no download form for {pid}")
    r = _submit(browser, response.url, form)
    # ...and treat it as a zipfile
    z = zipfile.ZipFile(io.BytesIO(r.content))
    # Save a bit more time for the user by unzipping it too...
    z.extractall(os.path.join(outdir, pid))


def get_confirmation_code(browser: requests.Session, admin_url: str, module: str, pid: str):
    """The seed's ``getConfirmationCode``: search again and scrape the code from the page."""
    _, soup = _student_page(browser, admin_url, module, pid)
    for header in soup.find_all("th"):
        if header.get_text(strip=True).startswith("Confirmation code"):
            return [header.find_next("td").get_text(strip=True), pid]
    raise LookupError(f"no confirmation code for {pid}")


def run_seed_script(
    browser: requests.Session, admin_url: str, module: str, pids: list[str], outdir: str
) -> BaselineResult:
    """Both of the seed's loops, one after the other, with a logged-in session."""
    import pandas as pd  # the seed collects the codes in a DataFrame

    result = BaselineResult()
    # Here's the iterator...
    for pid in pids:
        try:
            downloader(browser, admin_url, module, pid, outdir)
            result.downloaded.append(pid)
        except Exception:
            result.failed.append(pid)  # the seed prints 'Failed for {}' and carries on
    codes = None
    for pid in pids:
        try:
            code, pid_seen = get_confirmation_code(browser, admin_url, module, pid)
            tmp = [pid_seen, code]
            row = pd.DataFrame([tmp], columns=["PI", "Code"])
            codes = row if codes is None else pd.concat([codes, row])
        except Exception:
            result.failed.append(pid)
    if codes is not None:
        result.codes = dict(zip(codes["PI"], codes["Code"], strict=True))
    return result
