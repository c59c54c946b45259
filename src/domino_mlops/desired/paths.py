"""Where the two files live in a repository, by default. Import-free, so the CLI can name them
in --help without loading the parsers."""

DEFAULT_MANIFEST = "scripts/model_version.json"
DEFAULT_ENVIRONMENTS = "scripts/environments.yaml"
DEFAULT_TARGETS = "scripts/export_targets.yaml"
