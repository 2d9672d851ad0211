"""eTMA Helper: fetch students' scripts and confirmation codes from eTMA for a tutor."""

__version__ = "0.1.0"

#: The native-messaging protocol this helper speaks (docs/PROTOCOL.md).
PROTOCOL_VERSION = 1
