"""Identifier rules shared by the declaration (:mod:`planner.spec`) and the plan (:mod:`planner.plan`).

A name a person declares (cluster, workload, team, namespace) becomes a
Kubernetes object name, a label value, a cloud resource name and a folder of
``planner render``. ``plan.json`` is untrusted input (anyone who opens a pull
request can edit it), so the plan reader applies the very rules the
declaration does: one definition here, imported by both.

- :data:`Label`: a DNS-1123 label, 1-63 lowercase letters, digits and ``-``,
  starting and ending with a letter or digit (Kubernetes namespaces and most
  object names; never a path separator, ``..``, NUL or a look-alike letter).
- :data:`Label1035`: a DNS-1035 label, the same but starting with a letter
  (Service names; JobSets and RayJobs name Services after themselves).
- :data:`CatalogName`: a region, zone, instance type, accelerator or quota
  family as catalogs spell them (``us-east-1``, ``Standard_NC24ads_A100_v4``,
  ``Gaudi HL-205``): ASCII letters, digits, ``._+-`` and single inner spaces.
- :data:`ImageRef`: a container image reference (printable ASCII, no spaces).
- :data:`MigProfile`: an NVIDIA MIG profile such as ``1g.10gb``.
- :data:`EnvName`: an environment variable name as Kubernetes accepts it.

Only the standard library and pydantic are imported; any room may import this one.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1035_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
LABEL_MAX = 63
CATALOG_NAME = r"^[A-Za-z0-9][A-Za-z0-9._:+-]*( [A-Za-z0-9._:+-]+)*$"
IMAGE_REF = r"^[A-Za-z0-9][!-~]*$"
MIG_PROFILE = r"^[1-7]g\.[0-9]+gb$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"

Label = Annotated[str, Field(min_length=1, max_length=LABEL_MAX, pattern=DNS1123_LABEL)]
Label1035 = Annotated[str, Field(min_length=1, max_length=LABEL_MAX, pattern=DNS1035_LABEL)]
CatalogName = Annotated[str, Field(min_length=1, max_length=64, pattern=CATALOG_NAME)]
ImageRef = Annotated[str, Field(min_length=1, max_length=512, pattern=IMAGE_REF)]
MigProfile = Annotated[str, Field(pattern=MIG_PROFILE)]
EnvName = Annotated[str, Field(min_length=1, max_length=256, pattern=ENV_NAME)]

# What a person should read when a name breaks a rule (pattern -> help).
PATTERN_HELP = {
    DNS1123_LABEL: "must be lowercase letters, digits and '-' (a DNS label, at most 63 chars)",
    DNS1035_LABEL: "must be lowercase letters, digits and '-', starting with a letter "
                   "(a DNS-1035 label, at most 63 chars)",
    CATALOG_NAME: "must be ASCII letters, digits, '.', '_', ':', '+', '-' or single inner spaces "
                  "(a catalog name)",
    IMAGE_REF: "must be a container image reference (printable ASCII, no spaces)",
    ENV_NAME: "must be letters, digits, '-', '.' and '_', not starting with a digit "
              "(an environment variable name)",
}

_DNS1123 = re.compile(DNS1123_LABEL)
_DNS1035 = re.compile(DNS1035_LABEL)


def is_label(text: str) -> bool:
    """True for a DNS-1123 label of at most 63 characters."""
    return len(text) <= LABEL_MAX and _DNS1123.fullmatch(text) is not None


def is_label_1035(text: str) -> bool:
    """True for a DNS-1035 label (a DNS-1123 label that starts with a letter)."""
    return len(text) <= LABEL_MAX and _DNS1035.fullmatch(text) is not None
