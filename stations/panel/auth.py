"""Who may do what at the panel: users with roles, hashed passwords, CSRF tokens.

Roles are ranked: an operator scans, starts and stops; an engineer also aborts, starts
development runs, runs the golden-unit check and sees limits; an admin also sees keys and
released limits. Passwords are kept as Argon2id hashes (argon2-cffi) in a JSON users file
beside the results; the session is a signed cookie (Starlette's SessionMiddleware,
itsdangerous); every form and every script request carries the session's CSRF token.
"""

from __future__ import annotations

import hmac
import json
import secrets
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reports.exports import atomic_write

ROLES = ("operator", "engineer", "admin")
_HASHER = PasswordHasher()


class UserError(ValueError):
    """A user that cannot be added (unknown role, blank name or password)."""


def rank(role: str | None) -> int:
    return ROLES.index(role) + 1 if role in ROLES else 0


def may(role: str | None, needed: str) -> bool:
    """Whether ``role`` includes what ``needed`` may do."""
    return rank(role) >= rank(needed)


class Users:
    """The users file: ``{"users": {name: {"role": ..., "hash": ...}}}``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_bytes()).get("users", {})
        except (OSError, ValueError):
            return {}

    def add(self, name: str, role: str, password: str) -> None:
        if role not in ROLES:
            raise UserError(f"role {role!r}: one of {', '.join(ROLES)}")
        if not name.strip() or not name.isprintable() or len(name) > 40:
            raise UserError("a user name is 1-40 printable characters")
        if len(password) < 4:
            raise UserError("a password has at least 4 characters")
        users = self._load()
        users[name.strip()] = {"role": role, "hash": _HASHER.hash(password)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps({"users": users}, indent=2).encode())
        self.path.chmod(0o600)

    def check(self, name: str, password: str) -> str | None:
        """The user's role when the password is right, else None (same work either way)."""
        user = self._load().get(name)
        stored = user["hash"] if user else _DUMMY
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return user["role"] if user else None

    def __len__(self) -> int:
        return len(self._load())


_DUMMY = _HASHER.hash(secrets.token_hex(8))


def secret_key(path: Path) -> str:
    """The cookie-signing secret of this panel, made once and kept beside the results."""
    path = Path(path)
    try:
        return path.read_text().strip()
    except OSError:
        key = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, key.encode())
        path.chmod(0o600)
        return key


def csrf_token(session: dict[str, Any]) -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_ok(session: dict[str, Any], given: str | None) -> bool:
    token = session.get("csrf")
    return bool(token and given and hmac.compare_digest(token, given))
