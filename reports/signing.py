"""Station keys and record signatures: why a record can be trusted, not only checked.

A SHA-256 proves nothing about who wrote a record: anyone who edits it can recompute the
hash. Each station therefore holds an Ed25519 key pair and signs every record it writes;
``station verify`` accepts a record only when the signature is good *and* the key is
trusted (a key of the local key folder, or one listed in a ``--trust`` file).

The private key lives outside the output folder, in ``$VSTATION_KEYS`` or
``~/.local/share/vstation/keys/<station-id>.ed25519`` (PEM, mode 0600, created on first
use), or where the station file's ``signing_key`` says. Its public half is written beside
it as ``<station-id>.ed25519.pub``: one line, the form a trust file takes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reports.record import Record, Signature

log = logging.getLogger("vstation.signing")

KEYS_ENV = "VSTATION_KEYS"
KEY_SUFFIX = ".ed25519"
PUB_SUFFIX = ".ed25519.pub"
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


class SigningKeyError(ValueError):
    """A signing key that cannot be read, made or used; the message names the file."""


def key_folder() -> Path:
    """Where station keys live by default: ``$VSTATION_KEYS`` or the user's data folder."""
    env = os.environ.get(KEYS_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "vstation" / "keys"


def key_path(station_id: str, signing_key: str | None = None,
             station_file: Path | None = None) -> Path:
    """The private key file of a station: the station file's ``signing_key`` (relative to
    the station file's folder) or ``<key folder>/<station-id>.ed25519``."""
    if signing_key:
        p = Path(signing_key).expanduser()
        if not p.is_absolute() and station_file is not None:
            p = Path(station_file).resolve().parent / p
        return p
    return key_folder() / f"{_SAFE_ID.sub('_', station_id)}{KEY_SUFFIX}"


def station_key_path(station_id: str, station_file: str | Path | None) -> Path:
    """The key path of the station that wrote a record (its station file's ``signing_key``).

    Only that one key of the file is read: the run already validated the whole file."""
    signing_key = None
    if station_file:
        try:
            signing_key = tomllib.loads(Path(station_file).read_text("utf-8")).get("signing_key")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            signing_key = None
    return key_path(station_id, signing_key if isinstance(signing_key, str) else None,
                    Path(station_file) if station_file else None)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: Ed25519PublicKey | bytes) -> str:
    """SHA-256 of the raw 32-byte public key, hex: the name a key goes by."""
    raw = public if isinstance(public, bytes) else raw_public(public)
    return hashlib.sha256(raw).hexdigest()


def public_b64(public: Ed25519PublicKey) -> str:
    return base64.b64encode(raw_public(public)).decode()


def public_line(public: Ed25519PublicKey, station_id: str) -> str:
    """One line of a trust file: the public key, then a comment naming the station."""
    return f"{public_b64(public)}  # station {station_id}, fingerprint {fingerprint(public)}"


def load_or_create(path: Path, station_id: str) -> Ed25519PrivateKey:
    """The station's private key; made on first use (mode 0600), with its ``.pub`` beside."""
    if path.is_file():
        return _read_private(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        pub = _pub_path(path)
        pub.write_text(public_line(key.public_key(), station_id) + "\n", encoding="utf-8")
    except FileExistsError:   # another process made it meanwhile: use theirs
        return _read_private(path)
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot create the signing key of station {station_id}: "
                        f"{exc.strerror or exc}") from None
    note = (f"station {station_id} had no signing key: created {path} (fingerprint "
            f"{fingerprint(key.public_key())}); register its public key where records are "
            "verified (`station keys export`)")
    log.info(note)
    # straight to the operator too: a plan runs under pytest, whose logging plugin keeps records
    print(f"vstation: {note}", file=sys.stderr)
    return key


def _pub_path(path: Path) -> Path:
    return path.with_name(path.name + ".pub")


def _read_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read the signing key: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path}: not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 key ({type(key).__name__})")
    if path.stat().st_mode & 0o077:
        log.warning("signing key %s can be read by other users (mode %o): chmod 600 it",
                    path, path.stat().st_mode & 0o777)
    return key


def sign_record(record: Record, key: Ed25519PrivateKey) -> Signature:
    """The signature block of ``record`` (over its canonical bytes, as they will be written)."""
    checked = Record.model_validate(record.model_dump(exclude={"signature"}))
    public = key.public_key()
    return Signature(public_key=public_b64(public), key_fingerprint=fingerprint(public),
                     value=base64.b64encode(key.sign(checked.unsigned_bytes())).decode())


def check_signature(record: Record) -> str | None:
    """None when the record's signature is good for its own public key, else why not.
    (Whether that key is *trusted* is :class:`TrustStore`'s question.)"""
    sig = record.signature
    if sig is None:
        return "the record is not signed"
    raw = base64.b64decode(sig.public_key)
    if fingerprint(raw) != sig.key_fingerprint:
        return (f"the signature's key fingerprint {sig.key_fingerprint} is not that of its "
                f"public key ({fingerprint(raw)})")
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(sig.value),
                                                       record.unsigned_bytes())
    except (InvalidSignature, ValueError):
        return (f"the signature does not match the record's content (key {sig.key_fingerprint}): "
                "the record was changed after the station signed it")
    return None


@dataclass
class TrustStore:
    """Fingerprints of trusted keys, each with where it was found."""

    keys: dict[str, str]

    def source(self, fp: str) -> str | None:
        return self.keys.get(fp)


def parse_trust_line(line: str) -> str | None:
    """A fingerprint (64 hex) or a base64 raw public key; ``#`` starts a comment."""
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    token = text.split()[0]
    if _FINGERPRINT.match(token.lower()):
        return token.lower()
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"{token!r} is neither a key fingerprint (64 hex digits) nor a "
                         "base64 Ed25519 public key")
    return fingerprint(raw)


def trusted_keys(trust_files: list[Path] | None = None, folder: Path | None = None) -> TrustStore:
    """The local key folder's keys (public halves of ``*.ed25519``, and ``*.pub`` files)
    plus every key a trust file lists."""
    keys: dict[str, str] = {}
    root = folder or key_folder()
    if root.is_dir():
        for p in sorted(root.glob(f"*{KEY_SUFFIX}")):
            try:
                keys.setdefault(fingerprint(_read_private(p).public_key()), f"key folder {p}")
            except SigningKeyError as exc:
                log.warning("ignoring %s", exc)
        for p in sorted(root.glob(f"*{PUB_SUFFIX}")):
            _read_trust_file(p, keys, f"key folder {p}", strict=False)
    for p in trust_files or []:
        _read_trust_file(Path(p), keys, f"trust file {p}", strict=True)
    return TrustStore(keys)


def _read_trust_file(path: Path, keys: dict[str, str], source: str, *, strict: bool) -> None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        if strict:
            raise ValueError(f"{path}: cannot read the trust file: {exc}") from None
        return
    for n, line in enumerate(lines, start=1):
        try:
            fp = parse_trust_line(line)
        except ValueError as exc:
            if strict:
                raise ValueError(f"{path}:{n}: {exc}") from None
            continue
        if fp is not None:
            keys.setdefault(fp, source)
