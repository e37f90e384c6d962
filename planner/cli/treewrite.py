"""Write a rendered tree (relative path -> text) as a directory, replacing it atomically.

Shared by ``planner render terraform`` and ``planner render k8s``. Everything
goes to a temporary directory beside ``out``, then replaces ``out`` by rename,
so ``out`` is either the old tree or the new one, never half-written. Files of
an existing ``out`` that the caller does not generate (``is_generated`` says
which) are carried over by hard link; generated files the new render no longer
produces are not, and a folder left empty by that is dropped.

Defense in depth (the tree's paths come from ``plan.json``, which is untrusted
input even after the plan reader has checked it): every path is resolved
against ``out`` as it exists, symlinks followed, and the whole write is refused
(:class:`UsageError`, exit 2, nothing written) if any path is absolute, holds
``..`` or NUL, or lands outside ``out``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from planner.errors import UsageError

IsGenerated = Callable[[Path], bool]


def refuse_bad_out(out: Path) -> None:
    """UsageError (exit 2) for an ``--out`` that cannot be replaced as a directory."""
    if out.exists() and not out.is_dir():
        raise UsageError("exists and is not a directory", file=str(out), field="--out")
    cwd = Path.cwd().resolve()
    if out.resolve() == cwd or out.resolve() in cwd.parents:
        raise UsageError("refusing to replace the working directory or one of its parents; "
                         "give a subdirectory", file=str(out), field="--out")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"parent directory {parent} does not exist", file=str(out), field="--out")


def refuse_escapes(out: Path, paths: Iterable[str]) -> None:
    """UsageError (exit 2) unless every relative path stays inside ``out`` after symlinks."""
    base = out.resolve()
    for rel in paths:
        parts = PurePosixPath(rel).parts
        if (not parts or PurePosixPath(rel).is_absolute() or ".." in parts or "\x00" in rel
                or "\\" in rel):
            raise UsageError(f"refusing to write {rel!r}: not a plain relative path",
                             file=str(out), field="--out")
        try:
            target = (out / rel).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise UsageError(f"refusing to write {rel!r}: {exc}", file=str(out),
                             field="--out") from None
        if not target.is_relative_to(base):
            raise UsageError(f"refusing to write {rel!r}: it resolves to {target}, outside "
                             "--out (a symlink?)", file=str(out), field="--out")


def write_tree(out: Path, texts: dict[str, str], is_generated: IsGenerated) -> None:
    """Write ``texts`` (relative path -> text) as directory ``out``, replacing it atomically."""
    refuse_escapes(out, texts)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror}", file=str(out), field="--out") from None
    try:
        os.chmod(tmp, out.stat().st_mode & 0o7777 if out.is_dir() else _default_dir_mode())
        for rel, text in texts.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")
        if out.is_dir():
            keep_user_files(out, tmp, is_generated)
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _default_dir_mode() -> int:
    """0o777 minus the umask: what ``mkdir`` would give (``mkdtemp`` gives 0o700)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def keep_user_files(old: Path, new: Path, is_generated: IsGenerated) -> None:
    """Hard-link (or copy) every file of ``old`` that is not generated into ``new``.

    A folder of ``old`` that held only generated files the new render does not
    write is not recreated; an empty folder of ``old`` is kept.
    """
    for root, dirs, files in os.walk(old, topdown=False):
        here = Path(root).relative_to(old)
        for name in sorted(dirs):
            if (old / here / name).is_symlink() and not (new / here / name).exists():
                (new / here).mkdir(parents=True, exist_ok=True)
                _copy_link(old / here / name, new / here / name)
        for name in sorted(files):
            if not is_generated(here / name) and not (new / here / name).exists():
                (new / here).mkdir(parents=True, exist_ok=True)
                _copy_link(old / here / name, new / here / name)
        if here != Path(".") and not any((old / here).iterdir()):
            (new / here).mkdir(parents=True, exist_ok=True)


def _copy_link(src: Path, dst: Path) -> None:
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _swap(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``; an existing ``out`` is moved aside first and removed after."""
    if not out.exists():
        os.rename(tmp, out)
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=tmp.parent))
    os.rename(out, backup)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(backup, out)
        raise
    with contextlib.suppress(OSError):
        shutil.rmtree(backup)
