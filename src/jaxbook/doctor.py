"""``python -m jaxbook.doctor``: is this environment ready for the book? Run it first.

It prints the environment (Python, the platform, the installed version of every library the
chapters use, the devices JAX sees) and then names, in plain words, whatever would stop the
notebooks from running: a Python older than 3.11, a library missing or older than the book's
minimum (the lower bounds ``jaxbook`` declares), a platform with no JAX wheels. Tools that only
building the website or testing need are reported as notes. It exits with status 1 when the
notebooks would not run, 0 otherwise.

This module imports nothing outside the standard library at the top, so that it can report a
missing or broken library instead of failing on it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import re
import shutil
import sys

MINIMUM_PYTHON = (3, 11)
#: Installed with the book for building the website or testing: missing means a note, not a problem.
OPTIONAL = {
    "jupyterlab": "running the notebooks with `make lab`",
    "ipykernel": "running the notebooks in Jupyter",
    "jupyter-book": "building the website (`make book`)",
    "pytest": "checking the book (`make test`)",
    "nbval": "checking the notebooks' outputs (`make test`)",
}


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:4])


def requirements() -> list[tuple[str, str]]:
    """The runtime dependencies ``jaxbook`` declares, as ``(distribution, minimum version)``.

    Example:
      >>> ("jax", "0.10.2") in requirements()
      True
    """
    try:
        declared = importlib.metadata.requires("jaxbook") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    found = []
    for line in declared:
        if ";" in line and "extra ==" in line:
            continue
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,;\s]*)", line)
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def installed(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def diagnose(
    python: tuple[int, ...] = tuple(sys.version_info[:3]),
    system: str = platform.system(),
    machine: str = platform.machine(),
    versions: dict[str, str | None] | None = None,
    minimums: list[tuple[str, str]] | None = None,
) -> list[str]:
    """The problems that would stop the notebooks from running, in plain words (empty: none).

    Example:
      >>> diagnose(python=(3, 10, 4), versions={}, minimums=[])
      ['Python 3.10.4 is too old: the book needs Python 3.11 or later (python.org, or your package manager).']
      >>> diagnose(python=(3, 13, 5), versions={"jax": "0.9.0"}, minimums=[("jax", "0.10.2")])
      ['jax 0.9.0 is older than the book needs (0.10.2 or later): pip install --upgrade "jax>=0.10.2"']
    """
    problems = []
    if python < MINIMUM_PYTHON:
        shown = ".".join(map(str, python))
        problems.append(
            f"Python {shown} is too old: the book needs Python 3.11 or later (python.org, or your package manager)."
        )
    if system == "Darwin" and machine == "x86_64":
        problems.append(
            "This is an Intel Mac: JAX has published no jaxlib for Intel Macs since 0.4.38. Use the "
            "hosted services (Colab, Binder) or a Linux machine."
        )
    if minimums is None:
        minimums = requirements()
        if not minimums:
            problems.append(
                "jaxbook itself is not installed: run `make book`, or `pip install -e .` in the book's folder."
            )
    versions = {name: installed(name) for name, _ in minimums} if versions is None else versions
    for name, minimum in minimums:
        version = versions.get(name)
        if version is None:
            problems.append(f'{name} is not installed: pip install "{name}>={minimum}"')
        elif _version_tuple(version) < _version_tuple(minimum):
            problems.append(
                f"{name} {version} is older than the book needs ({minimum} or later): "
                f'pip install --upgrade "{name}>={minimum}"'
            )
    return problems


def _devices() -> tuple[str, str | None]:
    """The devices JAX sees, or the error that importing it gave."""
    try:
        jax = importlib.import_module("jax")
        return ", ".join(sorted({f"{d.platform.upper()} ({d.device_kind})" for d in jax.devices()})), None
    except Exception as exc:  # any failure here is exactly what the reader needs to see
        return "none", f"JAX does not start: {type(exc).__name__}: {exc}"


def report() -> tuple[str, int]:
    """The doctor's whole report and its exit status."""
    lines = [
        f"Python           {platform.python_version()} ({sys.executable})",
        f"platform         {platform.system()} {platform.release()} on {platform.machine()}",
    ]
    minimums = requirements()
    for name, minimum in minimums:
        lines.append(f"{name:<16} {installed(name) or 'not installed'} (the book needs {minimum} or later)")
    problems = diagnose(minimums=minimums or None)
    if not problems:
        devices, error = _devices()
        lines.append(f"devices          {devices}")
        if error:
            problems.append(error)
    notes = [
        f"{name} is not installed; it is needed only for {use}."
        for name, use in OPTIONAL.items()
        if installed(name) is None
    ]
    if installed("jupyter-book") is not None and shutil.which("git") is None:
        notes.append("git is not on the PATH: you need it to clone the book and to update it.")
    lines.append("")
    if problems:
        lines.append("The notebooks will not run here yet:")
        lines += [f"  - {problem}" for problem in problems]
    else:
        lines.append("Everything the notebooks need is here.")
    if notes:
        lines.append("Notes:")
        lines += [f"  - {note}" for note in notes]
    return "\n".join(lines), 1 if problems else 0


def main() -> int:
    text, status = report()
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
