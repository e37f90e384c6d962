"""The price catalog: offers (where, what shape, what price) indexed by accelerator."""

from planner.catalog.model import Catalog, CatalogMeta, Offer

__all__ = ["Catalog", "CatalogMeta", "Offer"]
