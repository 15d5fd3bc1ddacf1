"""This repository's own Pulumi program (`main: deploy` in Pulumi.yaml): one SecureApi from the stack config."""

from secure_api.component.program import main

main()
