"""A hostile or careless user: odd file names, paths that leave the spec's directory, block names
that would overwrite the build, provenance that depends on how a path was typed, numbers and
nesting that no stage can compute with, invisible characters, huge work, broken pipes and bugs.

Every case runs the real command line (:func:`prefc.cli.main`, or the installed ``prefc`` in a
subprocess where the process itself matters) and checks the exit code, the message and that
nothing outside the spec's directory was read or outside the output directory written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prefc.cli import main
from prefc.compiler.check import check_file
from prefc.compiler.diagnostics import CompileError

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
LIBRARY = SPECS / "preferences.pref"
PREFC = Path(sys.executable).with_name("prefc")
SECRET = "TOP-SECRET-LINE do not show"

GAME = """game g {
    players a, b symmetric
    param E = 10
    each player chooses x in {low, high}
    payoff a = if a.x == high then E else 1
}
"""
RUBRIC = "rubric eval for economicus {\n    games g\n    items 2\n}\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def spec_dir(tmp_path: Path, text: str, name: str = "main.pref") -> Path:
    """A spec directory holding ``name`` with ``text`` and a copy of the preference library."""
    directory = tmp_path / "spec"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    shutil.copy(LIBRARY, directory / "preferences.pref")
    return directory


def assert_clean_failure(code: int, err: str, expected_code: str | None = None, exit_code: int = 1) -> None:
    assert code == exit_code, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert "unexpected a " not in err and "unexpected an " not in err, err
    if expected_code:
        assert f"[{expected_code}]" in err, err


# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize("file_name", ["..pref", "...pref", "2024.pref", "+.pref"])
def test_a_file_name_that_gives_no_spec_name_is_refused_and_touches_no_build(file_name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path(file_name).write_text('use "preferences.pref"\n' + GAME + RUBRIC)
    shutil.copy(LIBRARY, "preferences.pref")
    keep = Path("build") / "other" / "manifest.json"
    keep.parent.mkdir(parents=True)
    keep.write_text("{}")
    code, _, err = run(capsys, "compile", file_name, "-o", "build", "--quiet")
    assert_clean_failure(code, err, "E0105")
    assert f"the file name `{file_name}` gives no spec name" in err
    assert sorted(p.relative_to("build").as_posix() for p in Path("build").rglob("*")) == [
        "other",
        "other/manifest.json",
    ]


def test_a_file_name_is_cleaned_into_a_spec_name(tmp_path):
    directory = spec_dir(tmp_path, 'use "preferences.pref"\n' + GAME + RUBRIC, "my-first spec.pref")
    assert check_file(str(directory / "my-first spec.pref")).name == "my_first_spec"


@pytest.mark.parametrize(
    "kind, name, message",
    [
        ("rubric", "manifest", "`manifest` is a reserved name: every build writes `manifest.json`"),
        ("dataset", "solutions", "`solutions` is a reserved name: every build writes `solutions.jsonl`"),
        ("rubric", "Manifest", "`Manifest` is a reserved name"),
    ],
)
def test_reserved_block_names_are_located_errors(kind, name, message, tmp_path, capsys):
    settings = "games g\n    items 2" if kind == "rubric" else "games g\n    samples 2"
    text = f'use "preferences.pref"\n{GAME}{kind} {name} for economicus {{\n    {settings}\n}}\n'
    directory = spec_dir(tmp_path, text)
    code, _, err = run(capsys, "compile", str(directory / "main.pref"), "-o", str(tmp_path / "out"), "--quiet")
    assert_clean_failure(code, err, "E0311")
    assert message in err and f"{directory / 'main.pref'}:8:" in err
    assert not (tmp_path / "out").exists()


def test_block_names_that_differ_only_in_case_are_an_error(tmp_path, capsys):
    text = f'use "preferences.pref"\n{GAME}{RUBRIC}{RUBRIC.replace("eval", "Eval")}'
    code, _, err = run(capsys, "check", str(spec_dir(tmp_path, text) / "main.pref"))
    assert_clean_failure(code, err, "E0311")
    assert "`Eval` and `eval` differ only in case" in err


# ----------------------------------------------------------------------------- what a spec may read


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A .pref file and a plain file outside the spec's directory, both holding a secret line."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.pref").write_text(SECRET + "\n")
    (elsewhere / "secret.txt").write_text(SECRET + "\n")
    return elsewhere


@pytest.mark.parametrize(
    "use, message",
    [
        ("/etc/passwd", "`/etc/passwd` is an absolute path"),
        ("{outside}/secret.pref", "is an absolute path"),
        ("../elsewhere/secret.pref", "`../elsewhere/secret.pref` is outside the spec's directory"),
        ("sub/../../elsewhere/secret.pref", "is outside the spec's directory"),
        ("link.pref", "`link.pref` is a link to a file outside the spec's directory"),
        ("linkdir/secret.pref", "is a link to a file outside the spec's directory"),
        ("notes.txt", "`notes.txt` is not a .pref file"),
        ("folder.pref", "`folder.pref` is not a regular file"),
        ("a" * 300 + ".pref", "the path is 305 characters long; the limit is 240"),
        ("~/secret.pref", "is an absolute path"),
    ],
)
def test_use_reads_only_pref_files_inside_the_spec_tree(use, message, outside, tmp_path, capsys):
    directory = spec_dir(tmp_path, "")
    (directory / "link.pref").symlink_to(outside / "secret.pref")
    (directory / "linkdir").symlink_to(outside, target_is_directory=True)
    (directory / "notes.txt").write_text(SECRET)
    (directory / "folder.pref").mkdir()
    (directory / "sub").mkdir()
    use = use.format(outside=outside)
    (directory / "main.pref").write_text(f'use "{use}"\n' + GAME)
    code, out, err = run(capsys, "check", str(directory / "main.pref"))
    assert_clean_failure(code, err, "E0104")
    assert message in err
    assert SECRET not in err + out


def test_uses_that_stay_inside_the_tree_and_the_library_are_read(tmp_path, capsys):
    directory = spec_dir(tmp_path, "")
    (directory / "lib").mkdir()
    shutil.move(directory / "preferences.pref", directory / "lib" / "prefs.pref")
    (directory / "same.pref").symlink_to(directory / "lib" / "prefs.pref")
    (directory / "main.pref").write_text('use "lib/../same.pref"\n' + GAME + RUBRIC)
    assert run(capsys, "check", str(directory / "main.pref"))[0] == 0
    # with no local file of that name, `use "preferences.pref"` reads the installed library
    (directory / "main.pref").write_text('use "preferences.pref"\nuse "paper.pref"\n' + GAME + RUBRIC)
    spec = check_file(str(directory / "main.pref"))
    assert {"economicus", "moralis"} <= set(spec.preferences) and "trust" in spec.games


def test_a_spec_that_is_not_a_pref_file_is_not_read(outside, capsys):
    code, out, err = run(capsys, "check", str(outside / "secret.txt"))
    assert_clean_failure(code, err, "E0007")
    assert "is not a .pref file" in err and SECRET not in err + out


def test_the_library_is_listed(capsys):
    code, out, _ = run(capsys, "show", "--library", "--json")
    assert code == 0
    listing = json.loads(out)
    names = {e["file"] for e in listing["files"]}
    assert {"preferences.pref", "paper.pref", "pricing.pref", "av_dilemma.pref"} <= names
    prefs = next(e for e in listing["files"] if e["file"] == "preferences.pref")["preferences"]
    assert {"economicus", "moralis", "inequity"} <= set(prefs)


# ----------------------------------------------------------------------------- templates


def template_spec(tmp_path: Path, setting: str) -> Path:
    text = (
        'use "preferences.pref"\n'
        + GAME
        + f'dataset sft for economicus {{\n    games g\n    samples 1\n    template "{setting}"\n}}\n'
    )
    return spec_dir(tmp_path, text) / "main.pref"


@pytest.mark.parametrize(
    "setting, message",
    [
        ("/etc", "template directory `/etc` is an absolute path"),
        ("../elsewhere", "template directory `../elsewhere` is outside the spec's directory"),
        ("tpl_link", "template directory `tpl_link` is a link out of the spec's directory"),
    ],
)
def test_template_directories_outside_the_tree_are_refused(setting, message, outside, tmp_path, capsys):
    main_file = template_spec(tmp_path, setting)
    (main_file.parent / "tpl_link").symlink_to(outside, target_is_directory=True)
    code, _, err = run(capsys, "check", str(main_file))
    assert_clean_failure(code, err, "E0104")
    assert message.replace("template directory `/etc` is an absolute path", "`/etc` is an absolute path") in err


def test_a_template_linked_to_a_file_outside_is_not_read(outside, tmp_path, capsys):
    main_file = template_spec(tmp_path, "tpl")
    tpl = main_file.parent / "tpl"
    tpl.mkdir()
    (tpl / "g.j2").symlink_to(outside / "secret.txt")
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "compile", str(main_file), "-o", str(out_dir), "--quiet")
    assert_clean_failure(code, err)
    assert "`g.j2` is a link to a file outside the template directory" in err
    assert SECRET not in out + err
    assert not out_dir.exists() or not any(SECRET in p.read_text() for p in out_dir.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "body, message",
    [
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "a macro or include calls itself without end"),
        ("{{ 'x' * 1000000000 }}", "sandbox violation"),
        ("{{ 2 ** 100000 }}", "sandbox violation"),
        ("{{ '%0999999d' % 1 }}", "sandbox violation"),
    ],
)
def test_a_template_cannot_recurse_or_build_huge_text(body, message, tmp_path, capsys):
    main_file = template_spec(tmp_path, "tpl")
    (main_file.parent / "tpl").mkdir()
    (main_file.parent / "tpl" / "g.j2").write_text("You play.\n" + body + "\n{{ answer_format }}\n")
    start = time.monotonic()
    code, _, err = run(capsys, "compile", str(main_file), "-o", str(tmp_path / "out"), "--quiet")
    assert_clean_failure(code, err, "E0308")
    assert message in err and "g.j2:" in err
    assert time.monotonic() - start < 60


# ----------------------------------------------------------------------------- provenance


def test_the_spec_hash_does_not_depend_on_how_the_path_is_typed(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    hashes = {
        check_file(p).sha256
        for p in ("specs/paper.pref", "./specs/paper.pref", str(SPECS / "paper.pref"), "specs/../specs/paper.pref")
    }
    assert len(hashes) == 1
    moved = tmp_path / "copy"
    moved.mkdir()
    shutil.copy(SPECS / "paper.pref", moved / "paper.pref")
    shutil.copy(LIBRARY, moved / "preferences.pref")
    monkeypatch.chdir(moved)
    assert check_file("paper.pref").sha256 in hashes  # the content and the name, not the place
    (moved / "paper.pref").write_text((SPECS / "paper.pref").read_text() + "\n# a comment\n")
    assert check_file("paper.pref").sha256 not in hashes


def test_eval_accepts_its_own_rubric_whatever_the_typed_path(tmp_path, capsys, monkeypatch):
    directory = spec_dir(tmp_path, 'spec small\nuse "preferences.pref"\n' + GAME + RUBRIC)
    monkeypatch.chdir(directory.parent)
    assert run(capsys, "compile", "spec/main.pref", "-o", "build", "--quiet")[0] == 0
    for typed in ("./spec/main.pref", str(directory / "main.pref"), "spec//main.pref"):
        code, _, err = run(
            capsys,
            "eval",
            "build/small/eval.jsonl",
            "--agent",
            "theory:economicus",
            "-o",
            str(tmp_path / "results"),
            "--expect-spec",
            typed,
        )
        assert code == 0, err


# ----------------------------------------------------------------------------- the front end never crashes


HOSTILE = [
    ("huge-exponent", "param scale = 1e5000", "E0008"),
    ("huge-literal", "param scale = " + "7" * 5000, "E0008"),
    ("huge-bound", "each player chooses y in [1e999999999, 20]", "E0008"),
    ("tower", "param scale = 2^2^2^2^2^2^2", "E0008"),
    ("huge-split", None, "E0008"),
    ("huge-samples", None, "E0008"),
    ("deep-minus", "param scale = " + "- " * 400 + "1", "E0006"),
    ("deep-not", "let h = if " + "not " * 400 + "1 > 0 then 1 else 0", "E0006"),
    ("long-chain", "param scale = " + " + ".join(["1"] * 20_000), "E0006"),
    ("deep-brackets", "param scale = " + "(" * 300 + "1" + ")" * 300, "E0006"),
    ("sweep-10001", "param scale = 1 vary 0..10000", "E0310"),
    ("long-use", None, "E0104"),
]


@pytest.mark.parametrize("case, line, code", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_numbers_and_nesting_no_stage_can_compute_with_are_diagnostics(case, line, code, tmp_path, capsys):
    text = (
        'use "preferences.pref"\n'
        + GAME.replace("    param E = 10\n", f"    param E = 10\n    {line}\n" if line else "    param E = 10\n")
        + RUBRIC
    )
    if case == "huge-split":
        text += "dataset d for economicus {\n    games g\n    samples 2\n    split train 1e400\n}\n"
    if case == "huge-samples":
        text += "dataset d for economicus {\n    games g\n    samples " + "9" * 5000 + "\n}\n"
    if case == "long-use":
        text = f'use "{"u" * 300}"\n' + text
    start = time.monotonic()
    code_, _, err = run(capsys, "check", str(spec_dir(tmp_path, text) / "main.pref"))
    assert time.monotonic() - start < 10
    assert_clean_failure(code_, err, code)


def test_characters_that_do_not_show_as_themselves_are_named(tmp_path, capsys):
    directory = spec_dir(tmp_path, "")
    cases = {
        "cyrillic": ("param scale = 1 + \u0430", "U+0430 CYRILLIC SMALL LETTER A (it looks like `a`)"),
        "digit": ("param scale = \u0665", "U+0665 ARABIC-INDIC DIGIT FIVE (not an ASCII digit"),
        "bom-inside": ("param scale = 1 \ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE (invisible)"),
        "rlo-in-comment": (
            "param scale = 1  # \u202e gnp.live",
            "text-direction control character U+202E RIGHT-TO-LEFT OVERRIDE",
        ),
        "fullwidth": ("param scale = \uff11", "U+FF11 FULLWIDTH DIGIT ONE (not an ASCII digit"),
    }
    for name, (line, message) in cases.items():
        (directory / "main.pref").write_text(GAME.replace("    param E = 10\n", f"    param E = 10\n    {line}\n"))
        code, _, err = run(capsys, "check", str(directory / "main.pref"))
        assert_clean_failure(code, err, "E0002")
        assert message in err, name
        assert "\ufeff" not in err and "\u202e" not in err  # shown as <U+XXXX>, never as themselves
    (directory / "main.pref").write_text(GAME.replace("    param E = 10\n", "    param E = 10 \ufeff+ x\n"))
    err = run(capsys, "check", str(directory / "main.pref"))[2]
    quoted = next(line for line in err.splitlines() if line.startswith("3 | "))
    caret = err.splitlines()[err.splitlines().index(quoted) + 1]
    assert "<U+FEFF>" in quoted and caret.index("^") == quoted.index("<U+FEFF>")


def test_a_byte_order_mark_at_the_start_is_ignored(tmp_path, capsys):
    directory = spec_dir(tmp_path, "")
    (directory / "main.pref").write_bytes(b"\xef\xbb\xbf" + ('use "preferences.pref"\n' + GAME + RUBRIC).encode())
    assert run(capsys, "check", str(directory / "main.pref"))[0] == 0


@pytest.mark.parametrize(
    "old, new, word",
    [
        ("{low, high}", "{low high}", "unexpected name `high`"),
        ("{low, high}", "{low, 3}", "unexpected number `3`"),
        ("{low, high}", '{low, "x"}', 'unexpected string `"x"`'),
        ("param E = 10", "param E == 10", "unexpected `=`"),
    ],
)
def test_unexpected_tokens_are_named_as_the_reference_names_them(old, new, word, tmp_path, capsys):
    directory = spec_dir(tmp_path, GAME.replace(old, new))
    code, _, err = run(capsys, "check", str(directory / "main.pref"))
    assert_clean_failure(code, err, "E0001")
    assert f"error[E0001]: {word}" in err


# ----------------------------------------------------------------------------- huge work


def big(tmp_path: Path, kind: str) -> Path:
    """A spec that asks for far too much work of one kind."""
    pre = 'use "preferences.pref"\n'
    if kind == "points":
        params = ", ".join(f"p{i} = 1 vary 1..10" for i in range(20))
        game = GAME.replace("param E = 10", f"param E = 10, {params}").replace(
            "then E", "then E + " + " + ".join(f"p{i}" for i in range(20))
        )
        return spec_dir(tmp_path, pre + game + RUBRIC) / "main.pref"
    if kind == "stages":
        moves = "\n".join(
            ("    " if i == 0 else "    then ")
            + f"p{i % 2} chooses m{i} in {{"
            + ", ".join(f"o{i}_{k}" for k in range(10))
            + "}"
            for i in range(12)
        )
        game = f"game g {{\n    players p0, p1\n{moves}\n    payoff p0 = 1\n    payoff p1 = 2\n}}\n"
        return spec_dir(tmp_path, pre + game + RUBRIC) / "main.pref"
    if kind == "exp":
        game = (
            "game g {\n    players dictator, recipient\n    param E = 10\n    dictator chooses give in [0, E]\n"
            "    payoff dictator = E - give + exp(1000 * give)\n    payoff recipient = give\n}\n"
        )
        return spec_dir(tmp_path, pre + game + RUBRIC) / "main.pref"
    if kind == "options":
        game = (
            GAME.replace("param E = 10", "param E = 1000000000")
            .replace("in {low, high}", "in 0..E")
            .replace("if a.x == high then E else 1", "a.x")
        )
        return spec_dir(tmp_path, pre + game + RUBRIC) / "main.pref"
    if kind == "samples":
        return (
            spec_dir(tmp_path, pre + GAME + "dataset d for economicus {\n    games g\n    samples 1000000000\n}\n")
            / "main.pref"
        )
    if kind == "items":
        return spec_dir(tmp_path, pre + GAME + RUBRIC.replace("items 2", "items 1000000000")) / "main.pref"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, message",
    [
        ("points", "game `g` has about 10^20 parameter points; the limit is 100,000"),
        (
            "stages",
            "move sequences to search at one parameter point (12 stages, up to 10 options an action); "
            "the limit is 1,000,000",
        ),
        ("exp", "`exp(...)` reaches e^10,000 here"),
        ("options", "action `x` of game `g` has up to 1,000,000,001 options; the limit is 10,000"),
        ("samples", "this compile writes 1,000,000,000 rows and items; the limit is 1,000,000"),
        ("items", "this compile writes 1,000,000,000 rows and items; the limit is 1,000,000"),
    ],
)
def test_huge_work_is_refused_at_once_with_the_estimate_and_the_limit(kind, message, tmp_path, capsys):
    main_file = big(tmp_path, kind)
    assert run(capsys, "check", str(main_file))[0] == 0  # a valid spec: only the work is too much
    start = time.monotonic()
    code, _, err = run(capsys, "compile", str(main_file), "-o", str(tmp_path / "out"), "--quiet")
    elapsed = time.monotonic() - start
    assert_clean_failure(code, err, "E0501")
    assert message in err and "--allow-large" in err
    assert elapsed < 5, f"refused after {elapsed:.1f} s"
    assert not (tmp_path / "out").exists()
    if kind in ("stages", "exp", "options"):
        game = "g"
        code, _, err = run(capsys, "solve", str(main_file), "--game", game, "--preference", "economicus")
        assert_clean_failure(code, err, "E0501")


def test_allow_large_starts_the_work_anyway(tmp_path, capsys):
    main_file = big(tmp_path, "items").parent / "main.pref"
    main_file.write_text(main_file.read_text().replace("items 1000000000", "items 1000001"))
    code, _, err = run(capsys, "compile", str(main_file), "-o", str(tmp_path / "out"), "--quiet", "--allow-large")
    # past the estimate, the sampler finds that two items exist
    assert code == 1 and "[E0501]" not in err and "1000001 rows asked for, but only" in err


def test_simulate_refuses_a_billion_rounds_at_once(tmp_path, capsys):
    start = time.monotonic()
    code, _, err = run(
        capsys,
        "simulate",
        str(SPECS / "pricing.pref"),
        "--agent",
        "theory:economicus",
        "--agent",
        "theory:economicus",
        "--rounds",
        "1000000000",
        "-o",
        str(tmp_path / "sims"),
    )
    assert_clean_failure(code, err)
    assert "1,000,000,000 rounds asked for; the limit is 100,000" in err and "--allow-large" in err
    assert time.monotonic() - start < 5 and not (tmp_path / "sims").exists()


def test_simulate_refuses_a_billion_rounds_asked_for_by_the_spec(tmp_path, capsys):
    spec = tmp_path / "pricing.pref"
    spec.write_text((SPECS / "pricing.pref").read_text().replace("repeat 300 rounds", "repeat 1000000000 rounds"))
    start = time.monotonic()
    code, _, err = run(
        capsys,
        "simulate",
        str(spec),
        "--agent",
        "theory:economicus",
        "--agent",
        "theory:economicus",
        "-o",
        str(tmp_path / "sims"),
    )
    assert_clean_failure(code, err)
    assert "1,000,000,000 rounds asked for (by game `bertrand`'s `repeat` setting)" in err and "--allow-large" in err
    assert time.monotonic() - start < 5 and not (tmp_path / "sims").exists()
    # an explicit --rounds wins over the spec's setting
    code, _, err = run(
        capsys,
        "simulate",
        str(spec),
        "--agent",
        "theory:economicus",
        "--agent",
        "theory:economicus",
        "--rounds",
        "3",
        "-o",
        str(tmp_path / "sims"),
        "--no-plot",
    )
    assert code == 0, err


def test_the_shipped_specs_are_well_below_every_limit():
    from prefc.compiler import budget
    from prefc.compiler.ir import lower_spec

    for path in sorted(SPECS.glob("*.pref")):
        est = budget.check_spec(lower_spec(check_file(str(path))))
        assert est.solver_steps < budget.LIMITS.solver_steps / 100 and est.rows < budget.LIMITS.rows / 100


# ----------------------------------------------------------------------------- exit codes


def test_usage_errors_exit_2(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("")
    code, _, err = run(capsys, "compile", str(SPECS / "paper.pref"), "-o", str(target), "--quiet")
    assert_clean_failure(code, err, exit_code=2)
    assert "is not a directory" in err and target.read_text() == ""
    code, _, err = run(capsys, "show")
    assert_clean_failure(code, err, exit_code=2)


def test_a_bug_is_an_internal_error_with_its_location_not_a_traceback(capsys, monkeypatch):
    import prefc.compiler.diagnostics

    class Broken(dict):
        def items(self):
            raise ValueError("an invariant does not hold")

    monkeypatch.setattr(prefc.compiler.diagnostics, "CODES", Broken())
    code, _, err = run(capsys, "codes")
    assert code == 70
    assert err.startswith("internal error, please report: ValueError: an invariant does not hold\n")
    assert "\n  at prefc/cli.py:" in err and " in cmd_codes\n" in err  # the line of prefc that met it
    assert "Traceback" not in err
    monkeypatch.setenv("PREFC_TRACEBACK", "1")
    code, _, err = run(capsys, "codes")
    assert code == 70 and "Traceback (most recent call last)" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["codes"],
        ["solve", str(SPECS / "paper.pref"), "--game", "prisoners_dilemma", "--preference", "economicus", "--json"],
        ["check", "--format", "json", str(SPECS / "paper.pref")],
    ],
)
def test_a_closed_pipe_ends_quietly(argv):
    """`prefc ... | head -1` must not print a BrokenPipeError: here the reader has gone before the
    first write, so every write to standard output fails as it does once `head` exits."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [str(PREFC), *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    finally:
        os.close(write_end)
    assert result.stderr == "" and result.returncode == 141


