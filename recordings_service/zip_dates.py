"""Files of the ZIPs Callvault hands out, dated in the organisation's time.

A ZIP's dates carry no time zone: whoever unpacks it reads them as local time. A UTC date, or the server's own
clock (`zipfile` dates a `writestr` by the name alone with `time.localtime()`, UTC in a container), put a call made
at half past midnight in Helsinki on the day before, and every file two or three hours early."""

from __future__ import annotations

import zipfile
from datetime import datetime, tzinfo

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the format's first date


def dated_entry(name: str, moment: datetime, zone: tzinfo, *, compress_type: int) -> zipfile.ZipInfo:
    """An entry for `name`, dated `moment` as the clocks in `zone` showed it."""
    local = moment.astimezone(zone)
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    info = zipfile.ZipInfo(name, date_time=max(stamp, ZIP_EPOCH))
    info.compress_type = compress_type
    return info
