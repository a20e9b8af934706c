"""The custom resource handler as a package, so the construct finds it when installed."""
