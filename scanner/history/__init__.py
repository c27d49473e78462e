"""Building blocks of ``mcp-scan history``: walk, blob workers, cache, attribution.

The orchestration (and the public API) is ``scanner.sources.history``.
"""
