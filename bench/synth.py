"""Build large synthetic git repositories for benchmarks, quickly.

Seeds files from the Python standard library sources on this machine, then
writes many small commits through one ``git fast-import`` stream (seconds
for tens of thousands of commits, where ``git commit`` in a loop would take
many minutes). A few generated fake credentials are planted along the way so
scanners have something to find.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sysconfig
from pathlib import Path


def _seed_files(limit: int) -> list[tuple[str, bytes]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files: list[tuple[str, bytes]] = []
    for path in sorted(stdlib.rglob("*.py")):
        if "site-packages" in path.parts or "__pycache__" in path.parts:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        files.append((str(path.relative_to(stdlib)), data))
        if len(files) >= limit:
            break
    return files


def _fake(rng: random.Random, n: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(n))


def build(path: Path, *, commits: int, files: int, seed: int = 1, secrets: int = 5) -> Path:
    """Create (or reuse) a repository at ``path`` with ``commits`` commits over ``files`` files."""
    marker = path / ".synth-done"
    if marker.exists() and marker.read_text() == f"{commits}:{files}:{seed}:{secrets}":
        return path
    if path.exists():
        subprocess.run(["rm", "-rf", str(path)], check=True)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    rng = random.Random(seed)
    tree = _seed_files(files)
    contents = {name: data for name, data in tree}
    names = [name for name, _ in tree]
    secret_at = set(rng.sample(range(1, commits), min(secrets, max(commits - 1, 0))))
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--force"], cwd=path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = proc.stdin
    when = 1_600_000_000

    def commit(number: int, changes: list[tuple[str, bytes]]) -> None:
        message = f"commit {number}\n".encode()
        out.write(f"commit refs/heads/main\nmark :{number}\n".encode())
        out.write(f"author Bench <bench@example.com> {when + number * 60} +0000\n".encode())
        out.write(f"committer Bench <bench@example.com> {when + number * 60} +0000\n".encode())
        out.write(f"data {len(message)}\n".encode() + message)
        if number > 1:
            out.write(f"from :{number - 1}\n".encode())
        for name, data in changes:
            out.write(f"M 100644 inline {name}\ndata {len(data)}\n".encode() + data + b"\n")

    commit(1, list(contents.items()))
    for number in range(2, commits + 1):
        changes = []
        for name in rng.sample(names, rng.randint(1, 3)):
            line = f"# change {number}: {_fake(rng, 12)}\n".encode()
            if number in secret_at:
                line += f"STRIPE_KEY = 'sk_live_{_fake(rng, 24)}'\n".encode()
            contents[name] = contents[name] + line
            changes.append((name, contents[name]))
        commit(number, changes)
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True)
    marker.write_text(f"{commits}:{files}:{seed}:{secrets}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=3_000)
    args = parser.parse_args()
    build(args.path, commits=args.commits, files=args.files)
    print(args.path)


if __name__ == "__main__":
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    main()
