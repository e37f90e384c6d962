"""Materialize a gpuplan ``Plan``: pure builders, Pulumi components, Terraform JSON.

Rooms (each ``__init__`` says what it may import; ``tests/test_layout.py``
enforces it):

- ``builders``: pure functions, Plan -> plain dicts (pools, clusters, queues,
  jobs). No Pulumi.
- ``resources``: the Pulumi ComponentResources over those builders.
- ``program``: the stack program (``stacks/``) and the offline mock runner.
- ``terraform``: Terraform JSON rendering and its offline checkers. No Pulumi.
"""
