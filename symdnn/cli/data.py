"""``symdnn data list | fetch | path``: the real data sets, fetched and checked."""

from __future__ import annotations

import argparse
import sys

from symdnn.cli.support import EXIT, EXIT_TEXT, HelpFormatter, Progress, command_group, emit
from symdnn.data import data_root, dataset, dataset_path, fetch, listing
from symdnn.errors import DataError

__all__ = ["add_data_parser"]


def _cmd_list(args: argparse.Namespace) -> int:
    found = listing(args.to)
    if args.json:
        emit(found, "json", args.json, args)
        return EXIT["ok"]
    emit(found, "text", "-", args)
    return EXIT["ok"]


def _cmd_path(args: argparse.Namespace) -> int:
    print(dataset_path(args.name, args.to) if args.name else data_root(args.to))
    return EXIT["ok"]


def _cmd_fetch(args: argparse.Namespace) -> int:
    for name in args.names:
        dataset(name)  # an unknown name is bad input before anything is fetched
    bar = None if args.quiet else Progress("fetch", unit="bytes")

    started: set[str] = set()

    def on_file(f) -> None:
        if bar is None:
            return
        if f.dataset not in started:
            started.add(f.dataset)
            n = len(dataset(f.dataset).files)
            print(f"fetch {f.dataset}: {n} file{'s' if n > 1 else ''} into "
                  f"{data_root(args.to) / dataset(f.dataset).folder}", file=sys.stderr)
        bar.restart(f.path)

    try:
        report = fetch(args.names, to=args.to, source=args.source, progress=bar,
                       on_file=on_file)
    except DataError as exc:
        if getattr(exc, "offline", False):
            names = " ".join(args.names)
            raise DataError(f"{exc}; without a network, copy the files from a folder you "
                            f"have: symdnn data fetch {names} --from DIR") from None
        raise
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(report.summary(), file=sys.stderr)  # stdout is for the folders
    for name in dict.fromkeys(args.names):
        print(data_root(args.to) / dataset(name).folder)
    return EXIT["ok"]


def add_data_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``symdnn data`` and its three actions to the command parser."""
    ds = command_group(
        sub, "data", "list, fetch and locate the real data sets (Graph Challenge, MNIST, "
        "VNN-COMP)",
        "The data sets symdnn works on, from their official sources, each file checked on "
        "arrival against symdnn's registry (sha256 or md5 where known, else size, line count "
        "and format). The data root is $SYMDNN_DATA when set, else the OS cache folder for "
        "symdnn.", "data_command", "ACTION")

    def to_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--to", metavar="DIR", default=None,
                       help="the data root to use instead of $SYMDNN_DATA or the cache")

    ls = ds.add_parser("list", help="every data set: size, source, fetched or not, where",
                       formatter_class=HelpFormatter, epilog=EXIT_TEXT,
                       description="Every data set of the registry with its size, source, "
                                   "whether its files are in place, and the folder commands "
                                   "read. 'fetch' checks their contents.")
    ls.set_defaults(func=_cmd_list)
    to_option(ls)
    ls.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                    help="print the list as JSON, to FILE when given, else to stdout")
    ls.add_argument("--force", action="store_true", help="replace an existing --json FILE")

    fe = ds.add_parser(
        "fetch", help="download data sets (or copy them with --from), checked",
        formatter_class=HelpFormatter, epilog=EXIT_TEXT,
        description="Download each data set into the data root and check every file. A "
                    "file appears only once it is complete and checked; an interrupted "
                    "download leaves nothing in place and resumes on the next fetch (its "
                    "bytes wait in the root's .partial/ folder). A file already in place is "
                    "checked again (a network unpacked by symdnn: every layer file is there), "
                    "never replaced; a network archive put in place by hand is checked, "
                    "unpacked and kept. Prints the folder of each data set. "
                    "Exit status 2 for an unknown name, no network, an HTTP error, or a file "
                    "that fails a check (named).")
    fe.set_defaults(func=_cmd_fetch)
    fe.add_argument("names", nargs="+", metavar="NAME", help="data set names (symdnn data list)")
    to_option(fe)
    fe.add_argument("--from", dest="source", metavar="DIR", default=None,
                    help="copy the files from a folder or mirror you have instead of "
                         "downloading them (each checked against the registry)")
    fe.add_argument("--quiet", action="store_true", help="no progress display")

    pa = ds.add_parser("path", help="the folder of a data set (or the data root)",
                       formatter_class=HelpFormatter, epilog=EXIT_TEXT,
                       description="Print the folder symdnn's commands read for data set "
                                   "NAME (whether fetched or not), or the data root.")
    pa.set_defaults(func=_cmd_path)
    pa.add_argument("name", metavar="NAME", nargs="?", default=None, help="a data set name")
    to_option(pa)
