"""Operator prompts: what a person must confirm or photograph before a plan starts.

A prompts file (``station serve --prompts FILE``, example ``stations/panel/prompts.toml``)
lists, per plan, the items the panel asks after the scan: ``confirm`` (a check: the
fixture is closed, the label matches), ``connect`` (a cable to connect: the link-port
cable) and ``photo`` (a picture of the unit, uploaded from the browser). A run starts only
when every required item is answered; the answers and the photos go into the record as
attachments (their SHA-256 in the record, so its signature covers them).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("confirm", "connect", "photo")
#: The photo formats a browser sends and a record viewer shows.
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class PromptsError(ValueError):
    """A prompts file that cannot be used, or an answer that does not do."""


@dataclass(frozen=True)
class Prompt:
    id: str
    kind: str
    text: str
    required: bool = True

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "required": self.required}


def load_prompts(path: Path) -> dict[str, list[Prompt]]:
    """Plan name -> its prompts, in order; PromptsError names the file and the item."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PromptsError(f"prompts file {path}: {exc}") from None
    out: dict[str, list[Prompt]] = {}
    for plan, table in raw.items():
        items = table.get("items") if isinstance(table, dict) else None
        if not isinstance(items, list):
            raise PromptsError(f"prompts file {path}: [{plan}] needs items = [...]")
        seen: set[str] = set()
        out[plan] = []
        for n, item in enumerate(items, 1):
            where = f"prompts file {path}: [{plan}] item {n}"
            if not isinstance(item, dict) or set(item) - {"id", "kind", "text", "required"}:
                raise PromptsError(f"{where}: give id, kind, text and optionally required")
            pid, kind, text = item.get("id", ""), item.get("kind", ""), item.get("text", "")
            if not isinstance(pid, str) or not _ID.match(pid) or pid in seen:
                raise PromptsError(f"{where}: id {pid!r} must be a new lower-case word")
            if kind not in KINDS:
                raise PromptsError(f"{where} ({pid}): kind {kind!r} is not one of {', '.join(KINDS)}")
            if not isinstance(text, str) or not text.strip():
                raise PromptsError(f"{where} ({pid}): the text the operator reads is missing")
            required = item.get("required", True)
            if not isinstance(required, bool):
                raise PromptsError(f"{where} ({pid}): required must be true or false")
            seen.add(pid)
            out[plan].append(Prompt(pid, kind, text.strip(), required))
    return out


@dataclass(frozen=True)
class Photo:
    prompt: str
    data: bytes
    media_type: str

    @property
    def name(self) -> str:
        return f"photo-{self.prompt}.{PHOTO_TYPES[self.media_type]}"


def check_answers(prompts: list[Prompt], answers: dict[str, str],
                  photos: dict[str, Photo]) -> dict[str, Any]:
    """The answers as the record keeps them; PromptsError names the first item not
    answered (a required check not confirmed, a required photo missing) or a bad photo."""
    kept = []
    for p in prompts:
        if p.kind == "photo":
            photo = photos.get(p.id)
            if photo is not None and photo.media_type not in PHOTO_TYPES:
                raise PromptsError(f"{p.text}: the photo is {photo.media_type or 'of no known type'}, "
                                   f"give {', '.join(PHOTO_TYPES)}")
            if photo is not None and not 0 < len(photo.data) <= MAX_PHOTO_BYTES:
                raise PromptsError(f"{p.text}: the photo is {len(photo.data)} bytes "
                                   f"(1 to {MAX_PHOTO_BYTES})")
            if photo is None and p.required:
                raise PromptsError(f"not answered: {p.text} (attach a photo)")
            kept.append({**p.view(), "answer": photo.name if photo else None})
        else:
            yes = answers.get(p.id) == "yes"
            if not yes and p.required:
                raise PromptsError(f"not answered: {p.text}")
            kept.append({**p.view(), "answer": "yes" if yes else None})
    return {"items": kept}
