"""Every count a deletion receipt can carry has a name on the receipts page (in each language).

Found by review after a deletion began counting call tags: the receipts page showed the counts by their stored key
where it had no name for one ("calibration_comments: 2" on a Finnish page), as it already did for the calibration
comments a deletion blanks."""

from __future__ import annotations

from recordings_service.privacy.dependent_rows import ROW_KINDS
from web.i18n import RECEIPT_COUNTS


def test_every_row_kind_a_deletion_counts_is_named_on_the_receipts_page() -> None:
    assert [kind for kind in ROW_KINDS if kind not in RECEIPT_COUNTS] == []
