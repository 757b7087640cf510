"""Audit every package pinned in uv.lock for known vulnerabilities (``make audit``, part of ``make lint``).

With the OSV database reachable, pip-audit checks each pinned version against it: the complete
answer. Where it is not (a network that reaches only the package index), the audit falls back to
what the index publishes: the advisories open against each package's latest release. A pinned
version behind the latest release is then checked only for those; the audit says how many are.

A vulnerability that cannot be fixed yet is listed in ``IGNORED`` with the reason.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "uv.lock"
OSV_HOST = "api.osv.dev"
#: the package index's JSON view of a project, beside the simple index uv.lock names as the source
INDEX_JSON = "{index}/pypi/{name}/json"
ATTEMPTS = 3
#: vulnerability id -> why it is accepted for now
IGNORED: dict[str, str] = {}


def pinned() -> list[tuple[str, str, str]]:
    """(name, version, index) of every package uv.lock installs from an index."""
    lock = tomllib.loads(LOCK.read_text())
    return sorted(
        (package["name"], package["version"], package["source"]["registry"].removesuffix("/simple"))
        for package in lock["package"]
        if "registry" in package.get("source", {})
    )


def reachable(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def audit_with_pip_audit(packages: list[tuple[str, str, str]]) -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write("".join(f"{name}=={version}\n" for name, version, _ in packages))
        requirements.flush()
        ignores = [arg for vuln in IGNORED for arg in ("--ignore-vuln", vuln)]
        command = [sys.executable, "-m", "pip_audit", "--requirement", requirements.name, "--no-deps"]
        command += [
            "--disable-pip",
            "--strict",
            "--vulnerability-service",
            "osv",
            "--progress-spinner",
            "off",
        ]
        return subprocess.run(command + ignores).returncode


def latest_release_advisories(name: str, index: str) -> tuple[str, list[dict]]:
    for attempt in range(1, ATTEMPTS + 1):  # a passing network hiccup must not fail the lint
        try:
            with urllib.request.urlopen(INDEX_JSON.format(index=index, name=name), timeout=30) as response:
                project = json.load(response)
            return project["info"]["version"], project.get("vulnerabilities") or []
        except OSError:
            if attempt == ATTEMPTS:
                raise
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def audit_with_index(packages: list[tuple[str, str, str]]) -> int:
    print(f"{OSV_HOST} is not reachable: checking the advisories the package index lists")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda package: latest_release_advisories(package[0], package[2]), packages))
    found, behind = [], []
    for (name, version, _), (latest, advisories) in zip(packages, answers, strict=True):
        if version != latest:
            behind.append(f"{name} {version} (latest {latest})")
        for advisory in advisories:
            if advisory["id"] not in IGNORED and not set(advisory.get("aliases") or ()) & set(IGNORED):
                fixed = ", ".join(advisory.get("fixed_in") or []) or "no fix yet"
                found.append(
                    f"{name} {version}: {advisory['id']} (fixed in {fixed}) {advisory.get('link', '')}"
                )
    print(f"{len(packages)} packages; {len(behind)} behind their latest release, checked for its advisories:")
    print("  " + ", ".join(behind))
    for line in found:
        print(f"VULNERABLE {line}")
    return 1 if found else 0


def main() -> int:
    packages = pinned()
    if reachable(OSV_HOST):
        return audit_with_pip_audit(packages)
    return audit_with_index(packages)


if __name__ == "__main__":
    sys.exit(main())
