"""``optuna-srm dashboard``: the real command in a process of its own, serving a real SQLite
study through optuna-dashboard's HTTP API, and every mistake it answers with one line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from click.testing import CliRunner
from optuna.trial import TrialState

pytest.importorskip("optuna_dashboard", reason='pip install -e ".[dashboard]"')

from optuna_srm import _keys
from optuna_srm.cli import main
from tests.test_visualization import make_study

STUDY_NAME = "watched-by-optuna-srm"
SERVER_START_S = 60
NOTE_WAIT_S = 30
INSTALL = 'pip install "optuna-srm[dashboard]"'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def get_json(url: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(get(url))
    return data


def run(*args: str) -> tuple[int, str]:
    """Run the command in this process (for the mistakes it answers before serving)."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def one_line_error(code: int, output: str) -> str:
    """Assert a failure that printed one error line and no traceback; return that line."""
    assert code != 0
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    return errors[0]


@pytest.fixture(scope="module")
def storage_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'search.db'}"
    # Run in memory, then copied: a commit per trial, not one per step.
    memory = optuna.storages.InMemoryStorage()
    study = make_study("maximize", storage=memory)
    optuna.copy_study(
        from_study_name=study.study_name,
        from_storage=memory,
        to_storage=url,
        to_study_name=STUDY_NAME,
    )
    return url


class Server:
    def __init__(self, url: str, port: int, process: subprocess.Popen[bytes], log: Any) -> None:
        self.url, self.port, self.process, self.log = url, port, process, log

    def output(self) -> str:
        self.log.seek(0)
        text: str = self.log.read().decode(errors="replace")
        return text


@pytest.fixture(scope="module")
def server(storage_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``optuna-srm dashboard`` as a user starts it, without --host, rewriting the notes."""
    command = Path(sys.executable).with_name("optuna-srm")
    artifacts = tmp_path_factory.mktemp("artifacts")
    port = free_port()
    args = ["dashboard", "--storage", storage_url, "--port", str(port)]
    args += ["--refresh-notes", "1", "--artifact-dir", str(artifacts)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(command), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        running = Server(f"http://127.0.0.1:{port}", port, process, log)
        try:
            deadline = time.monotonic() + SERVER_START_S
            while True:
                try:
                    get_json(f"{running.url}/api/meta")
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"optuna-srm dashboard did not start:\n{running.output()}")
                    time.sleep(0.2)
            yield running
        finally:
            process.terminate()
            process.wait(timeout=10)


def study_detail(server: Server) -> dict[str, Any]:
    summaries = get_json(f"{server.url}/api/studies")["study_summaries"]
    (study_id,) = [s["study_id"] for s in summaries if s["study_name"] == STUDY_NAME]
    return get_json(f"{server.url}/api/studies/{study_id}")


def test_serves_the_pruners_attrs_and_history(server: Server, storage_url: str) -> None:
    study = optuna.load_study(study_name=STUDY_NAME, storage=storage_url)
    served = {
        t["number"]: {a["key"]: a["value"] for a in t["user_attrs"]}
        for t in study_detail(server)["trials"]
    }
    checked = [t for t in study.trials if _keys.PREDICTION_HISTORY in t.user_attrs]
    assert any(t.state == TrialState.PRUNED for t in checked)
    for trial in checked:
        attrs = served[trial.number]
        for key in (_keys.PREDICTED_FINAL, _keys.STEP, _keys.PREDICTION_HISTORY):
            assert attrs[key] == str(trial.user_attrs[key])  # the dashboard shows str(value)


def test_writes_the_note_with_the_plot_of_the_best_trials(server: Server) -> None:
    deadline = time.monotonic() + NOTE_WAIT_S
    while True:
        detail = study_detail(server)
        note = detail["note"]["body"]
        if note.startswith("## optuna-srm") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert note.startswith("## optuna-srm\n"), server.output()
    assert "### Out-of-sample error of the predictions" in note

    # The image in the note is the study's artifact, served by the same server.
    (artifact,) = detail["artifacts"]
    assert artifact["filename"] == "srm_prediction_history.png"
    path = next(part for part in note.split("](")[1:] if part.startswith("/artifacts/"))
    path = path.split(")")[0]
    assert artifact["artifact_id"] in path
    assert get(f"{server.url}{path}").startswith(b"\x89PNG\r\n\x1a\n")


def test_binds_to_this_machine_only_by_default(server: Server) -> None:
    assert f"on http://127.0.0.1:{server.port}/dashboard" in server.output()
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("no /proc/net/tcp to read the listening address from")
    listening = []
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.split(":")
            if int(port, 16) == server.port and state == "0A":  # LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, not 0.0.0.0


def test_a_storage_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    error = one_line_error(*run("dashboard", "--storage", f"sqlite:///{missing}"))
    assert f"no file {missing}" in error
    assert not missing.exists()  # not created empty
    error = one_line_error(*run("dashboard", "--storage", str(tmp_path / "typo.log")))
    assert "typo.log" in error
    error = one_line_error(*run("dashboard", "--storage", "search.db"))
    assert "neither a database URL" in error


def test_a_database_that_cannot_be_opened_is_named_without_its_password() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://optuna:s3cret-pw@127.0.0.1:{port}/search"
    code, output = run("dashboard", "--storage", url)
    error = one_line_error(code, output)
    assert "cannot open --storage postgresql+psycopg://optuna:***@" in error
    assert "s3cret-pw" not in output


def test_a_port_in_use_is_one_error_line(storage_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        error = one_line_error(*run("dashboard", "--storage", storage_url, "--port", str(port)))
    assert f"cannot listen on 127.0.0.1:{port}" in error


@pytest.mark.slow  # a fresh interpreter imports optuna and the command
def test_without_optuna_dashboard_it_says_what_to_install(storage_url: str) -> None:
    code = (
        "import sys; sys.modules['optuna_dashboard'] = None\n"
        "from optuna_srm.cli import main\n"
        f"main(['dashboard', '--storage', {storage_url!r}])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    error = one_line_error(result.returncode, result.stdout + result.stderr)
    assert error == f"Error: optuna-dashboard is not installed: {INSTALL}"


def test_help_lists_the_command() -> None:
    code, output = run("--help")
    assert code == 0 and "dashboard" in output
    code, output = run("dashboard", "--help")
    assert code == 0
    assert "127.0.0.1" in output and "8080" in output and "--refresh-notes" in output
