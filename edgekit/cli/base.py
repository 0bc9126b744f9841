"""A subcommand is a small class: name, help, arguments, invoke (as pyOCD's subcommands are)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, ClassVar


class Command:
    name: ClassVar[str]
    help: ClassVar[str]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # pragma: no cover - default
        pass

    def invoke(self, args: argparse.Namespace) -> int:
        raise NotImplementedError


class Group(Command):
    """A command with sub-subcommands, e.g. `edgekit devices list`."""

    children: ClassVar[tuple[type[Command], ...]] = ()

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest=f"{self.name}_cmd", metavar="COMMAND", required=True)
        for cls in self.children:
            cmd = cls()
            p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
            cmd.add_arguments(p)
            p.set_defaults(_command=cmd)

    def invoke(self, args: argparse.Namespace) -> int:  # pragma: no cover - argparse routes to children
        raise NotImplementedError


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def warn(message: str) -> None:
    """Warnings go to stderr, one line, so stdout stays parseable."""
    sys.stderr.write(f"warning: {message}\n")
