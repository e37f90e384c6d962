"""gpuplan Pulumi program: stack config -> Plan -> GPU node pools, Kueue queues, training jobs.

See ``components/program/stack.py`` for the config keys and exports.
"""

from components.program.stack import main

main()
