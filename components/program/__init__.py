"""The stack program and running it offline.

``stack`` wires stack config -> ``Plan`` -> components (``stacks/__main__.py``
calls :func:`components.program.stack.main`); ``mocks`` runs a program under
``pulumi.runtime.set_mocks`` and records every resource (tests and
``planner preview``).

May import: anything in ``components`` and ``planner`` (the stack can plan at
``pulumi up``), and Pulumi.
"""
