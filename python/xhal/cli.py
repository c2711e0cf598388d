"""The ``xhal`` command.

    xhal devices [-v]            devices of every plugin found (-v: properties, skipped plugins)
    xhal conformance [...]       run the conformance suite (xhal conformance --help)
    xhal --cmake-dir             where xhalConfig.cmake lives (for -Dxhal_DIR=...)
    xhal --include-dir           where the C headers live
"""

from __future__ import annotations

import argparse
import sys


def _devices(argv: list[str]) -> int:
    import xhal

    parser = argparse.ArgumentParser(prog="xhal devices")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    devs = xhal.devices()
    for d in devs:
        p = d.properties
        print(f"{d.name:<10} {d.device_type:<14} {p['name']} ({p['vendor']})")
        if args.verbose:
            print(f"    plugin   {p['plugin_path']} (version {p['plugin_version']})")
            print(f"    kind     {p['kind']}, {p['compute_units']} compute units, "
                  f"{p['total_memory'] / 2**30:.1f} GiB, alignment {p['alignment']}")
            print(f"    dtypes   {', '.join(p['dtypes'])}")
    if not devs:
        print("no devices")
    skipped = xhal.skipped_plugins()
    if args.verbose and skipped:
        print("skipped plugins:")
        for reason in skipped:
            print(f"    {reason}")
    elif skipped:
        print(f"({len(skipped)} plugin(s) skipped; xhal devices -v says why)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "conformance":
        from xhal.conformance.cli import main as conformance_main

        return conformance_main(argv[1:])
    if argv and argv[0] == "devices":
        return _devices(argv[1:])
    parser = argparse.ArgumentParser(prog="xhal", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmake-dir", action="store_true", help="print the CMake package dir")
    parser.add_argument("--include-dir", action="store_true", help="print the C header dir")
    parser.add_argument("--version", action="store_true")
    args = parser.parse_args(argv)
    import xhal

    if args.cmake_dir:
        print(xhal.cmake_dir())
    elif args.include_dir:
        print(xhal.cmake_dir().parents[2] / "include")
    elif args.version:
        print(f"xhal {xhal.__version__} (ABI {xhal._C.ABI_MAJOR}.{xhal._C.ABI_MINOR})")
    else:
        parser.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
