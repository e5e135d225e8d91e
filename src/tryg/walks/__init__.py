"""Safety walks (tryghedsvandringer): plan, walk, record, act, meet, re-walk, tell.

Findings come from walks, from citizens' reports, from imports and from Open311; each becomes
an action with a responsible organisation, a deadline and states (:mod:`tryg.walks.states`).
"""
