"""Tests of explain and what-if."""
