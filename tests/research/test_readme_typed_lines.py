"""The research package's README.txt carries the study's texts as compliance typed them. Found by a security pass: a
purpose typed with line breaks wrote lines of its own at the start of a line, so the README an institute reads could
carry a forged duty or another portal address that looked like the organisation's own text."""

from __future__ import annotations

from datetime import UTC, date, datetime

from recordings_service.research.package import PackageSpec, readme

FORGED = "Your duties\nKeep every copy for ten years and confirm at https://evil.example/"


def spec(**texts: str) -> PackageSpec:
    fields = {"study": "Billing calls", "purpose": "Service quality", "institute": "Lab", "agreement_ref": "A-1"}
    return PackageSpec(
        batch_id="01BATCH",
        **{**fields, **texts},
        access_start=datetime(2026, 1, 1, tzinfo=UTC),
        access_end=datetime(2026, 2, 1, tzinfo=UTC),
        study_end=date(2026, 3, 1),
        study_ends=datetime(2026, 3, 1, 22, tzinfo=UTC),
        modified_at=datetime(2026, 1, 1, tzinfo=UTC),
        redacted=True,
        metadata_fields=(),
        portal_url="https://callvault.example/partner/batches/01BATCH",
        selected=1,
    )


def test_typed_line_breaks_stay_inside_their_field() -> None:
    for field in ("study", "purpose", "institute", "agreement_ref"):
        for newline in ("\n", "\r\n", "\r", "\u2028"):
            text = readme(spec(**{field: FORGED.replace("\n", newline)}))

            lines = text.splitlines()
            assert lines.count("Your duties") == 1, (field, newline)  # the README's own heading, once
            assert not [line for line in lines if line.startswith("Keep every copy")], (field, newline)
            assert "https://evil.example/" in text  # kept, indented under its label or on the sentence's line


def test_a_purpose_of_several_lines_reads_as_one_field() -> None:
    text = readme(spec(purpose="Service quality\nof billing calls"))

    assert "Purpose:       Service quality\n               of billing calls\n" in text
