"""`edgekit` entry point: parse, dispatch to one subcommand, turn typed errors into one stderr line."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from edgekit.cli.base import Command
from edgekit.core.errors import EdgekitError

# Subcommands in pipeline order. Each lives in its own module.
_COMMANDS = (
    "edgekit.cli.devices:DevicesCommand",
    "edgekit.cli.convert:ConvertCommand",
    "edgekit.cli.inspect:InspectCommand",
    "edgekit.cli.codegen:CodegenCommand",
    "edgekit.cli.verify:VerifyCommand",
    "edgekit.cli.flash:FlashCommand",
    "edgekit.cli.run:RunCommand",
    "edgekit.cli.profile:ProfileCommand",
    "edgekit.cli.traces:TracesCommand",
    "edgekit.cli.lut:LutCommand",
    "edgekit.cli.predictor:PredictorCommand",
    "edgekit.cli.predict:PredictCommand",
    "edgekit.cli.search:SearchCommand",
)


def _load_commands() -> list[Command]:
    import importlib

    out = []
    for spec in _COMMANDS:
        mod_name, cls_name = spec.split(":")
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as e:
            if e.name == mod_name:  # that stage has not landed yet
                continue
            raise
        out.append(getattr(mod, cls_name)())
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        sys.stderr.write(f"error: {message} (hint: see `{self.prog} --help`)\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="edgekit", description="Put neural networks on edge hardware and measure them there.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    for cmd in _load_commands():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
        p.set_defaults(_command=cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv or os.environ.get("EDGEKIT_DEBUG") == "1"
    try:
        args = build_parser().parse_args(argv)
        return int(args._command.invoke(args) or 0)
    except EdgekitError as e:
        if debug:
            traceback.print_exc()
        sys.stderr.write(e.one_line() + "\n")
        return e.exit_code
    except BrokenPipeError:  # output piped into `head` and closed early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (hint: rerun the same command; finished work is kept)\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
