"""The conformance suite: pytest modules, one per conformance class or surface."""
