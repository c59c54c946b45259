"""plan: pure functions from (desired, observed) to an ordered, typed, printable Plan."""
