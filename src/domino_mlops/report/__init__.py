"""report: the only code that speaks GitHub (outputs, summary, annotations, masks, comments)."""
