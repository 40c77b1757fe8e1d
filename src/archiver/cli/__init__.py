"""Command-line shell: parse arguments, call the Python API (archiver.api), render its result, pick the exit code.

Each command's module imports what it uses inside the command, so that ``archiver validate`` (the
pre-commit path) loads neither Pydantic nor frictionless nor requests.
"""

from __future__ import annotations

from archiver.cli.common import EXIT_OK, EXIT_USAGE, print_err
from archiver.cli.parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exc.code or 0)
    try:
        code: int = args.handler(args)
        return code
    except KeyboardInterrupt:
        print_err("archiver: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # disk full, read-only, permissions: one line, and nothing was half written
        where = f" ({exc.filename})" if exc.filename else ""
        print_err(f"archiver: {exc.strerror or exc}{where} [os-error]")
        return EXIT_USAGE
    except Exception as exc:
        from archiver.findings import ArchiverError

        if isinstance(exc, ArchiverError):
            print_err(f"archiver: {exc}")
            return EXIT_USAGE
        raise
