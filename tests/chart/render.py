#!/usr/bin/env python3
"""Real Helm (v4, embedded by the PyPI package helm-python-sdk) for the chart tests.

    render.py lint CHART [--values FILE]... [--kube-version V]
    render.py template CHART [--values FILE]... [--name N] [--namespace NS]
                             [--output json|yaml]

lint runs `helm lint --strict` and prints {"messages": [{"severity", "path", "error"}],
"errors": [...]} as JSON; it exits 1 when any message is a warning or an error (strict
makes warnings fail, as `helm lint --strict` does) or the lint itself failed.

template renders like `helm template` (no cluster; `crds/` left out, as without
--include-crds). With --output json (the default) stdout is a JSON array of the rendered
Kubernetes objects, in template order then document order, each object as rendered with
one key added at the top level: "__template", the template's path inside the chart
(e.g. "govcloud/templates/deployment.yaml"). Empty documents and NOTES.txt are left out.
With --output yaml stdout is the rendered text exactly as Helm produced it, each
template's documents after a `---` and a `# Source: PATH` line, as `helm template`
prints it: that is the text to give yamllint.

Several --values files merge like Helm's -f: later files win, maps merge key by key.
Values that break values.schema.json, or a template's `fail`, exit 1 with Helm's
message on stderr and nothing on stdout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

try:
    import helm_python
    import yaml
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(f"render.py needs helm-python-sdk and PyYAML: pip install helm-python-sdk pyyaml ({e})")

KUBE_VERSION = "v1.33.0"
NOTES = "/templates/NOTES.txt"
# Helm's own document separator (releaseutil.SplitManifests).
SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def merge(base: dict, override: dict) -> dict:
    """Helm's merge of successive -f files: maps merge recursively, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def read_values(files: list[str]) -> dict:
    values: dict = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # Helm's own parser, so that what Helm would refuse is refused here.
        values = merge(values, helm_python.values_from_yaml(text) or {})
    return values


def lint(args: argparse.Namespace) -> int:
    report = helm_python.lint(
        args.chart,
        read_values(args.values),
        strict=True,
        namespace=args.namespace,
        kube_version=args.kube_version,
    )
    print(json.dumps(report, indent=2))
    failing = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2]
    if failing or report.get("errors"):
        for m in failing:
            print(f"{m.get('path')}: {m.get('error')}", file=sys.stderr)
        for e in report.get("errors") or []:
            print(e, file=sys.stderr)
        return 1
    return 0


def template(args: argparse.Namespace) -> int:
    chart = helm_python.Chart.load(args.chart)
    rendered = chart.render(
        read_values(args.values),
        name=args.name,
        namespace=args.namespace,
        is_install=True,
    )
    # Helm prints templates sorted by path; keep that order for stable output.
    sources = [(path, text) for path, text in sorted(rendered.items()) if not path.endswith(NOTES)]
    if args.output == "yaml":
        # As `helm template` prints a release: each document trimmed, under its source.
        for path, text in sources:
            for doc in SEPARATOR.split(text):
                if doc.strip():
                    sys.stdout.write(f"---\n# Source: {path}\n{doc.strip()}\n")
        return 0
    objects = []
    for path, text in sources:
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                print(f"{path}: a document that is not a mapping: {doc!r}", file=sys.stderr)
                return 1
            objects.append({"__template": path, **doc})
    print(json.dumps(objects, indent=2))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("lint", "template"):
        p = sub.add_parser(name)
        p.add_argument("chart")
        p.add_argument("--values", "-f", action="append", default=[], metavar="FILE")
        p.add_argument("--namespace", default="default")
    sub.choices["lint"].add_argument("--kube-version", default=KUBE_VERSION)
    sub.choices["template"].add_argument("--name", default="release-name")
    sub.choices["template"].add_argument("--output", choices=("json", "yaml"), default="json")
    args = parser.parse_args()
    try:
        return lint(args) if args.command == "lint" else template(args)
    except helm_python.HelmError as e:
        print(f"helm {args.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
