"""tryg.strategy: safety strategies, their initiatives and indicators, honest status, evaluation.

The pure parts (:mod:`tryg.strategy.status`, :mod:`tryg.strategy.evaluation`) take plain data
and return frozen results; they import no Django.
"""
