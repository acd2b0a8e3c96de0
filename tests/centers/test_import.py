"""CSV import of centers: doorstep import-centers FILE.csv (docs/import.md)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from doorstep.centers.importing import ImportFileError, import_centers
from doorstep.centers.models import Center, OpeningHours
from doorstep.centers.vocab import Kind, Level, Precision, Source

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The assertions below read messages in English; the default language is zh-hans."""
    with translation.override("en"):
        yield


HEADER = [
    "key",
    "name",
    "aliases",
    "kind",
    "level",
    "district",
    "subdistrict",
    "themes",
    "facilities",
    "address",
    "lat",
    "lng",
    "precision",
    "phone",
    "hours",
    "description",
    "floor_area_m2",
    "opened_on",
]

GOOD_ROWS = [
    {
        "key": "cn-hq-1",
        "name": "长宁区虹桥街道社区党群服务中心",
        "aliases": "虹桥家门口服务中心；虹桥街道党群中心",
        "kind": "center",
        "level": "Subdistrict",
        "district": "长宁区",
        "subdistrict": "虹桥街道",
        "themes": "deliberation;ELDERLY",
        "facilities": "restroom; drinking_water;reading_room",
        "address": "长宁区古北路 1 号",
        "lat": "31.196",
        "lng": "121.405",
        "precision": "street",
        "phone": "021-00000000",
        "hours": "mon-fri 08:30-20:30; sat,sun 09:00-17:00",
        "description": "示例",
        "floor_area_m2": "1200",
        "opened_on": "2021-07-01",
    },
    {
        # Codes instead of names, no location (falls back to the subdistrict / district point).
        "key": "pd-2",
        "name": "陆家嘴第一居民区党群服务站",
        "level": "residential",
        "district": "310115",
        "subdistrict": "310115005",
        "hours": "24h",
    },
    {
        "key": "pd-3",
        "name": "浦东新区党群服务点",
        "district": "浦东新区",
    },
]


def write_csv(
    path: Path, rows: list[dict[str, str]], *, header: list[str] = HEADER, bom: bool = False
) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    return path


def snapshot() -> list[tuple]:
    return list(
        Center.objects.order_by("external_key").values_list(
            "external_key", "name", "updated_at", "lat", "lng", "themes", "facilities"
        )
    )


def test_good_file_imports(regions, tmp_path):
    path = write_csv(tmp_path / "centers.csv", GOOD_ROWS)

    result = import_centers(path)

    assert result.committed
    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    hq = Center.objects.get(external_key="import:cn-hq-1")
    assert hq.name == "长宁区虹桥街道社区党群服务中心"
    assert hq.aliases == ["虹桥家门口服务中心", "虹桥街道党群中心"]
    assert hq.district.name == "长宁区"
    assert hq.subdistrict is not None and hq.subdistrict.name == "虹桥街道"
    assert hq.themes == ["deliberation", "elderly"]  # codes are case-insensitive
    assert hq.level == Level.SUBDISTRICT
    assert sorted(hq.facilities) == ["drinking_water", "reading_room", "restroom"]
    assert (hq.lat, hq.lng, hq.location_precision) == (31.196, 121.405, Precision.STREET)
    assert hq.floor_area_m2 == 1200
    assert hq.opened_on == date(2021, 7, 1)
    assert hq.source == Source.IMPORT
    assert hq.source_detail == "centers.csv line 2"
    assert hq.hours.count() == 7
    assert hq.theme_mask and hq.search_name  # derived fields were computed

    pd2 = Center.objects.get(external_key="import:pd-2")
    assert pd2.district.code == "310115"
    assert pd2.subdistrict is not None and pd2.subdistrict.name == "陆家嘴街道"
    assert pd2.kind == Kind.STATION  # from the name's ending
    assert pd2.location_precision in (Precision.SUBDISTRICT, Precision.DISTRICT)
    assert pd2.source_detail == "centers.csv line 3"
    assert OpeningHours.objects.filter(center=pd2).count() == 7

    pd3 = Center.objects.get(external_key="import:pd-3")
    assert pd3.level == Level.OTHER
    assert pd3.kind == Kind.POINT
    assert pd3.subdistrict is None


def test_importing_again_changes_nothing(regions, tmp_path):
    path = write_csv(tmp_path / "centers.csv", GOOD_ROWS)
    import_centers(path)
    before = snapshot()
    hours_before = OpeningHours.objects.count()

    result = import_centers(path)

    assert result.committed
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert snapshot() == before
    assert OpeningHours.objects.count() == hours_before


