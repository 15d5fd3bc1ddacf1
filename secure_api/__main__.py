"""`python -m secure_api …`: the same command line as the `secure-api` console script."""

from .plan.cli import run

run()
