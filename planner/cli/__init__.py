"""The ``planner`` command line. Heavy modules are imported inside commands."""
