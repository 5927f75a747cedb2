"""`incidentdb replay SUITE`: run a suite against an OpenAI-compatible endpoint, store the run."""

from __future__ import annotations

import os

import click

from incidentdb import ReplayError
from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import format_option
from incidentdb.cli.runs import print_summary, summary_lines

__all__ = ["replay"]


def _key(variable: str | None, option: str) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise ReplayError(
            f"{option} names {variable}, which is not set",
            hint=f"Export {variable}=<key>, or leave {option} out for an endpoint without a key.",
        )
    return value


@click.command()
@click.argument("suite")
@click.option("--endpoint", required=True, metavar="URL", help="OpenAI-compatible base URL.")
@click.option("--model", required=True, help="Model name sent with each request.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--api-key-env", metavar="VAR", help="Environment variable holding the API key.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds per request.",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Retries per request after 429s, 5xx, timeouts and dropped connections.",
)
@click.option("--temperature", type=float, default=None, help="Sent when given.")
@click.option("--judge-endpoint", metavar="URL", help="Endpoint of a model applying rubrics.")
@click.option("--judge-model", help="The judge endpoint's model.")
@click.option("--judge-api-key-env", metavar="VAR", help="Variable holding the judge's key.")
@click.option("--resume", "resume", type=int, metavar="RUN", help="Resume this run.")
@click.option(
    "--new",
    is_flag=True,
    help="Start a new run even if one of this suite, endpoint and model is unfinished.",
)
@format_option
@pass_app
def replay(
    app: AppContext,
    suite: str,
    endpoint: str,
    model: str,
    concurrency: int,
    api_key_env: str | None,
    timeout: float,
    max_retries: int,
    temperature: float | None,
    judge_endpoint: str | None,
    judge_model: str | None,
    judge_api_key_env: str | None,
    resume: int | None,
    new: bool,
    fmt: str,
) -> None:
    """Replay test suite SUITE against a chat-completions endpoint, judge every case and store
    the run (an unfinished run of the same suite, endpoint and model is resumed)."""
    from generators.replay import ReplayInterrupted, ReplayOptions, replay_suite

    if bool(judge_endpoint) != bool(judge_model):
        raise click.UsageError("--judge-endpoint and --judge-model go together")
    if resume is not None and new:
        raise click.UsageError("--resume and --new exclude each other")
    options = ReplayOptions(
        endpoint=endpoint,
        model=model,
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        api_key=_key(api_key_env, "--api-key-env"),
        temperature=temperature,
        judge_endpoint=judge_endpoint,
        judge_model=judge_model,
        judge_api_key=_key(judge_api_key_env, "--judge-api-key-env"),
    )
    store = app.store()
    try:
        summary = replay_suite(
            store, suite, options, resume=resume, new=new, progress=app.progress()
        )
    except ReplayInterrupted as exc:
        run = exc.run_id
        click.echo(
            f"Interrupted; the finished cases of run {run} are stored. Resume with "
            f"`incidentdb replay {suite} --endpoint {endpoint} --model {model} --resume {run}`.",
            err=True,
        )
        raise SystemExit(130) from None
    if summary["skipped"]:
        app.info(f"Resumed run {summary['run']}: {summary['skipped']} cases were already done.")
    print_summary(summary, fmt)
    if fmt != "table":  # the table's header lines say this already
        for line in summary_lines(summary)[2:]:
            app.info(line)
