"""Stretching and core work after a run: the catalogue, the choice of routine, the reminder.

`catalogue` is the routines in our own words; `rules` picks a short routine from recent pain
locations; `suggestions` reads those locations; `reminders` is the sweep that sends one after a
run.
"""