def test_changed_row_updates_in_place(regions, tmp_path):
    path = write_csv(tmp_path / "centers.csv", GOOD_ROWS)
    import_centers(path)
    changed = [dict(GOOD_ROWS[0], name="长宁区虹桥街道党群服务中心", hours="daily 09:00-17:00")]
    changed += GOOD_ROWS[1:]

    result = import_centers(write_csv(path, changed))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    hq = Center.objects.get(external_key="import:cn-hq-1")
    assert hq.name == "长宁区虹桥街道党群服务中心"
    assert set(hq.hours.values_list("open_minute", flat=True)) == {540}
    assert Center.objects.count() == 3


BAD_ROWS: list[tuple[dict[str, str], str]] = [
    ({"key": "b1", "name": "甲", "district": "长宁区", "lat": "31.2x", "lng": "121.4"}, "31.2x"),
    ({"key": "b2", "name": "乙", "district": "长宁区", "lat": "200", "lng": "121.4"}, "200"),
    ({"key": "b3", "name": "丙", "district": "长宁区", "themes": "elderly;karaoke"}, "karaoke"),
    ({"key": "b4", "name": "丁", "district": "火星区"}, "火星区"),
    ({"key": "b5", "name": "戊", "district": "长宁区", "subdistrict": "陆家嘴街道"}, "浦东新区"),
    ({"key": "b6", "name": "  ", "district": "长宁区"}, "name"),
    ({"key": "b7", "name": "长" * 300, "district": "长宁区"}, "120"),
    ({"key": "b8", "name": "己", "district": "长宁区", "hours": "mon-fri 9-5"}, "hours"),
    ({"key": "b9", "name": "庚", "district": "长宁区", "opened_on": "2021-02-30"}, "2021-02-30"),
    ({"key": "b10", "name": "辛", "district": "长宁区", "floor_area_m2": "12.5"}, "12.5"),
    ({"key": "cn-hq-1", "name": "壬", "district": "长宁区"}, "line 2"),  # duplicate key
    ({"key": "", "name": "癸", "district": "长宁区"}, "key"),
    ({"key": "b13", "name": "子", "district": "长宁区", "level": "palace"}, "palace"),
    ({"key": "b14", "name": "丑", "district": "长宁区", "facilities": "sauna"}, "sauna"),
]


def mixed_rows() -> list[dict[str, str]]:
    """Good rows on lines 2-4, then each bad row (lines 5 onwards)."""
    return GOOD_ROWS + [row for row, _fragment in BAD_ROWS]


