"""``optuna-srm dashboard``: optuna-dashboard on a study's storage, bound to this machine."""

from __future__ import annotations

import os
import threading
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import click
import optuna
import sqlalchemy.exc
from sqlalchemy.engine import make_url

from optuna_srm import _keys
from optuna_srm.cli._storage import _JOURNAL_SUFFIXES, open_storage, safe_url

if TYPE_CHECKING:
    from optuna.artifacts import FileSystemArtifactStore

_MISSING = 'optuna-dashboard is not installed: pip install "optuna-srm[dashboard]"'


class _Server(ThreadingMixIn, WSGIServer):
    """A server that answers the dashboard's requests in threads, as optuna-dashboard's own."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No line per request: the dashboard polls the study every few seconds."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@click.command()
@click.option(
    "--storage",
    required=True,
    metavar="URL",
    help="The storage of the studies: a database URL (sqlite:///search.db, "
    "postgresql+psycopg://user@host/db) or a journal file (search.log).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on. The dashboard has no login: 0.0.0.0 shows (and lets edit) "
    "the studies to everyone who reaches this machine.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="The port to listen on; 0 for any free one.",
)
@click.option(
    "--artifact-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Serve the artifacts stored in this directory (optuna.artifacts."
    "FileSystemArtifactStore), such as the plot that --refresh-notes uploads.",
)
@click.option(
    "--refresh-notes",
    type=click.FloatRange(min=1.0),
    default=None,
    metavar="SECONDS",
    help="Every SECONDS, rewrite the note of each study that the pruner checked with a "
    "summary of its work (optuna_srm.visualization.write_study_note); with --artifact-dir, "
    "with a plot of the best trials. The text above the summary is kept.",
)
def dashboard(
    storage: str,
    host: str,
    port: int,
    artifact_dir: str | None,
    refresh_notes: float | None,
) -> None:
    """Watch the studies of a storage in optuna-dashboard, with the pruner's predictions.

    The trials show the pruner's user attrs: srm_predicted_final, srm_predicted_std,
    srm_p_improve, srm_step and srm_history (every check). Stop it with Ctrl+C.
    """
    try:
        import optuna_dashboard
    except ImportError:
        raise click.ClickException(_MISSING) from None
    _check_exists(storage)
    found = open_storage(storage)
    store = None
    if artifact_dir is not None:
        from optuna.artifacts import FileSystemArtifactStore

        os.makedirs(artifact_dir, exist_ok=True)
        store = FileSystemArtifactStore(artifact_dir)
    app = optuna_dashboard.wsgi(found, artifact_store=store)
    try:
        server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
    except OSError as error:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {error.strerror or error}"
        ) from None
    stop = threading.Event()
    if refresh_notes is not None:
        threading.Thread(
            target=_refresh_notes,
            args=(found, refresh_notes, store, stop),
            name="optuna-srm-notes",
            daemon=True,
        ).start()
    click.echo(
        f"optuna-srm dashboard: {safe_url(storage)} on "
        f"http://{host}:{server.server_port}/dashboard (Ctrl+C to stop)"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()


def _check_exists(url: str) -> None:
    """Refuse a SQLite database or journal file that does not exist (opening it would create
    an empty one, and the dashboard would show nothing)."""
    if "://" not in url:
        if not url.endswith(_JOURNAL_SUFFIXES):
            return  # open_storage says what is wrong with it
        path = url
    else:
        try:
            parsed = make_url(url)
        except sqlalchemy.exc.ArgumentError:
            return  # open_storage says what is wrong with it
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return
        path = str(parsed.database)
    if not os.path.exists(path):
        raise click.BadParameter(f"no file {os.path.abspath(path)}", param_hint="--storage")


def _refresh_notes(
    found: optuna.storages.BaseStorage,
    seconds: float,
    store: FileSystemArtifactStore | None,
    stop: threading.Event,
) -> None:
    """Rewrite the note of each single-objective study that the pruner checked, every
    ``seconds``, until ``stop`` is set."""
    from optuna_srm.visualization import write_study_note

    while True:
        for summary in found.get_all_studies():
            if len(summary.directions) != 1:
                continue
            try:
                study = optuna.load_study(study_name=summary.study_name, storage=found)
                trials = study.get_trials(deepcopy=False)
                if any(_keys.STEP in t.user_attrs for t in trials):
                    write_study_note(study, artifact_store=store)
            except Exception as error:  # The dashboard goes on serving.
                click.echo(
                    f"optuna-srm dashboard: could not write the note of study "
                    f"{summary.study_name!r}: {type(error).__name__}: {error}",
                    err=True,
                )
        if stop.wait(seconds):
            return
