"""Jinja2 templates shipped with gpuplan (installed as the package ``gpuplan_templates``)."""
