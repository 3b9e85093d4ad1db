"""Mutants on the wire: the unmodified reference server behind a proxy that breaks the contract in transit.

The code variants (tests/mutants/variants) patch the server; these leave it
alone and change what crosses the wire, as a gateway, a cache or a relay in
front of a correct server would. Each mutation names the requirement it
breaks, and expectations.txt lists what the kit must report for it.
"""
