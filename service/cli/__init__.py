"""The `backstride` command line: it starts the API, the workers and beat, and runs ops commands.

It sits above everything else: it uses the API, the workers and the domain, and nothing imports
it (an import-linter contract in pyproject.toml checks both).
"""
