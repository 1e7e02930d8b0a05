"""Put MathJax, the website's maths typesetter, into ``node_modules/mathjax`` without Node or npm.

The version and its SHA-512 come from ``package-lock.json`` (so ``npm ci`` would install exactly
the same files); the package is taken from the npm registry and checked against that hash before
it is unpacked. Run by ``make book``; does nothing when the right version is already there.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "https://registry.npmjs.org"


def main() -> int:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/mathjax"]
    version, integrity = entry["version"], entry["integrity"]
    target = ROOT / "node_modules" / "mathjax"
    installed = target / "package.json"
    if installed.is_file() and json.loads(installed.read_text()).get("version") == version:
        return 0
    url = entry.get("resolved", f"{REGISTRY}/mathjax/-/mathjax-{version}.tgz")
    print(f"fetching MathJax {version} from the npm registry")
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    algorithm, expected = integrity.split("-", 1)
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        print(f"MathJax {version}: the download's {algorithm} does not match package-lock.json", file=sys.stderr)
        return 1
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            # npm packs everything under package/; keep only regular files and folders inside it
            name = Path(member.name)
            if name.parts[0] != "package" or ".." in name.parts or not (member.isfile() or member.isdir()):
                continue
            destination = target.joinpath(*name.parts[1:])
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.extractfile(member).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
