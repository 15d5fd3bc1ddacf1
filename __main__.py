"""Entry point for `pulumi up` / `pulumi preview`."""

from secure_api.program import main

main()
