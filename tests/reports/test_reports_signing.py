"""Forgeries `station verify` must reject, and genuine records it must accept (issue 11).

Each forgery is one that passed verify while the record carried only a SHA-256: edit the
JSON, recompute the hash, make the store and the certificate agree; print a certificate
with other values and the original hash; byte-edit a FAIL report into a visual PASS; sign
with a key of one's own. Genuine runs come from the real engine on the simulated bench,
and the PDFs are read back with pypdf.
"""

from __future__ import annotations

import hashlib
import io
import stat
from pathlib import Path

import pypdf
import pytest
import typer
from recordgen import make_record, make_serial
from typer.testing import CliRunner

from reports.certificate import certificate_bytes, write_certificate
from reports.cli import register
from reports.exports import write_record_json
from reports.record import Record
from reports.signing import (
    TrustStore,
    check_signature,
    fingerprint,
    load_or_create,
    public_line,
    sign_record,
    trusted_keys,
)
from reports.store import open_store
from reports.verify import verify
from stations.batch import run_quietly
from testplans import limits as limits_mod

SERIAL = "PV5S260100000013"
RUN_HEX_OPERATOR = "Q. Forger run 0123456789abcdef0123456789abcdef"


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own key folder (never the real home's)."""
    folder = tmp_path / "keys"
    monkeypatch.setenv("VSTATION_KEYS", str(folder))
    return folder


def _station_run(out: Path, **request: object) -> tuple[Path, Path]:
    """Record and certificate of one EOL run of a golden V5° on the simulated bench."""
    code, record = run_quietly(out, SERIAL, **request)
    assert record is not None, f"no record (exit {code})"
    (js,) = [p for p in out.glob("*.json") if Record.load(p).run_id == record.run_id]
    return js, js.with_suffix(".pdf")


def _text(path: Path) -> str:
    return " ".join("\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


def _problems(path: Path, **kw: object) -> str:
    result = verify(path, **kw)  # type: ignore[arg-type]
    assert not result.ok, result.checked
    return "\n".join(result.problems)


# -- genuine records ---------------------------------------------------------------------

def test_a_station_run_is_signed_with_a_new_key_and_verifies(
        tmp_path: Path, keys: Path, capfd: pytest.CaptureFixture[str]) -> None:
    js, pdf = _station_run(tmp_path / "out")
    key_file = keys / f"{Record.load(js).station.id}.ed25519"
    assert key_file.is_file() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "had no signing key: created" in capfd.readouterr().err
    written = Record.load(js)
    sig = written.signature
    assert sig is not None and sig.algorithm == "Ed25519"
    assert sig.key_fingerprint == fingerprint(load_or_create(key_file, "x").public_key())
    assert check_signature(written) is None
    assert f"Signed by station key SHA-256: {sig.key_fingerprint}" in _text(pdf)
    assert not any(keys.parent.joinpath("out").glob("*.ed25519*")), "no key in the output"
    for path in (pdf, js):
        result = verify(path)
        assert result.ok, result.problems
        assert any("exactly the document the record produces" in c for c in result.checked)
        assert any("trusted: key folder" in c for c in result.checked)


# docs/reliability.md case "verify-operator-run-id"
def test_an_operator_named_like_a_run_id_verifies(tmp_path: Path, keys: Path) -> None:
    _, pdf = _station_run(tmp_path / "out", operator=RUN_HEX_OPERATOR)
    assert RUN_HEX_OPERATOR in _text(pdf)   # printed before the record section's run id
    result = verify(pdf)
    assert result.ok, result.problems


def test_the_same_record_gives_the_same_certificate_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    r = make_record(make_serial(70))
    a = certificate_bytes(r, "a" * 64, "r.json")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")   # reportlab's own date override
    assert certificate_bytes(r, "a" * 64, "r.json") == a
    assert pypdf.PdfReader(io.BytesIO(a)).metadata["/CreationDate"] == "D:20260105080000+00'00'"
    assert certificate_bytes(r, "b" * 64, "r.json") != a


# docs/reliability.md case "verify-recovered"
def test_a_recovered_run_is_signed_and_verifies(tmp_path: Path, keys: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    killed = make_record(make_serial(71), station="SIM-01")   # the simulated bench's id
    running = killed.model_copy(deep=True, update={
        "verdict": None, "finished_at": None, "duration_s": None, "measurements": []})
    with open_store(None, out) as store:
        store.begin_run(running)
        for m in killed.measurements[:5]:
            store.add_measurement(killed.run_id, m)
    _station_run(out)
    (js,) = [p for p in out.glob(f"{killed.serial}_*.json")]
    back = Record.load(js)
    assert back.verdict == "ABORTED" and back.signature is not None
    assert js.with_suffix(".pdf").is_file()
    result = verify(js)
    assert result.ok, result.problems


# -- forgeries -----------------------------------------------------------------------------

# docs/reliability.md case "forge-edited-record"
def test_edited_record_with_recomputed_hash_matching_store_and_certificate_fails(
        tmp_path: Path, keys: Path) -> None:
    js, pdf = _station_run(tmp_path / "out")
    forged = Record.load(js)
    m = forged.measurement("insulation_mohm")
    m.value = 999.0                          # a better number, everywhere at once
    sha = write_record_json(forged, js)      # the hash anyone can recompute
    with open_store(None, js.parent) as store:
        store.finish_run(forged, sha)
    write_certificate(forged, sha, pdf)
    problems = _problems(pdf)
    assert "signature does not match the record's content" in problems
    assert "differ" not in problems.replace("does not match", "")   # store and PDF agree: only the signature tells


# docs/reliability.md case "forge-own-key"
def test_a_record_re_signed_with_the_forgers_key_fails_until_that_key_is_trusted(
        tmp_path: Path, keys: Path) -> None:
    js, pdf = _station_run(tmp_path / "out")
    forger = load_or_create(tmp_path / "elsewhere" / "forger.ed25519", "forger")
    forged = Record.load(js)
    forged.measurement("insulation_mohm").value = 999.0
    forged.signature = sign_record(forged, forger)
    sha = write_record_json(forged, js)
    with open_store(None, js.parent) as store:
        store.finish_run(forged, sha)
    write_certificate(forged, sha, pdf)
    fp = fingerprint(forger.public_key())
    assert f"signed by key {fp}, which is not trusted" in _problems(pdf)
    # the check is the trust, not the content: trusting the key makes the same files verify
    trust = tmp_path / "trust.txt"
    trust.write_text("# keys of the line\n" + public_line(forger.public_key(), "forger") + "\n")
    assert verify(pdf, trust=[trust]).ok
    trust.write_text(fp.upper() + "\n")
    assert verify(pdf, trust=[trust]).ok
    assert fp not in trusted_keys().keys


# docs/reliability.md case "forge-regenerated-pdf"
def test_a_certificate_regenerated_with_other_values_and_the_original_hash_fails(
        tmp_path: Path, keys: Path) -> None:
    js, pdf = _station_run(tmp_path / "out")
    sha = hashlib.sha256(js.read_bytes()).hexdigest()
    genuine = Record.load(js)
    other = genuine.model_copy(deep=True)
    other.measurement("insulation_mohm").value = 999.0
    write_certificate(other, sha, pdf)       # the record and store untouched
    assert f"Record SHA-256: {sha}" in _text(pdf)
    problems = _problems(pdf)
    assert "is not the document record" in problems
    assert "999" in problems                  # and says what it prints that the record does not
    assert "signature" not in problems        # the record itself is genuine


def _edit_page(path: Path, *edits: tuple[bytes, bytes]) -> None:
    """Byte-edit the first page's content stream (what a PDF editor does), keep the rest."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(path))
    contents = writer.pages[0].get_contents()
    assert contents is not None
    data = contents.get_data()
    for old, new in edits:
        assert old in data, old
        data = data.replace(old, new)
    contents.set_data(data)
    writer.pages[0].replace_contents(contents)
    with path.open("wb") as fh:
        writer.write(fh)


# docs/reliability.md case "forge-fail-to-pass"
def test_a_fail_report_byte_edited_into_a_visual_pass_fails(tmp_path: Path, keys: Path) -> None:
    r = make_record(make_serial(72), fail="insulation", station="SIM-01")
    folder = tmp_path / "out"
    folder.mkdir()
    stem = folder / f"{r.serial}_x"
    r.signature = sign_record(r, load_or_create(keys / "SIM-01.ed25519", "SIM-01"))
    with open_store(None, folder) as store:
        store.begin_run(r)
        sha = write_record_json(r, stem.with_suffix(".json"))
        store.finish_run(r, sha)
    pdf = stem.with_suffix(".pdf")
    write_certificate(r, sha, pdf)
    assert verify(pdf).ok
    red, green = b".701961 .14902 .117647 rg", b".105882 .498039 .231373 rg"
    _edit_page(pdf, (b"(FAIL) Tj", b"(PASS) Tj"),          # the big verdict box
               (red + b"\nn 0 51.02362", green + b"\nn 0 51.02362"),   # ... drawn green
               (red + b"\nBT", b"1 1 1 rg\nBT"))            # the warning drawn white
    flat = _text(pdf)
    assert "PASS" in flat.split("Unit and run")[0]          # what a person sees at the top
    problems = _problems(pdf)
    assert "is not the document record" in problems
    assert "prints 'PASS', which the record does not give" in problems


def test_an_unsigned_record_fails(tmp_path: Path, keys: Path) -> None:
    r = make_record(make_serial(73))
    folder = tmp_path / "out"
    folder.mkdir()
    js = folder / "r.json"
    with open_store(None, folder) as store:
        store.begin_run(r)
        sha = write_record_json(r, js)
        store.finish_run(r, sha)
    write_certificate(r, sha, js.with_suffix(".pdf"))
    assert "signature: the record is not signed" in _problems(js)


def test_verify_cli_trust_option(tmp_path: Path, keys: Path) -> None:
    js, pdf = _station_run(tmp_path / "out")
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    # a verifier elsewhere: an empty key folder of its own, trusting only a --trust file
    other = tmp_path / "verifier-keys"
    other.mkdir()
    env = {"VSTATION_KEYS": str(other)}
    bad = runner.invoke(app, ["verify", str(pdf)], env=env)
    assert bad.exit_code == 1 and "not trusted" in bad.output, bad.output
    trust = tmp_path / "trust.txt"
    sig = Record.load(js).signature
    assert sig is not None
    trust.write_text(f"{sig.public_key}  # SIM-01\n")
    ok = runner.invoke(app, ["verify", str(pdf), "--trust", str(trust)], env=env)
    assert ok.exit_code == 0, ok.output
    trust.write_text("not a key\n")
    usage = runner.invoke(app, ["verify", str(pdf), "--trust", str(trust)], env=env)
    assert usage.exit_code == 2 and "neither a key fingerprint" in usage.output


def test_trust_store_reads_fingerprints_and_keys(tmp_path: Path) -> None:
    key = load_or_create(tmp_path / "k" / "a.ed25519", "a")
    fp = fingerprint(key.public_key())
    assert fp in trusted_keys(folder=tmp_path / "k").keys      # the private key's public half
    (tmp_path / "k" / "a.ed25519").unlink()
    assert fp in trusted_keys(folder=tmp_path / "k").keys      # ... and the .pub beside it
    assert trusted_keys(folder=tmp_path / "none").keys == {}
    assert TrustStore({}).source(fp) is None


# -- released limits -----------------------------------------------------------------------

def test_the_current_limits_documents_are_released() -> None:
    for model in ("v5", "v5-alpha", "v5-alpha-plus"):
        assert limits_mod.is_released(limits_mod.load_limits(model)), (
            f"{model}: its limits changed; release them in testplans/limits/released.toml")


# docs/reliability.md case "forge-edited-limits"
def test_edited_limits_keep_their_label_but_make_a_development_run_without_certificate(
        tmp_path: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "limits"
    (folder / "eol").mkdir(parents=True)
    for name in ("base.toml", "budget.toml", "v5.toml"):
        (folder / "eol" / name).write_text((limits_mod.LIMITS_DIR / "eol" / name).read_text("utf-8"))
    base = folder / "eol" / "base.toml"
    text = base.read_text("utf-8")
    assert text.count("in1_hold_s = 1.0") == 1
    text = text.replace("in1_hold_s = 1.0", "in1_hold_s = 3600")
    text = text.replace('name = "insulation_mohm"\nstep = "safety"\nunit = "MΩ"\nlow = 10.0',
                        'name = "insulation_mohm"\nstep = "safety"\nunit = "MΩ"\nlow = 0.0')
    base.write_text(text, "utf-8")
    monkeypatch.setattr(limits_mod, "LIMITS_DIR", folder)
    edited = limits_mod.load_limits("v5")
    genuine_version = limits_mod.load_limits("v5", folder=Path(limits_mod.__file__).parent).version
    assert edited.version == genuine_version and not limits_mod.is_released(edited)
    out = tmp_path / "out"
    code, record = run_quietly(out, SERIAL)
    assert record is not None and record.development, (code, record and record.failure)
    assert record.limits.sha256 == edited.sha256
    assert not list(out.glob("*.pdf")), "a development run gets no certificate"
    (js,) = list(out.glob("*_dev*.json"))
    assert "development run" in _problems(js)
    with open_store(None, out) as store:
        assert store.load_record(record.run_id).development


# -- a station file's own key, and `station keys` ---------------------------------------------

def test_station_file_key_signs_and_keys_export_makes_it_trusted(tmp_path: Path, keys: Path) -> None:
    from stations.cli import app

    station = tmp_path / "line" / "station.toml"
    station.parent.mkdir()
    text = (Path(limits_mod.__file__).parents[2] / "stations" / "sim.toml").read_text("utf-8")
    station.write_text(text.replace('id = "SIM-01"\n', 'id = "L1-EOL-07"\nsigning_key = "k/line.ed25519"\n'))
    runner = CliRunner()
    shown = runner.invoke(app, ["keys", "show", "--station", str(station)])
    assert shown.exit_code == 0, shown.output
    key_file = station.parent / "k" / "line.ed25519"
    assert key_file.is_file() and not keys.exists()         # not the key folder's default
    fp = fingerprint(load_or_create(key_file, "L1-EOL-07").public_key())
    assert f"fingerprint  {fp}" in shown.output and str(key_file) in shown.output

    js, pdf = _station_run(tmp_path / "out", station=station)
    assert Record.load(js).signature.key_fingerprint == fp  # type: ignore[union-attr]
    assert f"signed by key {fp}, which is not trusted" in _problems(pdf)   # the folder lacks it
    trust = tmp_path / "trust.txt"
    exported = runner.invoke(app, ["keys", "export", "--station", str(station), "--out", str(trust)])
    assert exported.exit_code == 0, exported.output
    assert trust.read_text().startswith(public_line(load_or_create(key_file, "x").public_key(), "L1-EOL-07"))
    result = verify(pdf, trust=[trust])
    assert result.ok, result.problems
    assert any(f"trusted: trust file {trust}" in c for c in result.checked)


def test_a_key_that_cannot_be_made_leaves_the_record_written_but_unsigned(
        tmp_path: Path, keys: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from fixtures.sinks import JsonSink, Outputs

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    sink = JsonSink(tmp_path, key_file=blocker / "k.ed25519")
    r = make_record(make_serial(74))
    sink.begin(r)
    outputs = Outputs()
    sink.finish(r, outputs)
    assert outputs.record_path is not None and Record.load(outputs.record_path).signature is None
    assert "will not be signed" in capfd.readouterr().err
