"""The import plan handler as a package, found by the construct when installed."""
