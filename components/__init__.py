"""Pulumi ComponentResources that materialize a gpuplan ``Plan``.

Components only consume a Plan; they never solve. Each one is a thin wrapper
over pure builder functions (``components.builders``) that the Terraform and
Kubernetes renderers share.
"""
