"""The Japanese catalog: every message the code marks has a translation, each once,
with the same placeholders as the English text (a wrong one fails at run time)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "pbx_platform/translations/ja/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def japanese():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="ja")


def _ids(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


def test_every_marked_message_has_a_japanese_translation(extracted, japanese):
    missing = []
    for message in extracted:
        if not message.id:
            continue
        found = japanese.get(message.id, message.context)
        strings = found.string if found is not None else None
        if not strings or (isinstance(strings, tuple) and not all(strings)):
            missing.append(_ids(message)[0])
    assert missing == []


def test_each_message_is_defined_once():
    seen, twice = set(), []
    block: list[str] = []
    for line in [*CATALOG.read_text(encoding="utf-8").splitlines(), ""]:
        if line.strip():
            block.append(line)
            continue
        text = "\n".join(block)
        block = []
        ident = re.search(r'^msgid (".*"(?:\n".*")*)', text, re.M)
        context = re.search(r'^msgctxt (".*")', text, re.M)
        if ident is None or (ident.group(1) == '""' and "msgstr" in text and not context):
            continue
        key = (context.group(1) if context else "", ident.group(1))
        if key in seen:
            twice.append(key[1])
        seen.add(key)
    assert twice == []


def test_translations_keep_the_placeholders(japanese):
    wrong = []
    for message in japanese:
        if not message.id or not message.string:
            continue
        ids = _ids(message)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != wanted or "%（" in string:
                wrong.append(ids[0])
    assert wrong == []
