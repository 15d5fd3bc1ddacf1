"""One module per layer of the secure API gateway model; each has one `build_*` entry point."""
