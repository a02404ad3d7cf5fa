"""Command line: ``python -m pipeline <command> --config config/<study>.yml``.

Commands
--------
synth    build the study's synthetic world (demo studies only)
stamps   refresh the per-stage stamp files that drive ``make``
run      run one stage (clean, panel, match, estimate, report)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from pipeline.config import ConfigError, load_config


def _synth(args: argparse.Namespace) -> None:
    from pipeline.runner import write_stamps
    from pipeline.synth.world import build_world

    config = load_config(args.config)
    started = time.perf_counter()
    summary = build_world(config)
    # The world is complete: record that no raw file is missing, then make the truth file
    # (make's target for the world) newer than that stamp.
    write_stamps(args.config, only="synth")
    os.utime(summary.truth_file)
    print(
        f"synthetic world '{config.study}': {summary.n_persons:,} persons, "
        f"{summary.n_participants:,} participants, {summary.n_person_months:,} person-months "
        f"in {time.perf_counter() - started:.1f} s -> {config.raw_dir}"
    )


def _stamps(args: argparse.Namespace) -> None:
    from pipeline.runner import write_stamps

    write_stamps(args.config, only=args.only)


def _run(args: argparse.Namespace) -> None:
    from pipeline.runner import run_stage

    started = time.perf_counter()
    manifest = run_stage(args.stage, args.config)
    print(f"stage {args.stage}: done in {time.perf_counter() - started:.1f} s ({manifest.name})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, text in (
        ("synth", _synth, "build the synthetic world of a demo study"),
        ("stamps", _stamps, "refresh per-stage stamp files (used by make)"),
        ("run", _run, "run one stage"),
    ):
        command = commands.add_parser(name, help=text)
        if name == "run":
            command.add_argument("stage", help="clean, panel, match, estimate or report")
        if name == "stamps":
            command.add_argument("--only", help="write one stamp only ('synth')")
        command.add_argument("--config", required=True, help="study YAML, e.g. config/demo.yml")
        command.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (ConfigError, FileNotFoundError, ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
