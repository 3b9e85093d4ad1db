"""apollospace_conformance."""
