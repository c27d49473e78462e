"""One module per subcommand, each with ``register(subparsers)``.

``cli.COMMANDS`` lists them explicitly (no import-time discovery). Modules
keep heavy imports inside their run functions so ``mcp-scan staged`` starts
fast.
"""
