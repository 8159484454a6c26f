"""gunicorn's own error log, without what a request carried.

gunicorn writes a request it cannot parse into its log as received ("Invalid request from ip=…: Invalid HTTP Header:
'Authorization Bearer cvt_…'": a header without its colon is a whole API token), and a request its worker failed
on with its path and query (a customer's reference, the words searched for). Callvault's own logs hold no personal
data or secret; these lines are replaced by ones that say what happened without what was sent. Started with
`--logger-class web.gunicorn_logs.PrivateLogger` (`callvault run`, and the systemd unit in infra/)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

MALFORMED = "invalid request refused: its request line or a header was malformed (not logged: it may hold a token)"
FAILED = "Error handling request (its path is not logged: it may hold personal data)"


class PrivateLogger(Logger):
    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, str) and msg.startswith("Invalid request from"):
            msg, args = MALFORMED, ()
        super().warning(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, str) and msg.startswith("Error handling request"):
            msg, args = FAILED, ()
        super().exception(msg, *args, **kwargs)
