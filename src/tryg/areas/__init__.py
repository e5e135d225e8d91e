"""Areas: the geography (codes, names, levels, parents over time, boundaries, population)."""
