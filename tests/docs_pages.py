"""Reading the documentation pages in tests: a page, a section of it, its code blocks and shell examples.

The tests of ``tests/test_docs_*.py`` run the pages' examples against the code, so a page that drifts from
what the code does fails the suite. A heading that a test looks for and cannot find fails it too.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def page(name: str) -> str:
    """The Markdown of ``docs/<name>`` (or of a file at the repository's root, such as ``README.md``)."""
    path = DOCS / name if (DOCS / name).is_file() else ROOT / name
    return path.read_text()


def _lines_outside_code(text: str) -> list[tuple[int, str, bool]]:
    """(offset, line, inside a fenced block) for each line of ``text``."""
    result, offset, fence = [], 0, None
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = line[: len(line) - len(line.lstrip())] + "```"
            result.append((offset, line, True))
        elif fence is not None:
            if line.rstrip("\n") == fence:
                fence = None
            result.append((offset, line, True))
        else:
            result.append((offset, line, False))
        offset += len(line)
    return result


def section(text: str, heading: str) -> str:
    """From the line ``heading`` (such as ``## Path patterns``) to the next heading of its level or above."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = _lines_outside_code(text)
    starts = [offset for offset, line, code in lines if not code and line.rstrip("\n") == heading]
    if not starts:
        raise AssertionError(f"no heading {heading!r} in the page")
    start = starts[0]
    for offset, line, code in lines:
        if offset > start and not code and re.match(rf"#{{1,{level}}} ", line):
            return text[start:offset]
    return text[start:]


def headings(text: str, level: int) -> list[str]:
    return [
        line.rstrip("\n")[level + 1 :]
        for _, line, code in _lines_outside_code(text)
        if not code and re.match(rf"#{{{level}}} ", line)
    ]


def code_blocks(text: str, language: str = "") -> list[str]:
    """The fenced blocks of ``text`` in ``language`` ("" for plain), dedented when inside a list item."""
    blocks: list[str] = []
    fence: tuple[str, str] | None = None  # (indent, language) of the open block
    body: list[str] = []
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if fence is None and stripped.startswith("```"):
            fence, body = (line[: len(line) - len(stripped)], stripped[3:].strip()), []
        elif fence is not None and line == fence[0] + "```":
            if fence[1] == language:
                blocks.append("".join(item[len(fence[0]) :] + "\n" for item in body))
            fence = None
        elif fence is not None:
            body.append(line)
    return blocks


def shell_examples(text: str, language: str = "") -> list[tuple[str, str]]:
    """``$ ...`` lines of the blocks of ``text`` (continued lines joined), each with the output shown below it."""
    examples: list[tuple[str, str]] = []
    for block in code_blocks(text, language):
        lines = block.splitlines(keepends=True)
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if line.startswith("$ "):
                command = line[2:].rstrip("\n")
                while command.endswith("\\") and index < len(lines):
                    command = command[:-1] + lines[index].strip()
                    index += 1
                examples.append((command.strip(), ""))
            elif examples:
                examples[-1] = (examples[-1][0], examples[-1][1] + line)
    return examples


def images(text: str) -> list[str]:
    return re.findall(r"!\[[^\]]+\]\(([^)]+)\)", text)
