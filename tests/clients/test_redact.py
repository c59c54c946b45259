"""URIs as we print them: without user name and password, however the password is written."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domino_mlops.clients.redact import redact_uri, scrub, userinfo_secrets


@pytest.mark.parametrize(("uri", "shown"), [
    ("http://bob:s3cr3t@mlflow:5000/x", "http://***@mlflow:5000/x"),
    ("https://s3cr3t-token@mlflow", "https://***@mlflow"),
    ("bob:s3cr3t@mlflow:5000", "***@mlflow:5000"),
    ("http://bob:pa/ss?#@x@mlflow", "http://***@mlflow"),  # unencoded '/', '?', '#', '@' in the password
    ("http://mlflow:5000", "http://mlflow:5000"),
    ("sqlite:///tmp/mlflow.db", "sqlite:///tmp/mlflow.db"),
    ("", ""),
])
def test_redact_uri(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown


def test_scrub_hides_the_uris_credentials_in_free_text_raw_and_decoded() -> None:
    uri = "http://bob:p%40ss%2Fw0rd@mlflow:5000"
    text = ("API request to http://bob:p%40ss%2Fw0rd@mlflow:5000/api/2.0 failed; server said: bad password "
            "p@ss/w0rd; also see https://alice:other-secret@elsewhere")
    assert scrub(text, uri) == ("API request to http://***@mlflow:5000/api/2.0 failed; server said: bad password "
                                "***; also see https://***@elsewhere")
    assert "p@ss/w0rd" in userinfo_secrets(uri) and "p%40ss%2Fw0rd" in userinfo_secrets(uri)


passwords = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), min_size=4, max_size=20)


@settings(derandomize=True, max_examples=200)
@given(passwords, st.sampled_from(["http://", "https://", ""]), st.sampled_from(["", "/path", ":5000/p"]))
def test_no_password_survives_redaction(password: str, scheme: str, rest: str) -> None:
    uri = f"{scheme}user:{password}@mlflow.example.com{rest}"
    assume(password not in f"{scheme}***@mlflow.example.com{rest} failed: ()")  # not a piece of the rest
    assert password not in redact_uri(uri)
    assert password not in scrub(f"failed: {uri} ({password})", uri)
