"""`prefc fmt`: idempotent, comment-keeping, meaning-preserving (byte-identical artefacts), on the
library specs, the docs' examples and randomly respelled specs; and the command's behaviour."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefc.cli import main
from prefc.compiler import ast, pretty
from prefc.compiler.check import check_file
from prefc.compiler.diagnostics import CompileError
from prefc.compiler.emit.build import compile_spec
from prefc.compiler.format import FormatError, format_text, same_tree
from prefc.compiler.parse import parse_text

try:
    from pref_corpus import SPECS, corpus, mutate
except ImportError:  # tests/ imported as a package
    from tests.pref_corpus import SPECS, corpus, mutate

CORPUS = corpus()
IDS = [name for name, _ in CORPUS]


def comments(text: str) -> list[str]:
    found: list[ast.Comment] = []
    parse_text(text, comments=found)
    return [c.text.rstrip() for c in found]


@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_formatting_is_idempotent_and_keeps_meaning_and_comments(text: str) -> None:
    once = format_text(text)
    assert format_text(once) == once
    assert same_tree(parse_text(once), parse_text(text))
    assert comments(once) == comments(text)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_respelled_specs_format_to_one_fixed_point(text: str, seed: int) -> None:
    """Random line breaks, spacing, comments, parentheses and number spellings: the formatted text
    means the original spec, keeps every comment, and does not change when formatted again."""
    mutant = mutate(text, seed)
    assert same_tree(parse_text(mutant), parse_text(text))  # the mutation itself kept the meaning
    once = format_text(mutant)
    assert format_text(once) == once
    assert same_tree(parse_text(once), parse_text(text))
    assert comments(once) == comments(mutant)


COMMENTED = """\
# header

spec  demo   "Demo"   # on the header
use "preferences.pref"
use "other.pref"   # second import
preference a = payoff(self)
preference b = payoff(self)


# about g
game g "G" {   # opens g
    players row, col symmetric
    param T = 5 vary {4, 5},   # temptation
          R = 3,
          # punishment
          P = 1
    each player chooses move in {cooperate, defect}

    # the table
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R   # both cooperate
        cooperate, defect: 0;  defect, cooperate: T
        # bottom
        defect, defect: P
    }
    let x = 1 +   # one
            2
    # last in g
}   # after g
preference d =  # moves up
   payoff(self) * (1 # inside
   + 1)
dataset sft for a, b {  games g samples 4   seed 1 # the seed
    tolerance 0.05
}
# end
"""

COMMENTED_FORMATTED = """\
# header

spec demo "Demo"  # on the header

use "preferences.pref"
use "other.pref"  # second import

preference a = payoff(self)
preference b = payoff(self)

# about g
game g "G" {  # opens g
    players row, col symmetric
    param T = 5 vary {4, 5},  # temptation
          R = 3,
          # punishment
          P = 1
    each player chooses move in {cooperate, defect}

    # the table
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R  # both cooperate
        cooperate, defect: 0
        defect,    cooperate: T
        # bottom
        defect,    defect: P
    }
    let x = 1  # one
        + 2
    # last in g
}  # after g

# moves up
# inside
preference d = payoff(self) * (1 + 1)

