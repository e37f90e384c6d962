"""The price catalog: offers (where, what shape, what price) indexed by accelerator.

Holds the ``Catalog`` model, loading (embedded snapshot, SkyPilot v8
directories), querying, the cloud refresh clients (``refresh_*``: the only
network code in ``planner``, and the only modules that import the cloud SDKs
of the ``gpuplan[refresh]`` extra), staleness, quota families (a cloud's own
quota units) and GPU throughput facts.

May import: ``planner.errors`` only. Never the declaration, the optimizer or
the CLI.
"""

from planner.catalog.model import Catalog, CatalogMeta, Offer

__all__ = ["Catalog", "CatalogMeta", "Offer"]
