"""Reading the runbooks as a list of commands, mapping their paths and hosts onto a test folder, and the transcript.

Used by tests/test_runbook_walk.py, which walks docs/runbook-operator.md and docs/runbook-branch-office.md for
real. The runbooks are read at run time, so the walk follows their edits.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Mapping", "RunbookCommand", "Transcript", "find_line", "listed_commands", "section_commands"]

# First words of the shell commands a runbook names (code spans and fenced blocks).
PROGRAMS = ("kiosk-central", "kiosk-card-seed.sh", "systemctl", "sudo", "xzcat", "journalctl", "chown")
SHOWN = 6  # output lines a transcript entry keeps
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", flags=re.S | re.M)


@dataclass(frozen=True)
class RunbookCommand:
    """One command as a runbook writes it, with where it stands."""

    runbook: str
    line: int
    section: str
    text: str

    @property
    def where(self) -> str:
        """`docs/runbook-x.md:LINE`."""
        return f"docs/{self.runbook}:{self.line}"

    @property
    def words(self) -> list[str]:
        """The command split as a shell would (comments dropped)."""
        return shlex.split(self.text.replace("$(pidof mosquitto)", "PIDOF_MOSQUITTO"), comments=True)

    @property
    def is_mention(self) -> bool:
        """A command only named in prose (`kiosk-central serve`) or written with placeholders (`<broker dir>`, `…`)."""
        words = self.words
        placeholder = any(mark in " ".join(words) for mark in ("<", "…", "..."))
        subcommands = [w for w in words[1:] if not w.startswith("-")]
        bare = words[0] == "kiosk-central" and len(words) <= 3 and len(subcommands) == len(words) - 1
        return placeholder or bare


def _sections(text: str) -> list[tuple[int, str]]:
    """(offset, heading) of every `## ` heading."""
    return [(m.start(), m.group(1).strip()) for m in re.finditer(r"^## (.+)$", text, flags=re.M)]


def section_commands(path: Path, wanted: tuple[str, ...]) -> list[RunbookCommand]:
    """Every command of the `## ` sections whose heading starts with one of `wanted`, in document order.

    Fenced lines (continued with `\\`) and code spans count when their first word is a known program.
    """
    text = path.read_text(encoding="utf-8")
    heads = _sections(text)
    found: list[tuple[int, str, str]] = []
    for index, (start, heading) in enumerate(heads):
        if not heading.startswith(wanted):
            continue
        end = heads[index + 1][0] if index + 1 < len(heads) else len(text)
        body = text[start:end]
        for block in _FENCE.finditer(body):
            offset, pending, pending_at = start + block.start(1), "", 0
            for line in block.group(1).splitlines(keepends=True):
                pending_at = pending_at if pending else offset
                offset += len(line)
                if line.rstrip().endswith("\\"):
                    pending += line.rstrip()[:-1] + " "
                    continue
                found.append((pending_at, heading, " ".join((pending + line).split())))
                pending = ""
        blanked = _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), body)
        for span in re.finditer(r"`([^`]+)`", blanked):
            found.append((start + span.start(1), heading, " ".join(span.group(1).split())))
    commands = []
    for offset, heading, command in sorted(found):
        if command.split(" ", 1)[0] in PROGRAMS:
            line = text.count("\n", 0, offset) + 1
            commands.append(RunbookCommand(path.name, line, heading, command))
    return commands


def find_line(path: Path, phrase: str) -> int:
    """Line number of the first line holding `phrase`; AssertionError naming the phrase when the runbook lost it."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if phrase in line:
            return number
    raise AssertionError(f"docs/{path.name} no longer says {phrase!r}: update tests/test_runbook_walk.py")


@dataclass
class Mapping:
    """Where the runbook's absolute paths, host names and ports point in the test.

    Every absolute path `/x/y` becomes `<root>/x/y`; host names become 127.0.0.1 and their documented ports
    the test's free ports.
    """

    root: Path
    urls: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)

    def path(self, documented: str) -> Path:
        """The test's place for a documented absolute path."""
        return self.root / documented.lstrip("/")

    def word(self, word: str) -> str:
        """One argument as the test runs it."""
        if word in self.words:
            return self.words[word]
        for documented, real in self.urls.items():
            word = word.replace(documented, real)
        if word.endswith(".city.example"):
            return "127.0.0.1"
        if word.startswith("/"):
            return str(self.path(word))
        return word

    def argv(self, command: RunbookCommand) -> list[str]:
        """The command's words as the test runs them (program name kept)."""
        return [self.word(w) for w in command.words]


@dataclass
class Transcript:
    """The walk as it happened, written to docs/runbook-walkthrough.md on request."""

    root: Path
    entries: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def clean(self, text: str) -> str:
        """`text` with the walk folder as `$WALK` and the secrets hidden."""
        text = text.replace(str(self.root), "$WALK")
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text

    def heading(self, title: str) -> None:
        """Start a part of the walk."""
        self.entries.append(f"\n## {title}\n")

    def ran(self, where: str, written: str, argv: list[str], code: int, output: str, check: str = "") -> None:
        """A command that ran: the runbook's text, what ran, its exit status, its output (trimmed), the check."""
        lines = [line for line in self.clean(output).strip().splitlines() if line.strip()]
        shown = lines[:SHOWN] + ([f"… ({len(lines) - SHOWN} more lines)"] if len(lines) > SHOWN else [])
        label = "runbook" if written.split(" ", 1)[0] in PROGRAMS else "step"
        self.entries.append(
            f"- `{where}` — {label}: `{written}`\n"
            f"  - ran: `{self.clean(shlex.join(argv))}` → exit {code}\n"
            + ("".join(f"    > {line}\n" for line in shown) if shown else "")
            + (f"  - checked: {self.clean(check)}\n" if check else "")
        )

    def note(self, where: str, text: str) -> None:
        """A step that stood in for a physical one, or a command that was not run, and why."""
        self.entries.append(f"- `{where}` — {self.clean(text)}\n")

    def skipped(self, command: RunbookCommand, reason: str) -> None:
        """A runbook command the walk does not run, and why."""
        self.entries.append(f"- `{command.where}` — not run: `{command.text}` — {self.clean(reason)}\n")

    def render(self, intro: str) -> str:
        """The whole transcript as Markdown."""
        return intro + "".join(self.entries)


def listed_commands(transcript: str) -> list[str]:
    """The runbook commands (as written) a transcript lists, run or not, in order."""
    found = re.findall(r"— (?:runbook|not run): `(.+?)`(?: — |$)", transcript, flags=re.M)
    return [text for text in found if text.split(" ", 1)[0] in PROGRAMS]
