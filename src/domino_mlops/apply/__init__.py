"""apply: carry out a Plan step by step; every step re-checks before it writes."""
