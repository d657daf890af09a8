"""The state database (SPEC §10): maintenance states, leases, runs and the notice ledger."""

from maintbook.store.db import Location, StateError, Store, Tx

__all__ = ["Location", "StateError", "Store", "Tx"]
