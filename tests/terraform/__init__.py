"""Tests of Terraform rendering and checking."""
