"""The certificate's QR code: qrcode's own symbol, its mask chosen in one numpy pass."""

from __future__ import annotations

import random
import string

import numpy as np
import pytest
import qrcode
import qrcode.util

from reports.qrmask import _Layout, lost_point, qr_matrix


def _qrcode_make(payload: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr


def _payloads(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + ";=-"
    return ["".join(rng.choice(alphabet) for _ in range(rng.choice((1, 9, 40, 119, 180, 300))))
            for _ in range(count)]


def test_the_symbol_is_qrcodes_own_for_payloads_of_every_version_a_certificate_needs() -> None:
    payloads = _payloads(7, 120)
    versions = {_qrcode_make(p).version for p in payloads}
    assert min(versions) <= 2 and max(versions) >= 10   # from small to past 7 (version info)
    for p in payloads:
        assert qr_matrix(p) == _qrcode_make(p).get_matrix(), p


@pytest.mark.parametrize("payload", _payloads(11, 6))
def test_each_masks_score_is_qrcodes_lost_point(payload: str) -> None:
    qr = _Layout(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(payload)
    qr.best_fit()
    for mask in range(8):
        qr.makeImpl(True, mask)
        assert lost_point(np.array(qr.modules, dtype=bool)) == qrcode.util.lost_point(qr.modules)
