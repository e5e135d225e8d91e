"""Index runs from stored data: specifications, runs, their results and publication."""
