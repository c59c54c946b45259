"""Model access tokens for smoke tests: one variable per environment, a token or a JSON map."""

from __future__ import annotations

import pytest

from domino_mlops.errors import ConfigError
from domino_mlops.observed.model_tokens import ModelTokens, variable_for


def test_one_token_opens_every_model_api_of_the_environment():
    masked: list[str] = []
    tokens = ModelTokens.from_env({"DOMINO_MODEL_TOKENS": "tok-SECRET"}, "PROD", on_secret=masked.append)
    assert tokens.token_for("churn", "medium-k8s") == "tok-SECRET"
    assert tokens.source_for("churn", None) == "DOMINO_MODEL_TOKENS[*]"
    assert masked == ["tok-SECRET", "tok-SECRET"]  # masked before anything else could print it
    assert "tok-SECRET" not in repr(tokens)


def test_a_json_map_names_model_apis_most_specific_first():
    raw = '{"churn": "t-churn", "churn@prod-small": "t-churn-west", "*": "t-any"}'
    masked: list[str] = []
    tokens = ModelTokens.from_env({"DOMINO_MODEL_TOKENS_PROD": raw, "DOMINO_MODEL_TOKENS": "t-other-env"}, "PROD",
                                  on_secret=masked.append)
    assert tokens.variable == "DOMINO_MODEL_TOKENS_PROD"  # the environment's own variable wins
    assert tokens.token_for("churn", "prod-small") == "t-churn-west"
    assert tokens.token_for("churn", "medium-k8s") == "t-churn"
    assert tokens.token_for("fraud", None) == "t-any"
    assert tokens.source_for("churn", "prod-small") == "DOMINO_MODEL_TOKENS_PROD[churn@prod-small]"
    assert {"t-churn", "t-churn-west", "t-any"} <= set(masked)


def test_no_variable_means_no_token():
    tokens = ModelTokens.from_env({}, "STAGE")
    assert tokens.token_for("churn", None) is None and tokens.source_for("churn", None) is None
    assert ModelTokens.from_env({"DOMINO_MODEL_TOKENS": '{"fraud": "t"}'}, "STAGE").token_for("churn", None) is None


def test_the_environment_variable_name_is_upper_case_and_safe():
    assert variable_for("prod-eu") == "DOMINO_MODEL_TOKENS_PROD_EU"


@pytest.mark.parametrize("raw, problem", [
    ('{"churn": "t"', "not a JSON object"),
    ("{}", "must be a JSON object"),
    ('{"churn": 3}', "the token of churn is not a non-empty string"),
    ('{"churn": "  "}', "the token of churn is not a non-empty string"),
])
def test_a_malformed_map_is_a_configuration_error_that_never_repeats_the_text(raw, problem):
    with pytest.raises(ConfigError, match=problem) as caught:
        ModelTokens.from_env({"DOMINO_MODEL_TOKENS": raw}, "PROD")
    assert raw not in str(caught.value) + caught.value.hint
