"""Translation checks for `make lint` and compilation for `make messages`.

python -m doorstep.core.i18ncheck            fail if a UI string is missing from, or
                                             untranslated in, the zh_Hans catalogue, or if a
                                             compiled .mo is out of date
python -m doorstep.core.i18ncheck --compile  write the .mo files (no msgfmt needed)

UI strings are written in English (the msgids), so English is complete by construction;
zh-Hans, the default language, must translate every one of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

PACKAGE = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
LOCALE = PACKAGE / "locale"
REQUIRED = ["zh_Hans"]


def catalogues() -> list[Path]:
    """The project catalogue plus each app's own (apps added later keep their strings apart)."""
    return sorted(PACKAGE.glob("**/locale/*/LC_MESSAGES/django.po"))


def _locale_dirs() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("**/locale") if p.is_dir())


def compile_all() -> None:
    for po_path in catalogues():
        po = polib.pofile(str(po_path))
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"compiled {po_path.relative_to(PACKAGE)}: {po.percent_translated()}% translated")


def _extracted_msgids(lang: str) -> dict[Path, set[tuple[str | None, str]]]:
    """Run makemessages on a copy of the package; return the msgids per catalogue (relative)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "doorstep"
        shutil.copytree(
            PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static")
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "doorstep.settings"}
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
            cwd=copy,
            env=env,
            check=True,
            capture_output=True,
        )
        found: dict[Path, set[tuple[str | None, str]]] = {}
        for po_path in copy.glob(f"**/locale/{lang}/LC_MESSAGES/django.po"):
            po = polib.pofile(str(po_path))
            found[po_path.relative_to(copy)] = {(e.msgctxt, e.msgid) for e in po if not e.obsolete}
        return found


def check() -> list[str]:
    problems: list[str] = []
    for lang in REQUIRED:
        extracted = _extracted_msgids(lang)
        for rel in sorted(extracted):
            if not (PACKAGE / rel).exists():
                problems.append(f"{rel}: missing; run `make messages`")
        for locale_dir in _locale_dirs():
            po_path = locale_dir / lang / "LC_MESSAGES" / "django.po"
            if po_path.exists():
                problems.extend(_check_one(lang, po_path, extracted))
    return problems


def _check_one(
    lang: str, po_path: Path, extracted: dict[Path, set[tuple[str | None, str]]]
) -> list[str]:
    problems: list[str] = []
    rel = po_path.relative_to(PACKAGE)
    po = polib.pofile(str(po_path))
    for entry in po.untranslated_entries():
        problems.append(f"{rel}: untranslated: {entry.msgid!r}")
    for entry in po.fuzzy_entries():
        problems.append(f"{rel}: fuzzy: {entry.msgid!r}")
    for entry in po.translated_entries():
        # A placeholder the msgid does not have makes Django fall back to the English text
        # (a KeyError while formatting): "Proposed on 2025-10-08." on a Chinese page.
        given = set(PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or "")))
        strs = [entry.msgstr, *entry.msgstr_plural.values()]
        extra = {p for s in strs for p in PLACEHOLDER.findall(s)} - given
        if extra:
            problems.append(f"{rel}: {entry.msgid!r} translated with unknown {sorted(extra)}")
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        problems.append(f"{mo_path}: missing; run `make messages`")
    else:
        mo = polib.mofile(str(mo_path))
        compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
        for e in po.translated_entries():
            if compiled.get((e.msgctxt, e.msgid)) != e.msgstr and not e.msgid_plural:
                problems.append(f"{rel}: .mo out of date for {e.msgid!r}; run `make messages`")
                break
    have = {(e.msgctxt, e.msgid) for e in po if not e.obsolete}
    for _ctxt, msgid in sorted(extracted.get(rel, set()) - have, key=lambda x: x[1]):
        problems.append(f"{rel}: not in the catalogue (run `make messages`): {msgid!r}")
    return problems


def main() -> int:
    if "--compile" in sys.argv:
        compile_all()
        return 0
    problems = check()
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} translation problem(s)")
        return 1
    print("translations complete")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
