#!/usr/bin/env python3
"""A Dockerfile as the image builder reads it, for tests/dockerfile.rs.

    parse.py PATH

Parses PATH with BuildKit's own Dockerfile parser (the Go parser, embedded by the PyPI
package `dockerfile`) and prints JSON: {"directives": [[name, value]...],
"instructions": [{"keyword", "flags", "words", "json", "line"}...]}. `flags` are the
`--name=value` options; `words` the arguments as the parser splits them (a RUN's
shell-form command is one word; a LABEL's keys and values alternate, their quotes
removed as the builder removes them); `json` whether the exec (JSON array) form was
used; `line` the instruction's first line. A heredoc is refused: nothing here reads one.
"""

from __future__ import annotations

import json
import re
import sys

try:
    import dockerfile
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(f"parse.py needs the PyPI package dockerfile: pip install dockerfile ({e})")

# Parser directives: `# name=value` lines leading the file. The parser skips them as
# comments, so they are read here, by BuildKit's rule: the first other line ends them.
DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")


def directives(path: str) -> list[list[str]]:
    found = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = DIRECTIVE.match(line)
            if not m:
                break
            found.append([m.group(1).lower(), m.group(2)])
    return found


def unquote(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] == '"':
        return word[1:-1]
    return word


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(__doc__)
    path = argv[0]
    instructions = []
    for c in dockerfile.parse_file(path):
        if c.heredocs:
            sys.exit(f"{path}:{c.start_line}: a heredoc; the tests read none")
        keyword = c.cmd.upper()
        words = [unquote(w) for w in c.value] if keyword == "LABEL" else list(c.value)
        instructions.append(
            {"keyword": keyword, "flags": list(c.flags), "words": words, "json": c.json, "line": c.start_line}
        )
    json.dump({"directives": directives(path), "instructions": instructions}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
