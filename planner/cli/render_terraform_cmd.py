"""``planner render terraform PLAN --out DIR``: the plan as Terraform JSON, written atomically.

The files come from :mod:`components.tfrender` (pure). Writing: everything
goes to a temporary directory beside ``--out``, then replaces ``--out`` by
rename, so ``DIR`` is either the old tree or the new one, never half-written.
Files in an existing ``DIR`` that gpuplan does not generate (Terraform's
``.terraform/``, ``.terraform.lock.hcl``, local ``terraform.tfstate``,
``*.tfvars``, your own ``*.tf``) are carried over by hard link; stale
``infra/*.tf.json`` and ``k8s/*.tf.json`` are not. ``--check`` runs the
offline schema checker first and writes nothing if it finds a problem.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from planner.errors import EXIT_BAD_INPUT, UsageError

GENERATED_DIRS = ("infra", "k8s")


def register(app: typer.Typer) -> None:
    render_group(app).command("terraform")(render_terraform)


def render_group(app: typer.Typer) -> typer.Typer:
    """The ``render`` group of ``planner.cli.render_cmd``; created here if that is absent."""
    for info in app.registered_groups:
        group = info.typer_instance
        if group is not None and (info.name or group.info.name) == "render":
            return group
    group = typer.Typer(help="Render a plan for other tools (Terraform, Kubernetes YAML).",
                        no_args_is_help=True)
    app.add_typer(group, name="render")
    return group


def render_terraform(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="plan.json from 'planner plan'")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (replaced atomically)")],
    check: Annotated[bool, typer.Option(
        "--check", help="Check the files against the provider schemas first "
        "(see 'planner validate-terraform'); write nothing if they fail.")] = False,
    schemas: Annotated[Path | None, typer.Option(
        "--schemas", help="Provider schema documents for --check.")] = None,
) -> None:
    """Write the plan as Terraform/OpenTofu JSON: DIR/infra (node pools) then DIR/k8s (Kueue, jobs).

    Examples:

      planner render terraform plan.json --out tf

      terraform -chdir=tf/infra init && terraform -chdir=tf/infra apply

      terraform -chdir=tf/k8s init && terraform -chdir=tf/k8s apply
    """
    from components.tfrender import render_texts
    from planner.plan import read_plan

    texts = render_texts(read_plan(plan_file))
    _refuse_bad_out(out)
    if check:
        _check_or_exit(texts, schemas)
    write_tree(out, texts)
    counts = ", ".join(f"{out / d} ({sum(p.startswith(d + '/') for p in texts)} files)"
                       for d in GENERATED_DIRS)
    typer.echo(f"wrote {counts}; apply infra first, then k8s")


def _refuse_bad_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError("exists and is not a directory", file=str(out), field="--out")
    cwd = Path.cwd().resolve()
    if out.resolve() == cwd or out.resolve() in cwd.parents:
        raise UsageError("refusing to replace the working directory or one of its parents; "
                         "give a subdirectory", file=str(out), field="--out")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"parent directory {parent} does not exist", file=str(out), field="--out")


def _check_or_exit(texts: dict[str, str], schemas: Path | None) -> None:
    """Run the offline checker on the rendered texts; print findings and exit 2 if any."""
    import json

    from components.tfcheck import check_module, load_schemas
    from planner.cli.validate_terraform_cmd import default_schemas_dir

    schemas_dir = schemas or default_schemas_dir()
    if not schemas_dir.is_dir() or not any(schemas_dir.glob("*.json")):
        raise UsageError("no provider schema documents (*.json) found for --check",
                         file=str(schemas_dir))
    loaded = load_schemas(schemas_dir)
    findings = []
    for module in GENERATED_DIRS:
        docs = {p: json.loads(t) for p, t in texts.items() if p.startswith(module + "/")}
        findings += check_module(docs, loaded)
    for finding in findings:
        typer.echo(str(finding), err=True)
    if findings:
        typer.echo(f"{len(findings)} problem(s); nothing written", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)


def write_tree(out: Path, texts: dict[str, str]) -> None:
    """Write ``texts`` (relative path -> text) as directory ``out``, replacing it atomically."""
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
            keep_user_files(out, tmp)
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _default_dir_mode() -> int:
    """0o777 minus the umask: what ``mkdir`` would give (``mkdtemp`` gives 0o700)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def is_generated(rel: Path) -> bool:
    """``infra/*.tf.json`` and ``k8s/*.tf.json``: gpuplan's, replaced on every render."""
    return (len(rel.parts) == 2 and rel.parts[0] in GENERATED_DIRS
            and rel.name.endswith(".tf.json"))


def keep_user_files(old: Path, new: Path) -> None:
    """Hard-link (or copy) every file of ``old`` that gpuplan does not generate into ``new``."""
    for root, dirs, files in os.walk(old):
        here = Path(root).relative_to(old)
        for name in sorted(dirs):
            if (old / here / name).is_symlink():
                _copy_link(old / here / name, new / here / name)
            else:
                (new / here / name).mkdir(exist_ok=True)
        for name in sorted(files):
            if not is_generated(here / name) and not (new / here / name).exists():
                _copy_link(old / here / name, new / here / name)


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
