"""desired: the manifest and environments files -> validated frozen objects."""
