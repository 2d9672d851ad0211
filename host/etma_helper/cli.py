"""The command line: the same engine as the browser's, for a terminal."""

from __future__ import annotations

import argparse

from . import __version__
from .config import Settings, config_path


def _config(args: argparse.Namespace) -> int:
    settings = Settings.load()
    if args.download_root or args.concurrency:
        settings = Settings(
            download_root=args.download_root or settings.download_root,
            concurrency=args.concurrency or settings.concurrency,
        )
        print(f"saved {settings.save()}")
    print(f"settings file: {config_path()}")
    print(f"download root: {settings.download_root}")
    print(f"concurrency:   {settings.concurrency}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="etma-helper", description=__doc__)
    parser.add_argument("--version", action="version", version=f"etma-helper {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="show or change where files go")
    config.add_argument("--download-root", type=__import__("pathlib").Path)
    config.add_argument("--concurrency", type=int, choices=range(1, 17), metavar="1-16")
    config.set_defaults(run=_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
