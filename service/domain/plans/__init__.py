"""Planned runs: judged before they happen, a safer version on request, done against planned.

`rules` judges a plan with the load rules of `training.rules` (the very functions that judge a
run that happened), proposes a safer version and matches planned days to what was run; it is
pure.
"""
