"""A real SMTP server for the API tests (aiosmtpd), with scripted replies.

Usage: smtp_server.py PORT DIR [REPLY ...]

Each REPLY answers one DATA command in turn (e.g. "451 4.3.0 try again later",
"550 5.1.1 mailbox unavailable"); once they are used up every message gets
"250 OK". Every message that reaches DATA is written to DIR as
NNNN-accepted.eml or NNNN-rejected.eml. Prints "ready" once it accepts
connections, then serves until killed.
"""

import os
import sys
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory, replies):
        self.directory = directory
        self.replies = list(replies)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        reply = self.replies.pop(0) if self.replies else "250 OK"
        self.count += 1
        outcome = "accepted" if reply.startswith("2") else "rejected"
        path = os.path.join(self.directory, f"{self.count:04d}-{outcome}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return reply


def main():
    port, directory, replies = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    controller = Controller(Handler(directory, replies), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
