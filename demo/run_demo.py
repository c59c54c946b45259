"""`make demo`: the main job on embedded defaults, on one machine.

A real MLflow server and the local Domino emulator; a real scikit-learn model trained on the
diabetes data that scikit-learn ships; then the real CLI, as a workflow would run it:
validate, deploy to staging, call the staging endpoint, promote to production, ship a second
version the same way, roll it back, and print the ledger. Data lives under .demo/; both servers
are stopped at the end.

Model APIs are restricted, as on Domino: the first deploy to each environment creates them and
cannot smoke-test them (a warning says so); then, as a Domino admin would in Domino's UI, the demo
adds an access token to each and hands them over as DOMINO_MODEL_TOKENS_<ENV>, and from the
second version on every tier is smoke-tested.

`run_demo.py --separated` (`make demo DEMO_ARGS=--separated`): the separated topology. Production
marks and serves its own registered model (`mlflow.registered_model: "{model}-prod"`), and each
promotion copies the version that passed staging into it; the rollback is left out (a rollback
in this topology is not supported yet).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / ".demo"
CLI = str(Path(sys.executable).with_name("domino-mlops"))
MODEL = "diabetes-demo"


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def run_cli(*args: str, env: dict[str, str]) -> None:
    print(f"$ domino-mlops {' '.join(args)}", flush=True)
    code = subprocess.run([CLI, *args], env=env, cwd=DEMO, check=False).returncode
    if code != 0:
        raise SystemExit(f"domino-mlops {args[0]} exited with {code}; the demo stops here")


def write_manifest(project_id: str, version: str) -> None:
    from domino_emulator.local.models import SAMPLE_PATIENT

    manifest = {project_id: [{"name": MODEL, "version": int(version),
                              "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [1]}}]}
    (DEMO / "scripts" / "model_version.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"scripts/model_version.json: {MODEL} -> version {version}")


def add_access_tokens(emu, env: dict[str, str], environment: str, tiers: dict[str, str]) -> None:
    """What a Domino admin does once per new Model API (Settings > Invocation > Add token), and
    how the token reaches the pipeline: a secret, here DOMINO_MODEL_TOKENS_<ENV>. ``tiers`` maps
    a key of that JSON map (model, or model@tier) to the Model API's name."""
    from domino_mlops.clients.domino.client import DominoClient

    domino = DominoClient.from_env({"DOMINO_API_HOST": emu.url, "DOMINO_USER_API_KEY": emu.api_key})
    tokens = {}
    for key, model_api_name in tiers.items():
        api = domino.model_apis.find(emu.project_id, model_api_name)
        tokens[key] = emu.issue_model_token(api.id, "ci-smoke-test")
        print(f"access token added to Model API {model_api_name} ({api.id})")
    env[f"DOMINO_MODEL_TOKENS_{environment}"] = json.dumps(tokens)
    print(f"DOMINO_MODEL_TOKENS_{environment} = {{{', '.join(f'{k!r}: ***' for k in tokens)}}}")
    domino.close()


def call_endpoint(emu, env: dict[str, str], environment: str, model_api_name: str) -> None:
    """What a client of the Model API does: POST the patient's measurements, with its token."""
    from domino_mlops.clients.domino.client import DominoClient
    from domino_emulator.local.models import SAMPLE_PATIENT

    domino = DominoClient.from_env({"DOMINO_API_HOST": emu.url, "DOMINO_USER_API_KEY": emu.api_key})
    api = domino.model_apis.find(emu.project_id, model_api_name)
    token = json.loads(env[f"DOMINO_MODEL_TOKENS_{environment}"])[MODEL]
    prediction = domino.deployments.predict(api.id, SAMPLE_PATIENT, token=token)
    print(f"POST {emu.url}/models/{api.id}/latest/model")
    print(f"  data: {json.dumps(SAMPLE_PATIENT)}")
    print(f"  -> disease progression score {prediction.result[0]:.1f} "
          f"(model version {prediction.release.registered_model_version if prediction.release else '?'}, "
          f"{prediction.model_time_ms or 0:.0f} ms)")
    domino.close()