def test_documented_examples_of_generated_codes_are_real(tmp_path, capsys, monkeypatch):
    """E0105, E0501 and E0601 need a file name, a compile or a solve; docs/diagnostics.md shows their real output."""
    from doc_blocks import DIAGNOSTICS, diagnostic_sections, fenced

    monkeypatch.chdir(tmp_path)
    sections = diagnostic_sections()
    blocks = [b.rstrip("\n") for b in fenced(DIAGNOSTICS, "text")]
    Path("2024.pref").write_text("preference economicus = payoff(self)\n")
    assert main(["check", "2024.pref"]) == 1
    err = capsys.readouterr().err.rstrip("\n")
    assert err in blocks and err in sections["E0105"]
    example = next(b for b in fenced(DIAGNOSTICS, "pref") if "vary 1..1000, q = 1 vary 1..1000" in b)
    Path("big.pref").write_text(example)
    assert main(["compile", "big.pref", "-o", "build", "--quiet"]) == 1
    err = capsys.readouterr().err.rstrip("\n")
    assert err in blocks and err in sections["E0501"]
    example = next(b for b in fenced(DIAGNOSTICS, "pref") if "payoff firm[i] = firm[i].price * i" in b)
    Path("index.pref").write_text(example)
    assert main(["solve", "index.pref", "--game", "g", "--preference", "economicus"]) == 1
    err = capsys.readouterr().err.rstrip("\n")
    assert err in blocks and err in sections["E0601"]


