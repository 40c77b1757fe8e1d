"""What every command shares: exit codes, one-line messages on stderr, the policy, and a usage error."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def print_err(line: str) -> None:
    print(line, file=sys.stderr)


def warn_skipped(path: str, code: str, message: str) -> None:
    from archiver.findings import one_line
    from archiver.fsutil import printable_path

    print_err(one_line(f"warning: {printable_path(path)}: {message} [{code}]"))


def policy_of(args: argparse.Namespace):
    from archiver.api import load_policy

    return load_policy(args.config)


def raise_usage(message: str) -> NoReturn:
    from archiver.findings import ArchiverError

    raise ArchiverError(message, code="usage")
