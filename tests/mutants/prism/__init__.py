"""Prism's mock of the bundle, certified by the kit: a server nobody here wrote (`golden.txt` says what it breaks)."""
