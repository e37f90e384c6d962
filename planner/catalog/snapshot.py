"""gpuplan's own catalog snapshot: ``offers.csv.gz`` plus ``metadata.json``.

This is what ``planner catalog import`` and ``planner catalog refresh`` write
and what ships embedded in the package (``planner/data/catalog/``). One row
per offer, the columns of :class:`~planner.catalog.model.Offer`, sorted by
offer key so the same prices always give the same bytes (gzip mtime 0).

Writes are atomic: the new snapshot is written to a sibling temporary
directory and renamed into place; on any failure the previous one stays.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import ValidationError

from planner.catalog.model import CATALOG_FORMAT, Catalog, CatalogMeta, Offer
from planner.errors import CatalogError

COLUMNS = (
    "cloud", "region", "zone", "instance_type", "accelerator", "accelerator_count",
    "accelerator_memory_gib", "vcpus", "memory_gib", "price", "spot_price",
    "quota_family", "interruption_bucket", "arch",
)
OFFERS_FILE = "offers.csv.gz"
META_FILE = "metadata.json"


def is_snapshot(directory: Path) -> bool:
    return (directory / META_FILE).is_file() and (directory / OFFERS_FILE).is_file()


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value == int(value) else repr(value)
    return str(value)


def encode_offers(offers: list[Offer]) -> bytes:
    """Offers as deterministic gzipped CSV bytes."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for offer in sorted(offers, key=lambda o: o.key):
        writer.writerow([_fmt(getattr(offer, c)) for c in COLUMNS])
    return gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0)


def write_snapshot(directory: Path, offers: list[Offer], meta: CatalogMeta) -> None:
    """Write atomically: a temp dir beside ``directory``, then rename over it."""
    directory = directory.resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes 0700; a snapshot is shared data
    try:
        (tmp / OFFERS_FILE).write_bytes(encode_offers(offers))
        meta = meta.model_copy(update={"rows": len(offers),
                                       "clouds": tuple(sorted({o.cloud for o in offers}))})
        data = meta.model_dump(mode="json")
        if not data["refresh"]:
            del data["refresh"]  # imported snapshots carry no refresh record: same bytes as before
        (tmp / META_FILE).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        old = directory.with_name(f".{directory.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_snapshot(directory: Path) -> Catalog:
    try:
        meta = CatalogMeta.model_validate_json((directory / META_FILE).read_text("utf-8"))
    except OSError as exc:
        raise CatalogError(f"cannot read catalog metadata: {exc.strerror}",
                           file=str(directory / META_FILE)) from None
    except UnicodeDecodeError:
        raise CatalogError("catalog metadata is not UTF-8 text",
                           file=str(directory / META_FILE)) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise CatalogError(f"bad catalog metadata: {err['msg']}", field=field,
                           file=str(directory / META_FILE)) from None
    if meta.format != CATALOG_FORMAT:
        raise CatalogError(f"unsupported catalog format {meta.format!r}",
                           file=str(directory / META_FILE), field="format")
    path = directory / OFFERS_FILE
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read offers: {exc}", file=str(path)) from None
    return Catalog(meta, tuple(_parse_rows(text, str(path))))


def _parse_rows(text: str, filename: str) -> list[Offer]:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or tuple(header) != COLUMNS:
        raise CatalogError("unexpected header", file=filename, line=1)
    offers = []
    dec = Decimal
    for line, r in enumerate(rows, start=2):
        try:
            offers.append(Offer(
                r[0], r[1], r[2] or None, r[3], r[4] or None, float(r[5]),
                float(r[6]) if r[6] else None, float(r[7]), float(r[8]), dec(r[9]),
                dec(r[10]) if r[10] else None, r[11], int(r[12]) if r[12] else None, r[13],
            ))
        except (ValueError, IndexError, InvalidOperation) as exc:
            raise CatalogError(f"bad row: {exc}", file=filename, line=line) from None
    return offers
