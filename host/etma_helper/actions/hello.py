"""``hello``: the handshake. Must stay light: it is the first thing the browser waits for."""

from __future__ import annotations

from .. import PROTOCOL_VERSION
from ..app_dirs import config_path, download_root_in, read_settings_file
from ..errors import ErrorCode, ProtocolError
from . import Reply


def handle(host, message: dict) -> Reply:
    protocol = message.get("protocol")
    if protocol != PROTOCOL_VERSION:
        raise ProtocolError(
            ErrorCode.PROTOCOL_MISMATCH,
            f"The extension speaks protocol {protocol!r} but this helper speaks "
            f"{PROTOCOL_VERSION}. Update both: run python3 install.py from the latest eTMA Helper.",
            extension_protocol=protocol,
            helper_protocol=PROTOCOL_VERSION,
        )
    # The folder alone, as Settings.load() reads it, without building the settings: the browser
    # waits for this answer each time it starts the helper.
    download_root = download_root_in(read_settings_file(config_path()))
    return Reply(
        {
            "protocol": PROTOCOL_VERSION,
            "download_root": str(download_root),
            "actions": list(host.actions),  # the host's handler table: what it answers
            "job_running": host.running_job_id,
        }
    )