def test_compile_error_is_a_spec_error_in_one_hierarchy():
    from prefc.compiler.budget import WorkRefused
    from prefc.compiler.emit.templates import TemplateError
    from prefc.errors import PrefcError, SpecError, UsageError, WorkTooLarge

    assert issubclass(CompileError, SpecError) and issubclass(SpecError, PrefcError)
    assert issubclass(TemplateError, SpecError) and issubclass(WorkRefused, WorkTooLarge)
    assert UsageError("x").exit_code == 2 and SpecError("x").exit_code == 1


INDEX_AS_NUMBER = {
    "helper-argument": "    let w(k) = k / 2\n    payoff firm[i] = firm[i].price * w(i)\n",
    "binder-variable": "    payoff firm[i] = firm[i].price + sum(j in firm: j)\n",
}


@pytest.mark.parametrize("case", sorted(INDEX_AS_NUMBER))
def test_a_member_index_used_as_a_number_is_refused_where_it_is_written(case, tmp_path, capsys):
    text = (
        'use "preferences.pref"\ngame g {\n    players firm[1..2] symmetric\n'
        "    each firm chooses price in [1, 4]\n" + INDEX_AS_NUMBER[case] + "}\n"
    )
    code, _, err = run(
        capsys, "solve", str(spec_dir(tmp_path, text) / "main.pref"), "--game", "g", "--preference", "economicus"
    )
    assert code == 1 and "Traceback" not in err and "internal error" not in err
    assert "error[E0601]" in err and "not a number" in err
    assert "main.pref:5:" in err and "\n5 | " in err  # located at the expression, its line quoted


def test_a_utility_that_is_minus_infinity_on_a_whole_action_set_is_refused_quickly(tmp_path, capsys):
    """Log utility in a trust game: after send = 0 every reply leaves the trustee a payoff of 0,
    log 0 is minus infinity, and no reply can be checked as a best one. The solve is refused with a
    located error that names the cause."""
    spec = tmp_path / "trust.pref"
    spec.write_text(
        'use "preferences.pref"\n'
        "game trust {\n"
        "    players investor, trustee\n"
        "    param E = 10, k = 3\n"
        "    investor chooses send in [0, E]\n"
        "    then trustee chooses back in [0, k * send]\n"
        "    payoff investor = E - send + back\n"
        "    payoff trustee = k * send - back\n"
        "}\n"
    )
    shutil.copy(LIBRARY, tmp_path / "preferences.pref")
    code = main(["solve", str(spec), "--game", "trust", "--preference", "moralis_log"])
    err = capsys.readouterr().err
    assert code == 1
    assert "error[E0601]" in err and "trust.pref:2:6" in err
    assert "`trustee`'s utility is not a finite number" in err and "after (send = 0" in err
    assert "Traceback" not in err