dataset sft for a, b {
    games g   samples 4   seed 1  # the seed
    tolerance 0.05
}
# end
"""


def test_the_authoring_docs_example_is_formatted_and_checks(tmp_path: Path) -> None:
    docs = (SPECS[0].parent.parent / "docs" / "authoring.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"^```pref\n(.*?)^```", docs, re.S | re.M)
    assert format_text(example) == example
    (tmp_path / "commented.pref").write_text(example)
    (tmp_path / "preferences.pref").write_text((SPECS[0].parent / "preferences.pref").read_text())
    assert check_file(str(tmp_path / "commented.pref")).name == "commented"


def test_comments_stay_with_what_they_annotate() -> None:
    assert format_text(COMMENTED) == COMMENTED_FORMATTED
    assert format_text(COMMENTED_FORMATTED) == COMMENTED_FORMATTED


def test_layout_rules() -> None:
    text = (
        "game g{players a,b symmetric\n each player chooses x in [0,1]\n"
        "payoff a=a.x\npayoff b   =   b.x*2\n\n\n\nrepeat 10 rounds }\n"
        "rubric r for p(k=0.50,0.25){games g items 3 tolerance 5 %}\n"
    )
    assert format_text(text) == (
        "game g {\n"
        "    players a, b symmetric\n"
        "    each player chooses x in [0, 1]\n"
        "    payoff a = a.x\n"
        "    payoff b = b.x * 2\n"
        "\n"
        "    repeat 10 rounds\n"
        "}\n"
        "\n"
        "rubric r for p(k = 0.5, 0.25) {\n"
        "    games g   items 3   tolerance 5%\n"
        "}\n"
    )


def test_long_lines_break_at_the_sum_and_tables_line_up() -> None:
    long = " + ".join(f"weight_{i} * payoff(self)" for i in range(6))
    out = format_text(f"preference p = {long}\n")
    lines = out.splitlines()
    assert lines[0] == "preference p ="
    assert all(line.startswith("    ") and len(line) <= pretty.WIDTH for line in lines[1:])
    assert [line.split()[0] for line in lines[2:]] == ["+"] * 5


def test_empty_and_comment_only_files() -> None:
    assert format_text("") == ""
    assert format_text("\n\n  # only a comment   \n\n") == "# only a comment\n"


def test_text_that_does_not_parse_is_refused_with_a_located_error() -> None:
    with pytest.raises(CompileError) as exc:
        format_text("game g {\n    payoff a = = 1\n}\n", path="bad.pref")
    diag = exc.value.diagnostics[0]
    assert (diag.code, diag.span.file, diag.span.line) == ("E0001", "bad.pref", 2)


def test_a_result_that_would_change_the_meaning_is_refused(monkeypatch) -> None:
    """The check that guards every write: a printer that loses a sign is caught, not written."""
    monkeypatch.setattr(pretty, "number", lambda v: str(abs(v.numerator)) if v.denominator == 1 else str(float(v)))
    with pytest.raises(FormatError, match="meaning"):
        format_text(
            "game g {\n    players a, b symmetric\n    each player chooses x in [-1, 1]\n    payoff a = a.x\n}\n"
        )


# ----------------------------------------------------------------------------- the printer


@settings(max_examples=300, deadline=None)
@given(st.fractions().filter(lambda f: f.denominator in {2**a * 5**b for a in range(12) for b in range(12)}))
def test_numbers_print_exactly(value: Fraction) -> None:
    text = pretty.number(value)
    assert Fraction(text) == value
    assert text == pretty.number(Fraction(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\n\r\x00", blacklist_categories=("Cs",)), max_size=30))
def test_strings_print_back_to_themselves(value: str) -> None:
    f = parse_text(f"spec s {pretty.string(value)}\n")
    assert f.header is not None and f.header.title == value


# ----------------------------------------------------------------------------- artefacts


def _build(
    directory: Path, texts: dict[str, str], main_file: str, *, samples: int | None = None
) -> tuple[str, dict[str, bytes]]:
    directory.mkdir(parents=True)
    for name, text in texts.items():
        (directory / name).write_text(text, encoding="utf-8")
    spec = check_file(str(directory / main_file))
    compile_spec(spec, str(directory / "build"), samples=samples)
    files = {
        str(p.relative_to(directory / "build")): p.read_bytes()
        for p in sorted((directory / "build").rglob("*"))
        if p.is_file()
    }
    return spec.sha256, files


def assert_same_artefacts(a: tuple[str, dict[str, bytes]], b: tuple[str, dict[str, bytes]]) -> None:
    """Byte-identical, except for the hash of the spec's text (`spec_sha256`, which formatting
    changes by design) and the manifest's file hashes that follow from it."""
    (sha_a, files_a), (sha_b, files_b) = a, b
    assert sha_a != sha_b and files_a.keys() == files_b.keys()
    normal = {k: v.replace(sha_b.encode(), sha_a.encode()) for k, v in files_b.items()}
    for name, data in files_a.items():
        if not name.endswith("manifest.json"):
            assert normal[name] == data, name
            continue
        prefix = name[: -len("manifest.json")]
        manifest = json.loads(normal[name])
        for record in manifest["files"]:
            assert record["sha256"] == hashlib.sha256(files_b[prefix + record["path"]]).hexdigest()
            record["sha256"] = hashlib.sha256(normal[prefix + record["path"]]).hexdigest()
        assert manifest == json.loads(data)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_a_formatted_library_spec_compiles_to_the_same_artefacts(spec: Path, tmp_path: Path) -> None:
    """Every library spec and the library it imports, formatted, against the original (rubrics cut
    to 6 items and datasets to 12 rows per preference to keep the test short)."""
    texts = {p.name: re.sub(r"\bitems \d+", "items 6", p.read_text(encoding="utf-8")) for p in SPECS}
    original = _build(tmp_path / "original", texts, spec.name, samples=12)
    formatted = _build(tmp_path / "formatted", {n: format_text(t) for n, t in texts.items()}, spec.name, samples=12)
    assert_same_artefacts(original, formatted)


FIRST = next(t for name, t in CORPUS if t.lstrip().startswith('spec first "A first spec"'))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_respelled_spec_compiles_to_the_same_artefacts_once_formatted(seed: int, tmp_path: Path) -> None:
    library = {"preferences.pref": (SPECS[0].parent / "preferences.pref").read_text(encoding="utf-8")}
    mutant = mutate(FIRST, seed, edits=40)
    assert mutant != FIRST
    respelled = _build(tmp_path / "respelled", {**library, "first.pref": mutant}, "first.pref")
    formatted = _build(tmp_path / "formatted", {**library, "first.pref": format_text(mutant)}, "first.pref")
    assert_same_artefacts(respelled, formatted)


# ----------------------------------------------------------------------------- the command


UGLY = "game g{players a,b symmetric\neach player chooses x in [0,1]\npayoff a=a.x  # mine\n}\n"
PRETTY = "game g {\n    players a, b symmetric\n    each player chooses x in [0, 1]\n    payoff a = a.x  # mine\n}\n"


