"""The storage fixtures work: a trial goes in through ask/report/tell and comes back out."""

from __future__ import annotations

import uuid

import optuna
import pytest
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import TrialState


def test_storage_round_trip(storage: BaseStorage) -> None:
    study = optuna.create_study(storage=storage, direction="maximize")

    trial = study.ask()
    x = trial.suggest_float("x", 0.0, 1.0)
    trial.report(0.5, step=0)
    trial.report(0.75, step=1)
    trial.set_user_attr("srm_step", 1)
    study.tell(trial, 0.9)

    pruned = study.ask()
    pruned.report(0.25, step=0)
    study.tell(pruned, state=TrialState.PRUNED)

    loaded = optuna.load_study(study_name=study.study_name, storage=storage)
    assert loaded.direction == optuna.study.StudyDirection.MAXIMIZE
    complete, stopped = loaded.get_trials(deepcopy=False)
    assert complete.state == TrialState.COMPLETE
    assert complete.value == pytest.approx(0.9)
    assert complete.params == {"x": x}
    assert complete.intermediate_values == {0: 0.5, 1: 0.75}
    assert complete.user_attrs == {"srm_step": 1}
    assert stopped.state == TrialState.PRUNED
    assert stopped.value == pytest.approx(0.25)  # the last reported value, as Optuna records it
    assert loaded.best_trial.number == complete.number


@pytest.mark.integration
@pytest.mark.parametrize("url_fixture", ["postgres_url", "mysql_url"])
def test_database_url_is_shared_between_storages(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    # Two storages built from the same URL stand for two workers sharing one database.
    url: str = request.getfixturevalue(url_fixture)
    study_name = f"shared-{uuid.uuid4().hex}"
    writer, reader = RDBStorage(url), RDBStorage(url)
    try:
        study = optuna.create_study(study_name=study_name, storage=writer)
        study.optimize(lambda trial: trial.suggest_float("x", -1.0, 1.0) ** 2, n_trials=3)

        loaded = optuna.load_study(study_name=study_name, storage=reader)
        assert study_name in {s.study_name for s in optuna.get_all_study_summaries(reader)}
        assert [t.state for t in loaded.trials] == [TrialState.COMPLETE] * 3
        assert loaded.best_value == pytest.approx(study.best_value)
    finally:
        writer.engine.dispose()
        reader.engine.dispose()
