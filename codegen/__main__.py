"""``python -m codegen --specs op_specs --out build/gen``: write every generated artifact."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .generate import generate
from .spec_loader import SpecError, load_specs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codegen", description=__doc__)
    parser.add_argument("--specs", type=Path, required=True, help="the op_specs/ directory")
    parser.add_argument("--out", type=Path, help="output root (omit with --validate-only)")
    parser.add_argument("--validate-only", action="store_true", help="only validate the specs")
    args = parser.parse_args(argv)
    try:
        specs = load_specs(args.specs)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.validate_only or args.out is None:
        print(f"{len(specs.ops)} op specs valid")
        return 0
    written = generate(specs, args.out)
    print(f"codegen: {len(specs.ops)} ops, {len(written)} files -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