def separate_production() -> None:
    """PROD's own registered model: what the staging credential never needs to write."""
    path = DEMO / "scripts" / "environments.yaml"
    text = path.read_text()
    path.write_text(text.replace("      alias: production\n",
                                 "      alias: production\n      registered_model: \"{model}-prod\"\n", 1))
    print(f'scripts/environments.yaml: PROD marks its own registered model, mlflow.registered_model: "{{model}}-prod"'
          f" ({MODEL}-prod)")


def main(argv: list[str] | None = None) -> int:
    from domino_emulator import Emulator
    from domino_emulator.local.mlflow_server import start_mlflow_server
    from domino_emulator.local.models import register_diabetes_model

    parser = argparse.ArgumentParser(description="The main job on one machine.")
    parser.add_argument("--separated", action="store_true",
                        help="production marks and serves its own registered model (a copy of what passed staging)")
    args = parser.parse_args(argv)
    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "environments.yaml", DEMO / "scripts" / "environments.yaml")
    if args.separated:
        separate_production()

    banner("Starting a local MLflow server and the Domino emulator")
    server = start_mlflow_server(DEMO / "mlflow")
    emu = Emulator(mlflow_uri=server.uri, deploy_seconds=2.0, state_file=DEMO / "domino-state.json").start()
    print(f"MLflow at {server.uri}; Domino emulator at {emu.url} (project {emu.owner}/{emu.project_name}, "
          f"id {emu.project_id})")
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.uri, "DOMINO_API_HOST": emu.url,
           f"PROJECT_ID_{emu.project_id}": emu.token, "GITHUB_ACTOR": os.environ.get("USER", "demo")}
    for key in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        env.pop(key, None)
    try:
        banner("Training and registering a scikit-learn model on the diabetes data")
        v1 = register_diabetes_model(server.uri, MODEL, alpha=0.5, experiment="demo")
        write_manifest(emu.project_id, v1)

        banner("Validate, then deploy to staging (a pull request would do this)")
        run_cli("validate", env=env)
        run_cli("deploy", "--env", "STAGE", env=env)

        banner("An admin adds an access token to the new staging Model API; call it")
        add_access_tokens(emu, env, "STAGE", {MODEL: f"{MODEL}-stage"})
        call_endpoint(emu, env, "STAGE", f"{MODEL}-stage")

        banner("Promote to production (merge to main + an approval would do this)")
        run_cli("promote", "--env", "PROD", env=env)
        add_access_tokens(emu, env, "PROD", {MODEL: f"{MODEL}-prod", f"{MODEL}@prod-small": f"{MODEL}-prod-prod-small"})
        banner("Re-run the promotion: finished work, nothing to do")
        run_cli("promote", "--env", "PROD", env=env)

        banner("A second version: staging, then production, smoke-tested on every tier")
        v2 = register_diabetes_model(server.uri, MODEL, alpha=10.0, experiment="demo")
        write_manifest(emu.project_id, v2)
        run_cli("deploy", "--env", "STAGE", env=env)
        run_cli("promote", "--env", "PROD", env=env)
        call_endpoint(emu, env, "PROD", f"{MODEL}-prod")

        if not args.separated:
            banner("Roll production back to the previous version")
            run_cli("rollback", "--env", "PROD", "--model", MODEL, env=env)
            call_endpoint(emu, env, "PROD", f"{MODEL}-prod")

        banner("The ledger")
        run_cli("history", "--model", MODEL, env=env)
        if args.separated:
            run_cli("history", "--model", f"{MODEL}-prod", env=env)  # production's own model: the copies
    finally:
        emu.stop()
        server.stop()
    banner("Done")
    print(f"Both servers are stopped. Their data stays in {DEMO} (MLflow in mlflow/, the emulator's "
          "state in domino-state.json) until the next `make demo` or `make clean`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
