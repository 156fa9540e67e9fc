"""``station verify``: is the record the station's, and do certificate and store tell its story?

A hash alone proves nothing (whoever edits a record can recompute it), so verify checks, in
order: the record's Ed25519 signature over its canonical bytes, and that the signing key is
trusted (the local key folder, or ``--trust`` files); the certificate, by rebuilding it from
the record and comparing the bytes with the PDF presented (nothing is read back from the
PDF's text to decide, so no operator name can confuse it); and the store, which keeps the
record file's hash and every field of the run. When the certificate differs, its text and
QR code are compared too, to say how; that explains, it never passes a document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdf

from reports.certificate import NOT_A_CERTIFICATE, QR_TAG, certificate_bytes, qr_matrix, qr_payload
from reports.exports import sha256_bytes
from reports.record import Record
from reports.signing import TrustStore, check_signature, trusted_keys
from reports.store import DEFAULT_FILE, StoreUnavailable, open_store

_TEXT_SHA = re.compile(r"Record SHA-256:\s*([0-9a-f]{64})")
#: the run as the record section prints it (the last one: an operator's name comes earlier)
_TEXT_RUN = re.compile(r"Serial \S+, run ([0-9a-f]{32})\. The QR")
_KEYWORDS = re.compile(r"SN=([^;]*);RUN=([0-9a-f]{32});SHA256=([0-9a-f]{64})")


@dataclass
class CertificateInfo:
    """What a certificate PDF states about its run."""

    path: Path
    serial: str | None
    run_id: str | None
    sha256: str | None
    verdict: str | None
    says_not_certificate: bool
    text: str


@dataclass
class Verification:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def read_certificate(path: str | Path) -> CertificateInfo:
    """Extract serial, run, hash and verdict from the printed text and the PDF metadata.

    The two must agree; the printed text wins where a person would read it."""
    p = Path(path)
    try:
        reader = pypdf.PdfReader(p)
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        meta: dict[Any, Any] = reader.metadata or {}
    except (OSError, pypdf.errors.PdfReadError) as exc:
        raise ValueError(f"{p}: cannot read the certificate: {exc}") from None
    sha = _TEXT_SHA.search(text)
    runs = _TEXT_RUN.findall(" ".join(text.split()))
    serial = re.search(r"Serial number\s*\n?\s*(\S+)", text)
    verdict = re.search(r"Verdict\s*\n?\s*(PASS|FAIL|ABORTED|ERROR|RUNNING)", text)
    kw = _KEYWORDS.search(str(meta.get("/Keywords", "")))
    info = CertificateInfo(
        path=p, serial=serial.group(1) if serial else None, run_id=runs[-1] if runs else None,
        sha256=sha.group(1) if sha else None, verdict=verdict.group(1) if verdict else None,
        says_not_certificate=NOT_A_CERTIFICATE in text, text=text,
    )
    if kw is not None:
        for attr, value in zip(("serial", "run_id", "sha256"), kw.groups(), strict=True):
            printed = getattr(info, attr)
            if printed is None:
                setattr(info, attr, value)
            elif printed != value:
                raise ValueError(
                    f"{p}: printed {attr} {printed} differs from the document's metadata {value}"
                )
    return info


def read_qr_matrices(path: str | Path) -> list[list[list[bool]]]:
    """The QR codes drawn in the certificate, rebuilt module by module from its squares."""
    from pypdf.generic import ContentStream

    found: list[list[list[bool]]] = []
    for page in pypdf.PdfReader(path).pages:
        contents = page.get_contents()
        if contents is None:
            continue
        stream = ContentStream(contents, page.pdf)
        squares: list[tuple[float, ...]]
        inside, n, size, squares = False, 0, 0.0, []
        for operands, op in stream.operations:
            if op == b"BDC" and operands and operands[0] == f"/{QR_TAG}":
                props = operands[1]
                inside, squares = True, []
                n, size = int(props["/Modules"]), float(props["/Size"])
            elif op == b"EMC" and inside:
                inside = False
                cell = size / n
                matrix = [[False] * n for _ in range(n)]
                for x, y, _w, _h in squares:
                    col = round(x / cell)
                    row = n - 1 - round(y / cell)
                    if 0 <= row < n and 0 <= col < n:
                        matrix[row][col] = True
                found.append(matrix)
            elif op == b"re" and inside:
                squares.append(tuple(float(v) for v in operands))
    return found


def diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Paths at which two JSON-like values differ (``a`` is the file, ``b`` the store)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in list(a) + [k for k in b if k not in a]:
            out += diff(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if all(isinstance(x, dict) and "name" in x for x in a + b):
            names_a = [x["name"] for x in a]
            names_b = [x["name"] for x in b]
            out = [f"{path}: only in the record file: {n}" for n in names_a if n not in names_b]
            out += [f"{path}: only in the store: {n}" for n in names_b if n not in names_a]
            by_b = {x["name"]: x for x in b}
            for x in a:
                if x["name"] in by_b:
                    out += diff(x, by_b[x["name"]], f"{path}[{x['name']}]")
            if not out and names_a != names_b:
                out.append(f"{path}: order differs")
            return out
        if len(a) != len(b):
            return [f"{path}: {len(a)} items in the record file, {len(b)} in the store"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff(x, y, f"{path}[{i}]")]
    if a != b or type(a) is not type(b):
        return [f"{path}: record file {a!r}, store {b!r}"]
    return []


def _pair(path: Path) -> tuple[Path, Path]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return path, path.with_suffix(".json")
    if suffix == ".json":
        return path.with_suffix(".pdf"), path
    raise ValueError(f"{path}: give a certificate (.pdf) or a record (.json)")


def verify(path: str | Path, db_url: str | None = None, *,
           trust: list[Path] | None = None, trusted: TrustStore | None = None) -> Verification:
    """Check signature and trust, certificate, record and store (see module doc).

    ``trust`` are trust files added to the local key folder; ``trusted`` replaces both."""
    cert_path, record_path = _pair(Path(path))
    result = Verification()

    record: Record | None = None
    file_sha: str | None = None
    if not record_path.is_file():
        result.fail(f"record file {record_path} not found (it must sit beside the certificate)")
    else:
        data = record_path.read_bytes()
        file_sha = sha256_bytes(data)
        result.checked.append(f"record file {record_path.name}: SHA-256 {file_sha}")
        try:
            record = Record.from_json_bytes(data)
        except ValueError as exc:
            first = str(exc).splitlines()
            result.fail(f"record file {record_path} is not a valid record: "
                        f"{' '.join(first[:3])}")
        else:
            _check_signature(record, trusted or trusted_keys(trust), result)
            _check_attachments(record, record_path.parent, result)
            if record.development:
                result.fail(f"record {record_path.name} is a development run (some steps only, "
                            "or limits that are not released): it has no certificate and "
                            "does not count")

    if not cert_path.is_file():
        result.fail(f"certificate {cert_path} not found")
    elif record is not None and record.plan == "rma":   # a diagnosis has a report instead
        _check_rma_report(cert_path, record, record_path, result)
    elif record is not None and file_sha is not None:
        _check_rebuilt(cert_path, record, file_sha, record_path.name, result)
    else:
        try:
            cert = read_certificate(cert_path)
        except ValueError as exc:
            result.fail(str(exc))
        else:
            _check_certificate(cert, record, file_sha, result)

    if record is not None:
        _check_store(record, file_sha, record_path, db_url, result)
    return result


def _check_rma_report(path: Path, record: Record, record_path: Path, result: Verification) -> None:
    """An RMA diagnosis's report must be, byte for byte, the one its record and files give."""
    from reports.rma_report import ReportError, report_bytes

    try:
        expected = report_bytes(record, record_path)
    except (ReportError, OSError) as exc:
        result.fail(f"RMA report {path.name}: cannot be rebuilt: {exc}")
        return
    if path.read_bytes() == expected:
        result.checked.append(f"RMA report {path.name}: rebuilt from the record, identical")
    else:
        result.fail(f"RMA report {path.name} is not the one the record and its files give")


