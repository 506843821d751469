"""Training load: run spikes, weekly jumps, ACWR, return mode, and the nightly analysis.

`rules` is the load model on plain data; `messages` words its warnings; `report` is what
`GET /v1/me/load` shows; `nightly` analyses a chunk of athletes set-based for the workers.
"""
