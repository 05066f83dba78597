"""Regenerate requirements.txt and requirements-dev.txt (every package pinned).

Reads the top-level pins of requirements.in / requirements-dev.in and walks their
dependencies as installed in the running environment:
`.venv/bin/python scripts/pin_requirements.py`.
"""

from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def closure(names: list[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    stack = list(names)
    while stack:
        name = canonicalize_name(stack.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist.version
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            stack.append(req.name)
    return seen


def top_level(path: str) -> list[str]:
    names = []
    with open(path) as fh:
        for line in fh:
            line = line.split("#")[0].strip()
            if line and not line.startswith("-"):
                names.append(Requirement(line).name)
    return names


def main() -> None:
    run = closure(top_level("requirements.in"))
    dev = closure(top_level("requirements-dev.in"))
    with open("requirements.txt", "w") as fh:
        fh.write("# Every runtime dependency, pinned (top level: requirements.in).\n")
        fh.writelines(f"{name}=={run[name]}\n" for name in sorted(run))
    with open("requirements-dev.txt", "w") as fh:
        fh.write("# Test and lint dependencies, pinned (requirements-dev.in).\n")
        fh.write("-r requirements.txt\n")
        fh.writelines(f"{n}=={dev[n]}\n" for n in sorted(dev) if n not in run)
    print(f"{len(run)} runtime and {len(dev)} dev packages pinned")


if __name__ == "__main__":
    main()
