"""Shell completion for bash, zsh and fish, generated from the command line's own argument parser
(so every subcommand and option is completed as soon as it exists).

Completed: subcommands, options, the choices of an option, ``.pref`` files for spec arguments,
files and directories elsewhere, and the games (``--game``) and preferences (``--preference``) of
the spec named on the line, which the script asks ``prefc completion --names`` for.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

__all__ = ["Command", "Option", "SHELLS", "commands", "script", "spec_names"]

SHELLS = ("bash", "zsh", "fish")

# What a value is completed with: a fixed list ("words"), .pref files and directories ("pref"),
# any file ("files"), directories ("dirs"), names read from the spec ("games", "preferences"), or
# nothing ("none").
_DIR_METAVARS = re.compile(r"DIR\b|^RESULTS$")
_FILE_METAVARS = ("FILE", "RUBRIC", "DATASET", "INPUT")


@dataclass(frozen=True)
class Option:
    """One option of a subcommand."""

    flags: tuple[str, ...]
    help: str
    takes_value: bool
    kind: str
    words: tuple[str, ...] = ()
    metavar: str = ""
    repeatable: bool = False


@dataclass(frozen=True)
class Positional:
    """One positional argument of a subcommand."""

    name: str
    kind: str
    words: tuple[str, ...] = ()
    many: bool = False
    optional: bool = False


@dataclass(frozen=True)
class Command:
    """A subcommand with what it accepts."""

    name: str
    help: str
    options: tuple[Option, ...]
    positionals: tuple[Positional, ...]


def _kind(action: argparse.Action, *, positional: bool) -> tuple[str, tuple[str, ...]]:
    if action.choices:
        return "words", tuple(str(c) for c in action.choices)
    flags = set(action.option_strings)
    if "--game" in flags:
        return "games", ()
    if "--preference" in flags:
        return "preferences", ()
    if action.type in (int, float):
        return "none", ()
    metavar = str(action.metavar or action.dest).upper()
    if _DIR_METAVARS.search(metavar) or "--model" in flags:
        return "dirs", ()
    if positional and metavar == "FILE":
        return "pref", ()
    if metavar in _FILE_METAVARS or metavar.endswith("_FILE"):
        return "files", ()
    return ("files", ()) if positional else ("none", ())


def commands(parser: argparse.ArgumentParser) -> list[Command]:
    """The subcommands of the ``prefc`` parser, with their options and positionals.

    Args:
        parser: The parser of :func:`prefc.cli.build_parser`.
    """
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    out = []
    for name, p in sub.choices.items():
        options, positionals = [], []
        for action in p._actions:
            if action.help == argparse.SUPPRESS:
                continue
            if action.option_strings:
                kind, words = _kind(action, positional=False)
                options.append(
                    Option(
                        tuple(action.option_strings),
                        _one_line(action.help or ""),
                        action.nargs != 0,
                        kind,
                        words,
                        str(action.metavar or action.dest.upper()),
                        isinstance(action, argparse._AppendAction),
                    )
                )
            else:
                kind, words = _kind(action, positional=True)
                positionals.append(
                    Positional(
                        str(action.metavar or action.dest),
                        kind,
                        words,
                        many=action.nargs in ("+", "*"),
                        optional=action.nargs in ("?", "*"),
                    )
                )
        out.append(Command(name, _one_line(helps.get(name, "")), tuple(options), tuple(positionals)))
    return out


def _one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", text.replace("%%", "%")).strip()
    return re.sub(r"\s*\(default[^)]*%\([a-z_]+\)s[^)]*\)", "", text)


def spec_names(kind: str, spec: str) -> list[str]:
    """The games or preferences a spec declares or imports (nothing when it does not load).

    Args:
        kind: ``games`` or ``preferences``.
        spec: The .pref file.
    """
    from prefc.compiler.check import check_file
    from prefc.compiler.diagnostics import CompileError
    from prefc.compiler.parse import parse_source, read_source

    try:
        checked = check_file(spec)
        return list(checked.games if kind == "games" else checked.preferences)
    except CompileError:
        pass
    try:  # a spec with errors: what its own file declares
        f = parse_source(read_source(spec))
    except CompileError:
        return []
    return [n.name.name for n in (f.games if kind == "games" else f.preferences)]


# ----------------------------------------------------------------------------- bash


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _bash(cmds: list[Command], top_flags: list[str]) -> str:
    cases = []
    for c in cmds:
        values = "\n".join(
            f"                {'|'.join(o.flags)}) _prefc_values {o.kind} {_sh_quote(' '.join(o.words))}; return ;;"
            for o in c.options
            if o.takes_value
        )
        value_flags = " ".join(f for o in c.options if o.takes_value for f in o.flags)
        flags = " ".join(f for o in c.options for f in o.flags)
        pos = " ".join(f"{p.kind}:{','.join(p.words)}{'+' if p.many else ''}" for p in c.positionals)
        cases.append(f"""        {c.name})
            case "$prev" in
{values}
            esac
            if [[ "$cur" == -* ]]; then _prefc_values words {_sh_quote(flags)}; return; fi
            _prefc_positional {_sh_quote(value_flags)} {_sh_quote(pos)}
            ;;""")
    names = " ".join(c.name for c in cmds)
    return f"""# bash completion for prefc (prefc completion bash).