def _check_attachments(record: Record, folder: Path, result: Verification) -> None:
    """Each file the record lists is beside it with the hash the record (and so its
    signature) holds."""
    for a in record.attachments:
        path = folder / a.file
        if not path.is_file():
            result.fail(f"attachment {a.name}: file {path} not found")
        elif (found := sha256_bytes(path.read_bytes())) != a.sha256:
            result.fail(f"attachment {a.name}: {path} has SHA-256 {found}, the record says "
                        f"{a.sha256} (the file was changed)")
        else:
            result.checked.append(f"attachment {a.name}: SHA-256 {a.sha256}")


def _check_signature(record: Record, trusted: TrustStore, result: Verification) -> None:
    """The station's signature over the record, by a key this verifier trusts."""
    problem = check_signature(record)
    if problem is not None:
        result.fail(f"signature: {problem}")
        return
    assert record.signature is not None
    fp = record.signature.key_fingerprint
    source = trusted.source(fp)
    if source is None:
        result.fail(f"signature: the record is signed by key {fp}, which is not trusted here "
                    "(not in the local key folder nor in a --trust file)")
        return
    result.checked.append(f"record signed by station key {fp} (trusted: {source})")


def _check_rebuilt(cert_path: Path, record: Record, file_sha: str, record_file: str,
                   result: Verification) -> None:
    """The certificate presented must be, byte for byte, the one the record produces."""
    name = cert_path.name
    if record.plan == "cert":   # the clause report, with the traces beside the record
        from reports.cert_report import cert_report_bytes

        expected = cert_report_bytes(record, file_sha, cert_path.parent / "attachments" / record.run_id)
    else:
        expected = certificate_bytes(record, file_sha, record_file)
    presented = cert_path.read_bytes()
    if presented == expected:
        result.checked.append(f"certificate {name} is exactly the document the record produces")
        return
    result.fail(f"certificate {name} is not the document record {record_file} produces "
                f"(rebuilt from the record: {len(expected)} bytes, presented: {len(presented)})")
    try:
        cert = read_certificate(cert_path)
    except ValueError as exc:
        result.fail(str(exc))
        return
    _check_certificate(cert, record, file_sha, result)
    for line in _text_differences(cert.text, _pdf_text(expected))[:8]:
        result.fail(f"certificate {name}: {line}")
    mine = _software_version()
    if record.software_version != mine:
        result.fail(f"(the record was written by vstation {record.software_version}, this is "
                    f"{mine}: a certificate rebuilt by another version may differ in drawing alone)")


