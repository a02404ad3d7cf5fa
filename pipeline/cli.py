"""Command line: ``python -m pipeline <command> --config config/<study>.yml``.

Commands
--------
synth    build the study's synthetic world (demo studies only)
stamps   refresh the per-stage stamp files that drive ``make``
run      run one stage (clean, panel, match, estimate, report)
codebook check FILE...
         list every column and answer label of survey exports that the study's codebook
         does not cover, with what to add (exit status 1 when there is anything to add)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from pipeline.config import ConfigError, load_config
from pipeline.privacy import redact


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


def _codebook(args: argparse.Namespace) -> int:
    from pipeline.surveys import CodebookError, find_gaps, format_gaps, load_codebook, read_survey

    if args.codebook is None and args.config is None:
        raise ConfigError("give the codebook with --codebook or the study with --config")
    path = args.codebook or load_config(args.config).codebook_path
    codebook = load_codebook(path)
    gaps = []
    for file in args.files:
        try:
            encoding = codebook.source_for(os.path.basename(file))[1].encoding
        except CodebookError:
            encoding = None  # find_gaps reports the missing source with a draft
        gaps.extend(find_gaps(read_survey(file, encoding=encoding), codebook))
    print(f"codebook {path}")
    print(format_gaps(gaps))
    return 1 if gaps else 0


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
    codebook = commands.add_parser("codebook", help="check survey exports against a codebook")
    codebook.add_argument("action", choices=["check"], help="what to do")
    codebook.add_argument("files", nargs="+", help="survey exports to check")
    codebook.add_argument("--codebook", help="codebook YAML, e.g. config/codebooks/x.yml")
    codebook.add_argument("--config", help="study YAML whose data.codebook to use")
    codebook.set_defaults(handler=_codebook)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
    except (ConfigError, FileNotFoundError, ValueError, RuntimeError, OSError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2
    return status or 0
