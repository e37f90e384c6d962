"""gpuplan Pulumi program: stack config -> Plan -> GPU node pools, Kueue queues, training jobs.

See ``components/stack.py`` for the config keys and exports.
"""

from components.stack import main

main()
