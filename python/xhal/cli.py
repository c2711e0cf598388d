"""The ``xhal`` command.

    xhal devices [-v]            devices of every plugin found (-v: properties, skipped plugins)
    xhal conformance [...]       run the conformance suite (xhal conformance --help)
    xhal new-plugin NAME --out DIR [--ops add,matmul] [--vendor V]
                                 a plugin project built against the installed SDK
    xhal --cmake-dir             where xhalConfig.cmake lives (for -Dxhal_DIR=...)
    xhal --include-dir           where the C headers live
"""

from __future__ import annotations

import argparse
import os
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
    for p in xhal.plugins():
        if p["device_count"] == 0:
            why = f": {p['no_device_reason']}" if p["no_device_reason"] else ""
            print(f"{p['device_type']:<25} no device{why}")
            if args.verbose:
                print(f"    plugin   {p['path']} (version {p['version']})")
    skipped = xhal.skipped_plugins()
    if args.verbose and skipped:
        print("skipped plugins:")
        for reason in skipped:
            print(f"    {reason}")
    elif skipped:
        print(f"({len(skipped)} plugin(s) skipped; xhal devices -v says why)")
    return 0


def _new_plugin(argv: list[str]) -> int:
    from pathlib import Path

    import xhal
    from xhal.codegen.new_plugin import NewPluginError, new_plugin
    from xhal.codegen.spec_loader import SpecError, load_specs

    parser = argparse.ArgumentParser(prog="xhal new-plugin",
                                     description="Generate a device plugin project.")
    parser.add_argument("name", help="plugin name, lower_snake_case (e.g. mynpu)")
    parser.add_argument("--out", type=Path, required=True, help="new directory for the project")
    parser.add_argument("--ops", help="comma-separated ops (default: every op of the standard)")
    parser.add_argument("--vendor", help="vendor namespace of the device type (default: NAME)")
    args = parser.parse_args(argv)
    try:
        specs = load_specs(xhal.spec_dir())
        ops = [o.strip() for o in args.ops.split(",") if o.strip()] if args.ops else None
        files = new_plugin(specs, args.name, args.out, ops, args.vendor)
    except (NewPluginError, SpecError) as exc:
        print(f"xhal new-plugin: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} files to {args.out}")
    print(f"next: cmake -S {args.out} -B {args.out}/build -Dxhal_DIR=\"$(xhal --cmake-dir)\" "
          f"&& cmake --build {args.out}/build")
    print(f"      xhal conformance --plugin {args.out}/build/lib{args.name}.so")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:
        # The reader went away (`xhal conformance --list | head`): not an error of ours, and
        # Python must not complain again while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: list[str]) -> int:
    if argv and argv[0] == "conformance":
        from xhal.conformance.cli import main as conformance_main

        return conformance_main(argv[1:])
    if argv and argv[0] == "devices":
        return _devices(argv[1:])
    if argv and argv[0] == "new-plugin":
        return _new_plugin(argv[1:])
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
