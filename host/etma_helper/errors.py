"""The catalogue of protocol error codes (docs/PROTOCOL.md). Codes are append-only."""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    """Machine-readable error codes sent to the extension."""

    BAD_MESSAGE = 1
    UNKNOWN_ACTION = 2
    INVALID_FIELD = 3
    PROTOCOL_MISMATCH = 4
    JOB_RUNNING = 5
    NO_SUCH_JOB = 6
    MESSAGE_TOO_LARGE = 7
    DOWNLOAD_ROOT_UNUSABLE = 8
    INTERNAL = 9
    CALLER_NOT_ALLOWED = 10
    SITE_PROFILE_UNUSABLE = 11
    NOT_FOUND = 12
    CANNOT_OPEN = 13
    NEEDS_LOGIN = 14
    SEARCH_FORM_MISSING = 15
    DISK_FULL = 16
    WRONG_ETMA_ADDRESS = 17
    WORKSHEET_UNUSABLE = 18


class ProtocolError(Exception):
    """A request the helper refuses; becomes an error reply, never a crash."""

    def __init__(self, code: ErrorCode, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params
