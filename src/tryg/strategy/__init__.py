"""Strategies: focus areas, initiatives, indicators with targets and measurements.

The Django app (label ``strategy``). Pure status and evaluation maths live in
:mod:`tryg.strategy.status` and :mod:`tryg.strategy.evaluation`; the rest (models, services,
pages, API, YAML templates, demo) around them.
"""
