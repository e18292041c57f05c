"""Saving the attachments of replies: one folder per campaign and organization.

File names come from outsiders, so they are reduced to a plain last component
(no path, no traversal, no control characters, bounded length) and a file is
never overwritten: a clash becomes ``name-1.ext``, ``name-2.ext``… Files are
private (0600), like the database they belong to.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mailer.files import create_private, private_folder
from mailer.inbox.parse import Attachment

MAX_NAME_BYTES = 150
_UNSAFE = re.compile(r'[<>:"/\\|?*\s]+')
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def safe_name(name: str | None, *, fallback: str) -> str:
    """A file name that is safe on any common file system, or ``fallback``."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]  # a path's last component only
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", name).strip("._ ")
    if not name:
        name = fallback
    elif name.split(".")[0].lower() in _RESERVED:  # CON, NUL… are devices on Windows
        name = "_" + name
    return _shorten(name, MAX_NAME_BYTES)


def _shorten(name: str, limit: int) -> str:
    """Cut the stem, keeping a short extension, until the UTF-8 name fits ``limit`` bytes."""
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10 or not stem:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    while len((stem + suffix).encode()) > limit:
        stem = stem[:-1]
    return stem + suffix


def folder_for(
    root: Path, campaign_slug: str | None, org_id: int | None, org_name: str | None
) -> Path:
    """``root/<campaign slug or 'unmatched'>/<org id>-<short name>`` (or ``unknown``)."""
    campaign = safe_name(campaign_slug, fallback="campaign") if campaign_slug else "unmatched"
    if org_id is None:
        return root / campaign / "unknown"
    label = _shorten(_UNSAFE.sub("-", safe_name(org_name, fallback="org")), 40)
    return root / campaign / f"{org_id}-{label}"


def save(folder: Path, attachments: Sequence[Attachment]) -> list[dict[str, Any]]:
    """Write each attachment under a new name in ``folder``; what was written, for the reply row."""
    saved = []
    for n, part in enumerate(attachments, start=1):
        extension = mimetypes.guess_extension(part.content_type or "") or ".bin"
        name = safe_name(part.filename, fallback=f"attachment-{n}{extension}")
        path = write_new(folder, name, part.data)
        saved.append(
            {
                "filename": part.filename,
                "path": str(path),
                "content_type": part.content_type,
                "size": len(part.data),
            }
        )
    return saved


def write_new(folder: Path, name: str, data: bytes) -> Path:
    """Create ``folder/name`` without ever replacing a file: ``name-1``, ``name-2``… on clashes."""
    private_folder(folder)
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    for n in range(0, 10_000):
        candidate = name if n == 0 else f"{stem}-{n}{'.' + ext if ext else ''}"
        path = folder / candidate
        try:
            create_private(path, data)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{folder}: too many files named like {name!r}")


def move(paths: Sequence[str], folder: Path) -> list[str]:
    """Move saved attachments to another folder (a reply assigned elsewhere), never overwriting."""
    moved = []
    for old in map(Path, paths):
        if not old.exists():
            moved.append(str(old))
            continue
        new = write_new(folder, old.name, old.read_bytes())
        old.unlink()
        moved.append(str(new))
    return moved