# Load it now: source <(prefc completion bash); for every shell, add that line to ~/.bashrc.

_prefc_spec() {{
    local i
    for ((i = _prefc_start; i < ${{#COMP_WORDS[@]}}; i++)); do
        [[ "${{COMP_WORDS[i]}}" == *.pref && $i -ne $COMP_CWORD ]] && {{ printf '%s\\n' "${{COMP_WORDS[i]}}"; return; }}
    done
}}

_prefc_values() {{
    local kind=$1 words=$2 spec
    case "$kind" in
        words) mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur") ;;
        pref) compopt -o filenames 2>/dev/null
              mapfile -t COMPREPLY < <(compgen -d -- "$cur"; compgen -f -X '!*.pref' -- "$cur") ;;
        files) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
        dirs) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
        games|preferences)
            spec=$(_prefc_spec)
            COMPREPLY=()
            [[ -n "$spec" ]] && mapfile -t COMPREPLY < <(compgen -W \\
                "$("${{COMP_WORDS[0]}}" completion --names "$kind" --spec "$spec" 2>/dev/null)" -- "$cur") ;;
        *) COMPREPLY=() ;;
    esac
}}

# Complete the n-th positional argument: count the words so far that are neither options nor
# the values of options that take one.
_prefc_positional() {{
    local value_flags=" $1 " kinds=($2) i n=0 w
    for ((i = _prefc_start; i < COMP_CWORD; i++)); do
        w=${{COMP_WORDS[i]}}
        if [[ "$w" == -* ]]; then
            [[ "$value_flags" == *" $w "* && "${{COMP_WORDS[i+1]}}" != "=" ]] && ((i++))
            continue
        fi
        [[ "$w" == "=" ]] && {{ ((i++)); continue; }}
        ((n++))
    done
    ((${{#kinds[@]}} == 0)) && {{ COMPREPLY=(); return; }}
    local spec=${{kinds[n]:-}}
    if [[ -z "$spec" ]]; then
        spec=${{kinds[${{#kinds[@]}}-1]}}
        [[ "$spec" == *+ ]] || {{ COMPREPLY=(); return; }}
    fi
    spec=${{spec%+}}
    local words=${{spec#*:}}
    _prefc_values "${{spec%%:*}}" "${{words//,/ }}"
}}

_prefc() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} cmd="" i _prefc_start
    if [[ "$cur" == "=" ]]; then cur=""; prev=${{COMP_WORDS[COMP_CWORD-1]}}
    elif [[ "$prev" == "=" ]]; then prev=${{COMP_WORDS[COMP_CWORD-2]}}; fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ "${{COMP_WORDS[i]}}" != -* ]]; then cmd=${{COMP_WORDS[i]}}; _prefc_start=$((i + 1)); break; fi
    done
    if [[ -z "$cmd" ]]; then
        if [[ "$cur" == -* ]]; then _prefc_values words {_sh_quote(" ".join(top_flags))}
        else _prefc_values words {_sh_quote(names)}; fi
        return
    fi
    case "$cmd" in
{chr(10).join(cases)}
    esac
}}

complete -F _prefc prefc
"""


# ----------------------------------------------------------------------------- zsh


def _zsh_text(text: str) -> str:
    return text.replace("'", "'\\''").replace("[", "(").replace("]", ")").replace(":", "\\:")


def _zsh_action(kind: str, words: tuple[str, ...]) -> str:
    return {
        "words": "(" + " ".join(words) + ")",
        "pref": '_files -g "*.pref"',
        "files": "_files",
        "dirs": "_files -/",
        "games": "_prefc_names games",
        "preferences": "_prefc_names preferences",
        "none": " ",
    }[kind]


def _zsh(cmds: list[Command]) -> str:
    described = "\n".join(f"        {_sh_quote(c.name + ':' + c.help.replace(':', ' -'))}" for c in cmds)
    cases = []
    for c in cmds:
        specs = []
        for o in c.options:
            exclusive = f"({' '.join(o.flags)})" if len(o.flags) > 1 and not o.repeatable else ""
            star = "*" if o.repeatable else ""
            flags = o.flags[0] if len(o.flags) == 1 else "{" + ",".join(o.flags) + "}"
            value = f":{_zsh_text(o.metavar.lower())}:{_zsh_action(o.kind, o.words)}" if o.takes_value else ""
            quoted_help = f"'[{_zsh_text(o.help)}]{value}'"
            head = f"'{star}{exclusive}'" if (star or exclusive) else ""
            specs.append(f"{head}{flags}{quoted_help}")
        for p in c.positionals:
            colons = "::" if p.optional else ":"
            lead = "'*" if p.many else "'"
            specs.append(f"{lead}{colons}{_zsh_text(p.name.lower())}:{_zsh_action(p.kind, p.words)}'")
        body = " \\\n                ".join(specs)
        cases.append(f"            {c.name})\n                _arguments -s {body}\n                ;;")
    return f"""#compdef prefc
# zsh completion for prefc (prefc completion zsh).
# Load it now: source <(prefc completion zsh) (after compinit); or save it as _prefc in a directory
# of $fpath.

_prefc_names() {{
    local spec w
    local -a names
    for w in ${{words[2,-1]}}; do
        [[ $w == *.pref ]] && {{ spec=${{(Q)w}}; break; }}
    done
    [[ -z $spec ]] && return 1
    names=(${{(f)"$($_prefc_bin completion --names $1 --spec $spec 2>/dev/null)"}})
    compadd -a names
}}

_prefc() {{
    local _prefc_bin=${{words[1]}}
    local curcontext=$curcontext state line
    typeset -A opt_args
    _arguments -C '(- *)--version[show the version]' '(- *)'{{-h,--help}}'[show help]' \\
        '1:command:->command' '*::argument:->argument'
    case $state in
        command)
            local -a subcommands
            subcommands=(
{described}
            )
            _describe -t commands 'prefc command' subcommands
            ;;
        argument)
            case $words[1] in
{chr(10).join(cases)}
            esac
            ;;
    esac
}}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _prefc "$@"
else
    compdef _prefc prefc
fi
"""


# ----------------------------------------------------------------------------- fish


def _fish_value(kind: str, words: tuple[str, ...]) -> str:
    return {
        "words": f"-x -a {_sh_quote(' '.join(words))}",
        "pref": "-x -a '(__fish_prefc_specs)'",
        "files": "-r -F",
        "dirs": "-x -a '(__fish_complete_directories (commandline -ct))'",
        "games": "-x -a '(__fish_prefc_names games)'",
        "preferences": "-x -a '(__fish_prefc_names preferences)'",
        "none": "-x",
    }[kind]


def _fish(cmds: list[Command]) -> str:
    lines = [f"complete -c prefc -n __fish_use_subcommand -x -a {c.name} -d {_sh_quote(c.help)}" for c in cmds]
    for c in cmds:
        cond = f"-n '__fish_seen_subcommand_from {c.name}'"
        for o in c.options:
            flags = " ".join(f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}" for f in o.flags)
            value = _fish_value(o.kind, o.words) if o.takes_value else ""
            lines.append(f"complete -c prefc {cond} {flags} {value} -d {_sh_quote(o.help)}".replace("  ", " "))
        for p in c.positionals:
            lines.append(f"complete -c prefc {cond} {_fish_value(p.kind, p.words)}")
    body = "\n".join(lines)
    return f"""# fish completion for prefc (prefc completion fish).
# Load it now: prefc completion fish | source; for every shell, save it as
# ~/.config/fish/completions/prefc.fish.

function __fish_prefc_spec
    for w in (commandline -opc)[3..-1]
        if string match -q -- '*.pref' $w
            echo $w
            return 0
        end
    end
    return 1
end

function __fish_prefc_specs
    for f in (commandline -ct)*
        if test -d $f
            echo $f/
        else if string match -q -- '*.pref' $f
            echo $f
        end
    end
end

function __fish_prefc_names
    set -l spec (__fish_prefc_spec); or return
    set -l cmd (commandline -opc)[1]
    $cmd completion --names $argv[1] --spec $spec 2>/dev/null
end

complete -c prefc -f
complete -c prefc -n __fish_use_subcommand -s h -l help -d 'show help'
complete -c prefc -n __fish_use_subcommand -l version -d 'show the version'
{body}
"""


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for a shell.

    Args:
        shell: ``bash``, ``zsh`` or ``fish``.
        parser: The parser of :func:`prefc.cli.build_parser`.
    """
    cmds = commands(parser)
    if shell == "bash":
        return _bash(cmds, ["-h", "--help", "--version"])
    if shell == "zsh":
        return _zsh(cmds)
    if shell == "fish":
        return _fish(cmds)
    raise ValueError(f"no completion for {shell!r}: choose one of {', '.join(SHELLS)}")