def test_bad_rows_are_each_reported_and_nothing_is_imported(regions, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", mixed_rows())

    result = import_centers(path)

    assert not result.committed
    assert Center.objects.count() == 0
    assert OpeningHours.objects.count() == 0
    assert [e.line for e in result.errors] == list(range(5, 5 + len(BAD_ROWS)))
    for error, (_row, fragment) in zip(result.errors, BAD_ROWS, strict=True):
        assert fragment in error.reason, (error.line, error.reason)
    reasons = [e.reason for e in result.errors]
    assert len(set(reasons)) == len(reasons)  # each says what is wrong with its own row
    assert result.valid == len(GOOD_ROWS)


def test_bad_file_leaves_existing_centers_alone(regions, tmp_path):
    import_centers(write_csv(tmp_path / "good.csv", GOOD_ROWS))
    before = snapshot()
    changed = [dict(GOOD_ROWS[0], name="改名")] + GOOD_ROWS[1:] + [BAD_ROWS[0][0]]

    result = import_centers(write_csv(tmp_path / "bad.csv", changed))

    assert not result.committed
    assert snapshot() == before


def test_skip_invalid_imports_the_good_rows_only(regions, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", mixed_rows())

    result = import_centers(path, skip_invalid=True)

    assert result.committed
    assert result.created == len(GOOD_ROWS)
    assert len(result.errors) == len(BAD_ROWS)
    assert sorted(Center.objects.values_list("external_key", flat=True)) == sorted(
        "import:" + r["key"] for r in GOOD_ROWS
    )


def test_unknown_and_missing_columns_are_named(regions, tmp_path):
    header = ["key", "name", "colour", "Rating"]
    path = write_csv(tmp_path / "odd.csv", [{"key": "a", "name": "甲"}], header=header)

    with pytest.raises(ImportFileError) as info:
        import_centers(path)

    message = str(info.value.message)
    assert "colour" in message and "rating" in message
    assert "district" in message  # the missing required column
    assert info.value.line == 1
    assert Center.objects.count() == 0


def test_wrong_number_of_fields_is_a_row_error(regions, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("key,name,district\na,甲,长宁区\nb,乙\nc,丙,长宁区,extra\n", encoding="utf-8")

    result = import_centers(path)

    assert [e.line for e in result.errors] == [3, 4]
    assert not result.committed


def test_bom_and_chinese_separators(regions, tmp_path):
    path = write_csv(tmp_path / "bom.csv", GOOD_ROWS, bom=True)

    result = import_centers(path)

    assert result.errors == []
    assert result.created == 3
    assert Center.objects.get(external_key="import:cn-hq-1").aliases[0] == "虹桥家门口服务中心"


def test_line_numbers_count_blank_lines_and_multiline_cells(regions, tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(
        'key,name,district,description\n\na,甲,长宁区,"two\nlines"\nb,,长宁区,\n',
        encoding="utf-8",
    )

    result = import_centers(path)

    assert [e.line for e in result.errors] == [5]


def test_not_utf8_is_a_file_error(regions, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("key,name,district\na,长宁中心,长宁区\n".encode("gbk"))

    with pytest.raises(ImportFileError, match="UTF-8"):
        import_centers(path)


def test_command_imports_and_reports_counts(regions, tmp_path):
    path = write_csv(tmp_path / "centers.csv", GOOD_ROWS)
    out, err = io.StringIO(), io.StringIO()

    call_command("import-centers", str(path), stdout=out, stderr=err)
    call_command("import-centers", str(path), stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    assert "created 3" in lines[0] and "invalid 0" in lines[0]
    assert "created 0" in lines[1] and "unchanged 3" in lines[1]
    assert err.getvalue() == ""


def test_command_fails_on_bad_rows_and_prints_them(regions, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", mixed_rows())
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="--skip-invalid"):
        call_command("import-centers", str(path), stdout=out, stderr=err)

    printed = err.getvalue().splitlines()
    assert [line.split(":", 1)[0] for line in printed] == [
        f"line {n}" for n in range(5, 5 + len(BAD_ROWS))
    ]
    assert "火星区" in printed[3]
    assert f"invalid {len(BAD_ROWS)}" in out.getvalue()
    assert Center.objects.count() == 0


def test_command_skip_invalid_succeeds(regions, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", mixed_rows())
    out, err = io.StringIO(), io.StringIO()

    call_command("import-centers", str(path), "--skip-invalid", stdout=out, stderr=err)

    assert f"created {len(GOOD_ROWS)}" in out.getvalue()
    assert len(err.getvalue().splitlines()) == len(BAD_ROWS)
    assert Center.objects.count() == len(GOOD_ROWS)


def test_command_fails_when_every_row_is_bad_even_with_skip_invalid(regions, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [BAD_ROWS[0][0]])

    with pytest.raises(CommandError):
        call_command(
            "import-centers",
            str(path),
            "--skip-invalid",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


def test_command_reports_header_errors_and_missing_files(regions, tmp_path):
    path = write_csv(tmp_path / "odd.csv", [], header=["key", "name", "district", "colour"])

    with pytest.raises(CommandError, match=r"line 1: .*colour"):
        call_command("import-centers", str(path))
    with pytest.raises(CommandError, match="nope.csv"):
        call_command("import-centers", str(tmp_path / "nope.csv"))


def test_command_dry_run_stores_nothing(regions, tmp_path):
    path = write_csv(tmp_path / "centers.csv", GOOD_ROWS)
    out = io.StringIO()

    call_command("import-centers", str(path), "--dry-run", stdout=out)

    assert "would create 3" in out.getvalue()
    assert Center.objects.count() == 0


def test_the_example_in_the_docs_imports(regions, tmp_path):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text(encoding="utf-8")
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.csv"
    path.write_text(example, encoding="utf-8")

    result = import_centers(path)

    assert result.errors == []
    assert result.created == 3
    pd3 = Center.objects.get(external_key="import:pd-3")
    assert (pd3.level, pd3.kind) == (Level.OTHER, Kind.POINT)
