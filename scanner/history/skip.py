"""Paths whose blobs are never read: formats that cannot hold a secret worth reporting.

Skipped by default (``--scan-all-paths`` turns the list off):

* images, fonts, audio/video, PDFs: binary media, and a "secret" found in
  their bytes is noise;
* archives and compiled artefacts (zip, tar, jar, wheel, .pyc, .so, ...):
  binary containers whose members git cannot show us anyway;
* lockfiles (package-lock.json, yarn.lock, poetry.lock, Cargo.lock, go.sum,
  ...): generated, huge, full of integrity hashes that look like keys;
* minified bundles and source maps (``*.min.js``, ``*.min.css``, ``*.map``):
  generated from sources that are scanned themselves.

A blob is skipped only when *every* path it appears under is on the list.
"""
from __future__ import annotations

SKIPPED_EXTENSIONS = frozenset(
    {
        # images
        "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "heic", "avif", "xcf",
        # fonts
        "woff", "woff2", "ttf", "otf", "eot",
        # audio / video
        "mp3", "mp4", "m4a", "avi", "mov", "mkv", "wav", "flac", "ogg", "webm",
        # documents
        "pdf",
        # archives and packages
        "zip", "tar", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "jar", "war", "ear", "whl", "egg", "nupkg",
        # compiled artefacts
        "pyc", "pyo", "class", "o", "a", "so", "dylib", "dll", "exe", "wasm",
        # source maps
        "map",
    }
)

SKIPPED_NAMES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
        "poetry.lock", "pipfile.lock", "pdm.lock", "uv.lock", "cargo.lock", "gemfile.lock",
        "composer.lock", "go.sum", "packages.lock.json", "podfile.lock", "mix.lock", "flake.lock",
    }
)

SKIPPED_SUFFIXES = (".min.js", ".min.css", ".min.mjs", "-min.js", ".bundle.js")


def skippable(path: str) -> bool:
    """True when a blob at ``path`` is not worth reading (see the module docstring)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name in SKIPPED_NAMES or name.endswith(SKIPPED_SUFFIXES):
        return True
    dot = name.rfind(".")
    return dot > 0 and name[dot + 1 :] in SKIPPED_EXTENSIONS
