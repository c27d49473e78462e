"""``mcp-scan history``: every unique blob reachable from the refs (or a range), scanned once.

The entry point is ``scanner.history.scan.scan_history``; the other modules are its steps.
"""
