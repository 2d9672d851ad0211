"""An unusable site profile: plain errors inside, the same answer at each edge as before.

site_profile.load_profile raises ProfileError; the native host turns it into a
site_profile_unusable error whose params name the profile, and the command line into a usage
message, whichever action reads the profile.
"""

from __future__ import annotations

import json

import pytest

from etma_helper import PROTOCOL_VERSION
from etma_helper.batch import BatchRunner
from etma_helper.config import Settings
from etma_helper.errors import ErrorCode
from etma_helper.site_profile import ProfileError, load_profile
from tests.conftest import etma_admin_url, login_cookies
from tests.hostproc import HostProcess
from tests.integration.test_batch import make_job
from tests.integration.test_cli import etma_helper, write_cookies_txt
from tests.integration.test_crash_safety import download_request, helper_env


def test_the_core_raises_a_plain_profile_error(tmp_path, fresh_sites):
    settings = Settings(download_root=tmp_path / "eTMA", profile=tmp_path / "missing.json")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(settings)
    with pytest.raises(ProfileError, match="does not exist"):
        BatchRunner(make_job(fresh_sites, ["P1234567"]), settings, emit=lambda record: None)
    assert load_profile(Settings(download_root=tmp_path)).source.endswith("practice.json")


@pytest.fixture
def host_with_a_missing_profile(tmp_path):
    home = tmp_path / "home"
    env = {**helper_env(home), "HOME": str(home)}
    config = home / "config" / "etma_helper" / "config.json"
    profile = tmp_path / "missing.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "profile": str(profile)}))
    process = HostProcess(env)
    process.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
    assert process.receive()["status"] == "ok"
    yield process, profile
    process.close()


def test_the_native_host_answers_site_profile_unusable_naming_the_profile(
    host_with_a_missing_profile, fresh_sites, cohort
):
    host, profile = host_with_a_missing_profile
    cookies = [
        {"name": c.name, "value": c.value, "domain": c.domain, "path": c.path, "secure": c.secure}
        for c in login_cookies(fresh_sites)
    ]
    search = {
        "id": "search",
        "action": "student_search",
        "etma_url": etma_admin_url(fresh_sites),
        "module": "TM351",
        "pi": cohort.students[0].pi,
        "cookies": cookies,
    }
    for request in (download_request(fresh_sites, [cohort.students[0].pi], "job"), search):
        host.send(request)
        reply = host.receive()
        assert reply["id"] == request["id"] and reply["status"] == "error", reply
        assert reply["code"] == ErrorCode.SITE_PROFILE_UNUSABLE
        assert reply["params"] == {"profile": str(profile)}
        assert f"site profile {profile} does not exist" in reply["message"]


def test_the_command_line_says_which_profile_cannot_be_used(fresh_sites, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    profile = tmp_path / "missing.json"
    result = etma_helper(
        *("download", "--etma-url", etma_admin_url(fresh_sites), "--cookies", str(cookies)),
        *("--module", "TM351", "--pis", "P1234567", "--profile", str(profile)),
        *("--out", str(tmp_path / "eTMA")),
    )
    assert result.returncode == 2, result.stderr
    assert f"site profile {profile} does not exist" in result.stderr
    assert "Traceback" not in result.stderr
