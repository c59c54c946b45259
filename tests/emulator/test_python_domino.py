"""Every python-domino 2.2.0 call docs/DEVELOPMENT.md lists passes against the emulator.

The calls of Domino's own templates are run in test_fidelity.py; this module runs the published
v4 routes python-domino also calls (``get_default_environment``, ``get_user_id``,
``job_runtime_execution_details``), the official client with a service-account token, and holds
the list in docs/DEVELOPMENT.md to exactly the calls these two modules make. The fixtures (and the check that
every request and answer follows the contract) are test_fidelity.py's.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from domino import Domino

from domino_emulator.seed import ADMIN_API_KEY
from tests.emulator.test_fidelity import client, emu  # noqa: F401 - the fixtures, contract check included
from tests.support.emulator import DominoSession

ROOT = Path(__file__).resolve().parents[2]
DOCS_LIST = re.compile(r"<!-- python-domino calls -->\n(.*?)\n<!-- /python-domino calls -->", re.DOTALL)
CALL = re.compile(r"\bclient\.([a-z_]+)\(")


def test_default_environment_user_id_and_runtime_details(client, emu):  # noqa: F811
    default = client.get_default_environment()
    assert default["name"] == "Domino Standard Environment" and default["visibility"] == "Global"
    assert client.get_user_id(emu.owner) == DominoSession(emu.url, emu.api_key).ok(
        "GET", "/api/users/v1/self")["user"]["id"]
    assert client.get_user_id("nobody-at-all") is None
    job = client.job_start("python train.py", hardware_tier_id="medium-k8s", title="details")
    details = client.job_runtime_execution_details(job["id"])
    assert details["hardwareTier"] == {"id": "medium-k8s", "name": "Medium", "isArchived": False}
    assert details["environment"]["environmentName"] == default["name"]


def test_a_service_account_token_works_as_the_official_clients_auth_token(emu, monkeypatch):  # noqa: F811
    # Domino's recommended credential for automation: a service account's token, sent as Bearer.
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    admin = DominoSession(emu.url, ADMIN_API_KEY)
    accounts = "/api/serviceAccounts/v1/serviceAccounts"
    account = admin.ok("POST", accounts, {"username": "deployer", "email": "ops@example.com"})["serviceAccount"]
    token = admin.ok("POST", f"{accounts}/{account['idpId']}/tokens", {"name": "ci"})["token"]
    assert DominoSession(emu.url).put(f"/_emulator/serviceAccounts/{account['idpId']}/projects/{emu.project_id}").ok

    client = Domino(f"{emu.owner}/{emu.project_name}", auth_token=token, host=emu.url)

    assert client.project_id == emu.project_id
    assert client.get_user_id("deployer") == account["id"]
    sent = [r for r in emu.requests if r.route == "GET /v4/gateway/projects/findProjectByOwnerAndName"]
    assert sent and sent[-1].status == 200


def test_the_docs_list_exactly_the_calls_that_pass():
    found = DOCS_LIST.search((ROOT / "docs" / "DEVELOPMENT.md").read_text(encoding="utf-8"))
    assert found, "docs/DEVELOPMENT.md lacks the python-domino calls list"
    listed = set(re.findall(r"`([a-z_]+)`", found.group(1)))
    here = Path(__file__).parent
    called = {name for module in ("test_fidelity.py", "test_python_domino.py")
              for name in CALL.findall((here / module).read_text(encoding="utf-8"))}
    assert listed == called
