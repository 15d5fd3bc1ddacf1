"""The offline plan tool: run a Pulumi program on the mock runtime, report its plan and the pack's verdict."""
