"""Run `apollospace-conformance` in this process and count the cases its fuzz layer sends.

    python bench/kit_counted.py --count-file OUT.json -- certify --embedded --profile quick ...

The arguments after `--` go to the kit's own `main()`, exactly what the
`apollospace-conformance` console script calls; the only difference is a
counter around `apollospace_conformance.fuzzing.call_and_check`, the function
the suite's `test_fuzz` calls once per generated case (the suite imports it
after this wrapper is installed). The stateful scenario (standard and thorough
profiles) does not go through it and is not counted; the quick profile has none.
The kit's report does not record a case count, hence this wrapper.
Importing this module has no side effects.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--count-file", type=Path, required=True, help='JSON file to write {"fuzz_cases": N} to'
    )
    parser.add_argument(
        "kit_args", nargs=argparse.REMAINDER, help="arguments of apollospace-conformance (after --)"
    )
    args = parser.parse_args(argv)
    kit_args = args.kit_args[1:] if args.kit_args[:1] == ["--"] else args.kit_args

    import apollospace_conformance.fuzzing as fuzzing
    from apollospace_conformance import cli

    original = fuzzing.call_and_check
    count = 0

    def counted(*call_args: Any, **call_kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return original(*call_args, **call_kwargs)

    fuzzing.call_and_check = counted
    try:
        return cli.main(kit_args)
    finally:
        fuzzing.call_and_check = original
        args.count_file.parent.mkdir(parents=True, exist_ok=True)
        args.count_file.write_text(json.dumps({"fuzz_cases": count}) + "\n", "utf-8")


if __name__ == "__main__":
    sys.exit(main())
