"""Where Domino's 409 means "temporary credentials expired", and nowhere else.

python-domino 2.2.0 (``http_request_manager.py``) raises ``ReloginRequiredException`` on every
409, but the v4 document gives the ``Relogin`` answer (409, "User needs to re-login") on seven
routes only; on 55 others its 409 is ``ProjectManagementErrorResponse``, and the public document
declares no 409. So a 409 is "log in again" only where the document says so, a conflict elsewhere.
"""

from __future__ import annotations

import re

# The v4 document's routes answering #/components/responses/Relogin (served under /v4).
_RELOGIN = (
    ("POST", "/v4/jobs/start"),
    ("POST", "/v4/jobs/startWorkflowJob"),
    ("POST", "/v4/jobs/restart"),
    ("POST", "/v4/jobs/{projectId}/resolveJobDefaults"),
    ("GET", "/v4/jobs/{projectId}/retrieveValidProperties"),
    ("POST", "/v4/workspaces/launch"),
    ("POST", "/v4/workspaces/relaunch"),
)
_PATTERNS = tuple((method, re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "/?$"))
                  for method, path in _RELOGIN)


def relogin_on_conflict(method: str, path: str) -> bool:
    """True when a 409 from ``method path`` (relative to the API base) means "log in again".

    >>> relogin_on_conflict("POST", "/v4/jobs/start"), relogin_on_conflict("POST", "/v4/modelProducts")
    (True, False)
    """
    return any(m == method and p.match(path) for m, p in _PATTERNS)
