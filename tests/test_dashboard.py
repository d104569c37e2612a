"""The pruner's user attrs where users watch a study: ``study.trials_dataframe()``, and the real
optuna-dashboard server (its JSON API and its page in a real, headless Chromium)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from optuna_srm import SRMPruner
from tests.pruners.test_srm import SRM_ATTRS, make_objective

STUDY_NAME = "srm-watched"
N_TRIALS = 20  # of the pruner tests' behaviour objective: 5 to start with, then checks
SERVER_START_S = 60


@pytest.fixture(scope="module")
def storage_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('watched') / 'study.db'}"


@pytest.fixture(scope="module")
def watched_study(storage_url: str) -> optuna.Study:
    """A SQLite study of the behaviour objective, pruned by SRMPruner."""
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=storage_url,
        direction="maximize",
        pruner=SRMPruner(),
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    study.optimize(make_objective("maximize"), n_trials=N_TRIALS)
    return study


def checked_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The trials that hold the pruner's attrs, pruned ones among them."""
    trials = [t for t in study.get_trials() if set(SRM_ATTRS) <= set(t.user_attrs)]
    assert any(t.state == TrialState.PRUNED for t in trials)
    return trials


def test_trials_dataframe_shows_the_pruners_attrs(watched_study: optuna.Study) -> None:
    frame = watched_study.trials_dataframe().set_index("number")

    for trial in checked_trials(watched_study):
        for key in SRM_ATTRS:
            assert frame.loc[trial.number, f"user_attrs_{key}"] == trial.user_attrs[key]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: dict[str, object] = json.load(response)
        return data


@pytest.fixture(scope="module")
def dashboard(watched_study: optuna.Study, storage_url: str) -> Iterator[str]:
    """The URL of the ``optuna-dashboard`` command serving ``watched_study``'s storage."""
    pytest.importorskip("optuna_dashboard", reason='pip install -e ".[dashboard]"')
    # The command as a user runs it, from the same environment.
    command = Path(sys.executable).with_name("optuna-dashboard")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [str(command), storage_url, "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + SERVER_START_S
            while True:
                try:
                    _get_json(f"{url}/api/meta")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        output = log.read().decode(errors="replace")
                        pytest.fail(f"optuna-dashboard did not start:\n{output[-2000:]}")
                    time.sleep(0.2)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def _study_id(url: str) -> int:
    summaries = _get_json(f"{url}/api/studies")["study_summaries"]
    assert isinstance(summaries, list)
    (study_id,) = [s["study_id"] for s in summaries if s["study_name"] == STUDY_NAME]
    return int(study_id)


def test_dashboard_serves_the_pruners_attrs(watched_study: optuna.Study, dashboard: str) -> None:
    detail = _get_json(f"{dashboard}/api/studies/{_study_id(dashboard)}")
    trials = detail["trials"]
    assert isinstance(trials, list)
    served = {t["number"]: {a["key"]: a["value"] for a in t["user_attrs"]} for t in trials}

    for trial in checked_trials(watched_study):
        attrs = served[trial.number]
        assert set(attrs) == set(trial.user_attrs)
        for key in SRM_ATTRS:  # the dashboard shows each value as its str()
            assert attrs[key] == str(trial.user_attrs[key])


class _Text(HTMLParser):
    """The text of an HTML document, without its scripts and styles, in single spaces."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @classmethod
    def of(cls, document: str) -> str:
        parser = cls()
        parser.feed(document)
        return " ".join(" ".join(parser.parts).split())


def test_dashboard_page_shows_the_pruners_attrs_in_a_browser(
    watched_study: optuna.Study, dashboard: str, chromium: str, tmp_path: Path
) -> None:
    pruned = [t for t in checked_trials(watched_study) if t.state == TrialState.PRUNED]
    trial = pruned[-1]
    page = f"{dashboard}/dashboard/studies/{_study_id(dashboard)}/trials?numbers={trial.number}"
    # Headless, and with nothing that reaches outside this machine; the virtual time lets the
    # page fetch the study and render it before the DOM is dumped.
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=30000",
        "--dump-dom",
    ]
    dom = subprocess.run(
        [chromium, *flags, page], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    text = _Text.of(dom)

    assert f"Trial {trial.number} (trial_id=" in text, text[:2000]
    assert "User Attributes" in text
    for key in SRM_ATTRS:
        assert f"{key} {trial.user_attrs[key]}" in text
