"""`python -m service.cli`: the same as the `backstride` console script."""

from service.cli.main import main

main()
