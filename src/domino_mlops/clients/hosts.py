"""Is a URL's host name one that DNS could ever resolve? Checked where a variable is read.

urllib3 refuses `a..b` or a 70-character label only when the first request is sent, with an
exception no caller expects ("LocationParseError: label empty or too long"): caught there it
reads as a bug in this tool. Checked when the variable is read, it is a configuration error
naming the variable (exit 2).
"""

from __future__ import annotations

import ipaddress

MAX_LABEL, MAX_NAME = 63, 253  # RFC 1035, section 2.3.4


def host_problem(host: str) -> str | None:
    """Why ``host`` (a URL's hostname) cannot be a host, or None when it can."""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host  # a trailing dot is the DNS root: allowed
    if len(name) > MAX_NAME:
        return f"the host name is {len(name)} characters long, more than DNS allows ({MAX_NAME})"
    for label in name.split("."):
        if not label:
            return "the host name has an empty label (two dots in a row, or a leading dot)"
        if len(label) > MAX_LABEL:
            return f"the host name's label {label[:12]}... is {len(label)} characters long, more than DNS allows " \
                   f"({MAX_LABEL})"
    try:
        name.encode("idna")
    except UnicodeError:
        return "the host name is not a valid internationalised name"
    return None
