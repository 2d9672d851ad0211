"""A bare native-messaging host written with nativemessaging-ng: the cold-start floor.

It answers ``hello`` with a reply of the same shape as the helper's and does nothing else: the
interpreter's start, the package's framing and one JSON round trip. The benchmark starts it
exactly as it starts the helper (the same interpreter, the caller's origin as the argument) and
reports the helper's median start-up over this one's.
"""

import nativemessaging

PROTOCOL_VERSION = 1


def main() -> None:
    while (message := nativemessaging.get_message()) is not None:
        nativemessaging.send_message(
            {
                "type": "reply",
                "id": message.get("id"),
                "status": "ok",
                "data": {"protocol": PROTOCOL_VERSION, "actions": ["hello"]},
            }
        )


if __name__ == "__main__":
    main()
