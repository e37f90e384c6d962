"""Tests of the catalog, refresh, quota families, throughput."""
