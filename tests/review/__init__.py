"""Tests of diffs, guardrails, Pulumi previews."""
