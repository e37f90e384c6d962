"""Tests of planner invariants and the SkyPilot comparison."""
