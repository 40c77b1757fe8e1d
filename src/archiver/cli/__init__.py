"""Command-line shell: parse arguments, call the Python API (archiver.api), render its result, pick the exit code.

Each command's module imports what it uses inside the command, so that ``archiver validate`` (the
pre-commit path) loads neither Pydantic nor frictionless nor requests.
"""

from __future__ import annotations

import sys

from archiver.cli.common import EXIT_USAGE, print_err
from archiver.cli.parser import UsageError, build_parser

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:  # one line, archiver's form, never argparse's usage block
        from archiver.findings import printable

        print_err(f"archiver: {printable(str(exc), 400)} [usage]")
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    stdout, sys.stdout = sys.stdout, _PipeSafe(sys.stdout)
    try:
        code: int = args.handler(args)
        return code
    except KeyboardInterrupt:
        print_err("archiver: interrupted")
        return 130
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
    finally:
        sys.stdout = stdout  # a caller of main() in-process gets its own stream back


class _PipeSafe:
    """Standard output that a reader may close early (``archiver eligibility ... | head -1``): the
    rest of the output is dropped, the command runs to its end and exits with its own code, so a
    failing run never turns into exit 0."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                return int(self._stream.write(text))
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        import os

        self.closed_by_reader = True
        # the interpreter flushes stdout at exit: point it at nothing so that flush cannot fail
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