def test_fmt_rewrites_in_place_atomically_keeping_permissions(tmp_path: Path, capsys) -> None:
    path = tmp_path / "g.pref"
    path.write_text(UGLY)
    path.chmod(0o640)
    tidy = tmp_path / "tidy.pref"
    tidy.write_text(PRETTY)
    before = tidy.stat().st_mtime_ns
    assert main(["fmt", str(path), str(tidy)]) == 0
    assert path.read_text() == PRETTY
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert tidy.stat().st_mtime_ns == before  # an unchanged file is not rewritten
    err = capsys.readouterr().err
    assert f"reformatted {path}" in err and "1 file reformatted, 1 unchanged" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pref", "tidy.pref"]  # no temporary left
    assert main(["fmt", str(path)]) == 0 and path.read_text() == PRETTY


def test_fmt_check_and_diff_write_nothing(tmp_path: Path, capsys) -> None:
    path = tmp_path / "g.pref"
    path.write_text(UGLY)
    assert main(["fmt", "--check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert path.read_text() == UGLY
    assert f"--- {path}\n+++ {path} (formatted)" in out and "+    payoff a = a.x  # mine" in out
    assert f"would reformat {path}" in err
    assert main(["fmt", "--diff", str(path)]) == 0
    assert "-payoff a=a.x  # mine" in capsys.readouterr().out and path.read_text() == UGLY
    path.write_text(PRETTY)
    assert main(["fmt", "--check", str(path)]) == 0
    assert capsys.readouterr().out == ""


def test_fmt_refuses_a_file_that_does_not_parse_and_goes_on(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.pref"
    bad.write_text("game g {\n    payoff a = = 1\n}\n")
    good = tmp_path / "good.pref"
    good.write_text(UGLY)
    assert main(["fmt", str(bad), str(good)]) == 1
    err = capsys.readouterr().err
    assert "error[E0001]" in err and f"{bad}:2:16" in err and f"{bad} does not parse; left as it was" in err
    assert bad.read_text() == "game g {\n    payoff a = = 1\n}\n"
    assert good.read_text() == PRETTY
    assert main(["fmt", str(tmp_path / "missing.pref")]) == 1
    assert "error[E0007]" in capsys.readouterr().err


def test_fmt_reads_stdin_and_writes_stdout(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(UGLY.encode())))
    assert main(["fmt", "-"]) == 0
    out, err = capsys.readouterr()
    assert out == PRETTY and err == ""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"game g {\n")))
    assert main(["fmt", "-"]) == 1
    assert "<stdin>:1" in capsys.readouterr().err


def test_fmt_formats_the_pref_files_of_a_directory_and_keeps_crlf(tmp_path: Path, capsys) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.pref").write_bytes(UGLY.replace("\n", "\r\n").encode())
    (tmp_path / "notes.txt").write_text(UGLY)
    assert main(["fmt", str(tmp_path)]) == 0
    assert (tmp_path / "sub" / "a.pref").read_bytes() == PRETTY.replace("\n", "\r\n").encode()
    assert (tmp_path / "notes.txt").read_text() == UGLY
    capsys.readouterr()
    assert main(["fmt", "--check", str(tmp_path)]) == 0


def test_fmt_json(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.pref").write_text(UGLY)
    (tmp_path / "b.pref").write_text("game {\n")
    assert main(["fmt", "--check", "--json", str(tmp_path)]) == 1
    records = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in records] == ["changed", "error"]
    assert records[0]["diff"].startswith(f"--- {tmp_path / 'a.pref'}")
    assert records[1]["diagnostics"][0]["code"] == "E0001"


def test_fmt_reports_a_file_it_cannot_write_and_leaves_no_temporary(tmp_path: Path, capsys, monkeypatch) -> None:
    """The rename that replaces the file fails (as it would on a read-only directory, which root
    here does not have): the error is reported, the file and its directory stay as they were."""
    path = tmp_path / "g.pref"
    path.write_text(UGLY)

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("prefc.commands.authoring.os.replace", refuse)
    assert main(["fmt", str(path)]) == 1
    assert f"cannot write {path}: Permission denied" in capsys.readouterr().err
    assert path.read_text() == UGLY and [p.name for p in tmp_path.iterdir()] == ["g.pref"]


def test_a_layout_failure_is_an_internal_error_and_writes_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "g.pref"
    path.write_text(UGLY)
    monkeypatch.setattr(pretty, "move", lambda m: {}["a statement the printer does not know"])
    assert main(["fmt", str(path)]) == 70
    err = capsys.readouterr().err
    assert err.startswith(f"internal error: {path}: cannot lay out the file (KeyError") and "left as it was" in err
    assert path.read_text() == UGLY


def test_fmt_follows_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    real = tmp_path / "real.pref"
    real.write_text(UGLY)
    link = tmp_path / "link.pref"
    os.symlink(real, link)
    assert main(["fmt", str(link)]) == 0
    assert link.is_symlink() and real.read_text() == PRETTY