def _software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vstation")
    except PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "0+unknown"


def _pdf_text(data: bytes) -> str:
    import io

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _text_differences(presented: str, expected: str) -> list[str]:
    """Lines the presented document prints that the rebuilt one does not, and vice versa."""
    import difflib

    out = []
    for line in difflib.unified_diff(expected.splitlines(), presented.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        if line.startswith("+"):
            out.append(f"prints {line[1:].strip()!r}, which the record does not give")
        elif line.startswith("-"):
            out.append(f"the record gives {line[1:].strip()!r}, which the document does not print")
    if not out:
        out.append("prints the same text as the rebuilt document, but its drawing differs "
                   "(colours, positions, hidden content or a different software version)")
    return out


def _check_certificate(cert: CertificateInfo, record: Record | None, file_sha: str | None,
                       result: Verification) -> None:
    name = cert.path.name
    if cert.sha256 is None:
        result.fail(f"certificate {name} carries no record SHA-256")
    elif file_sha is not None and cert.sha256 != file_sha:
        result.fail(f"certificate {name} names record SHA-256 {cert.sha256}, but the record "
                    f"file's bytes hash to {file_sha}: the record was changed or swapped")
    else:
        result.checked.append(f"certificate {name} names the same SHA-256")
    _check_qr(cert, record, file_sha, result)
    if record is None:
        return
    for what, printed, actual in (("serial", cert.serial, record.serial),
                                  ("run", cert.run_id, record.run_id),
                                  ("verdict", cert.verdict, record.verdict or "RUNNING")):
        if printed != actual:
            result.fail(f"certificate {name} says {what} {printed}, the record says {actual}")
    if record.verdict != "PASS" and not cert.says_not_certificate:
        result.fail(f"certificate {name} does not say it is not a certificate, but the "
                    f"verdict is {record.verdict}")
    if record.verdict == "PASS" and cert.says_not_certificate:
        result.fail(f"certificate {name} says it is not a certificate, but the verdict is PASS")


def _check_qr(cert: CertificateInfo, record: Record | None, file_sha: str | None,
              result: Verification) -> None:
    """The printed QR code must carry the serial, run and hash of the record file."""
    name = cert.path.name
    codes = read_qr_matrices(cert.path)
    if len(codes) != 1:
        result.fail(f"certificate {name} has {len(codes)} QR codes, expected one")
        return
    if record is None or file_sha is None:
        return
    if codes[0] != qr_matrix(qr_payload(record, file_sha)):
        result.fail(f"the QR code on certificate {name} does not carry serial {record.serial}, "
                    f"run {record.run_id} and the record file's SHA-256")
    else:
        result.checked.append(f"QR code on {name} carries the serial, run and record SHA-256")


def _check_store(record: Record, file_sha: str | None, record_path: Path, db_url: str | None,
                 result: Verification) -> None:
    if db_url is None and not (record_path.parent / DEFAULT_FILE).is_file():
        result.fail(f"no results store beside the record ({record_path.parent / DEFAULT_FILE}); "
                    "give --db URL")
        return
    try:
        store = open_store(db_url, record_path.parent)
    except StoreUnavailable as exc:
        result.fail(str(exc))
        return
    with store:
        try:
            stored = store.load_record(record.run_id)
        except KeyError as exc:
            result.fail(str(exc.args[0]))
            return
        row = store.runs(run_id=record.run_id)
    stored_sha = row.record_sha256.iloc[0] if len(row) else None
    if stored_sha != file_sha:
        result.fail(f"the store holds record SHA-256 {stored_sha} for run {record.run_id}, "
                    f"the record file hashes to {file_sha}")
    # the store keeps the record file's hash, not its signature block (it keeps the
    # attachments list since migration 0004; each file is also checked against its hash)
    differences = diff(record.model_dump(mode="json", exclude={"signature"}),
                       stored.model_dump(mode="json", exclude={"signature"}))
    for d in differences[:12]:
        result.fail(f"record and store differ at {d}")
    if len(differences) > 12:
        result.fail(f"... and {len(differences) - 12} more differences")
    if not differences and stored_sha == file_sha:
        result.checked.append(f"store {store!r} holds the same run, fields and hash")
