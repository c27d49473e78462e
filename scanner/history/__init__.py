"""Building blocks of ``mcp-scan history``: walk, skip list, blob workers, cache, attribution.

The orchestration (and the public API) is ``scanner.sources.history``.
"""
