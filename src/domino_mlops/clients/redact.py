"""Keep credentials written into a URI (``http://user:SECRET@host``) out of everything we print.

One helper for every configured URI: MLFLOW_TRACKING_URI (userinfo is a valid way to give
MLflow a password, so it is used, never shown) and DOMINO_API_HOST / DOMINO_API_PROXY (which
refuse userinfo, and must not echo it while refusing). Foreign error texts that may quote the
URI (MLflow's "API request to http://user:SECRET@host/... failed") go through `scrub`.

Everything up to the last '@' after the scheme counts as userinfo: a password with '/', '?',
'#' or '@' in it, unencoded, is still hidden. The price is that a path holding '@' is hidden too.

.. code-block:: python

    redact_uri("http://bob:s3cr3t@mlflow:5000/x")   # 'http://***@mlflow:5000/x'
    redact_uri("bob:s3cr3t@mlflow:5000")            # '***@mlflow:5000'
"""

from __future__ import annotations

import re
from urllib.parse import unquote

HIDDEN = "***"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A URI with userinfo inside free text: scheme://anything-without-spaces-or-quotes@
_IN_TEXT = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s'\"<>@]+@")
_MIN_SECRET = 4  # shorter passwords are not hunted for in free text: every "a" would vanish


def redact_uri(uri: str) -> str:
    """``uri`` with its userinfo (user name and password) replaced by ***."""
    scheme = _SCHEME.match(uri)
    start = scheme.end() if scheme else 0
    at = uri.rfind("@", start)
    if at < 0:
        return uri
    return uri[:start] + HIDDEN + uri[at:]


def userinfo_secrets(uri: str) -> tuple[str, ...]:
    """The credential parts of ``uri``, as written and percent-decoded: for scrubbing and masking."""
    scheme = _SCHEME.match(uri)
    start = scheme.end() if scheme else 0
    at = uri.rfind("@", start)
    if at < 0:
        return ()
    userinfo = uri[start:at]
    password = userinfo.split(":", 1)[1] if ":" in userinfo else ""
    found = {userinfo, unquote(userinfo), password, unquote(password)}
    return tuple(sorted((s for s in found if len(s) >= _MIN_SECRET), key=len, reverse=True))


def scrub(text: str, uri: str) -> str:
    """``text`` without the credentials of ``uri``, and with any URI's userinfo in it hidden."""
    for secret in userinfo_secrets(uri):
        text = text.replace(secret, HIDDEN)
    return _IN_TEXT.sub(lambda m: m.group(1) + HIDDEN + "@", text)
