"""Correct reference servers in unusual configurations, served like catalog variants (`serving("tests.conformance.servers.NAME")`)."""
