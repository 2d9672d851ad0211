"""Who the helper is and which extensions may talk to it."""

HOST_NAME = "etma_helper"
CHROMIUM_EXTENSION_ID = "cfflekeodohgccooffokbilcglejnhfj"
FIREFOX_EXTENSION_ID = "etma-helper@etma-helper"

#: What the browser passes the host as the caller: an origin (Chromium) or an add-on id (Firefox).
ALLOWED_CALLERS = frozenset({f"chrome-extension://{CHROMIUM_EXTENSION_ID}/", FIREFOX_EXTENSION_ID})


def caller_allowed(argv: list[str]) -> bool:
    """True when started by our extension, or by hand with no caller at all (doctor, tests).

    Chromium starts the host as ``[path, origin]``; Firefox as ``[path, manifest, extension id]``.
    """
    if not argv:
        return True
    return any(arg in ALLOWED_CALLERS for arg in argv[:2])
