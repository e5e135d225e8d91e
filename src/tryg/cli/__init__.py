"""Command-line interface of tryg (an adapter around the pure core)."""
