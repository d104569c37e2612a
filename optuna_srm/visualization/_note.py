"""A summary of the pruner's work, written as the study's note in optuna-dashboard."""

from __future__ import annotations

import datetime
import math
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from optuna_srm import _keys
from optuna_srm._validation import check_int, check_single_objective
from optuna_srm.visualization._history import Z_90, checks, metric_name

# Optuna exports its artifact stores, not the protocol they follow (optuna.artifacts).
ArtifactStore = Any

# The note's section starts at this line; the user's text above it is kept.
HEADING = "## optuna-srm"
# The study artifact that holds the plot of the best trials, written over at each update.
ARTIFACT_FILENAME = "srm_prediction_history.png"
# The table of errors groups the steps into at most this many rows.
_MAX_ERROR_ROWS = 10
_MISSING_DASHBOARD = 'write_study_note needs optuna-dashboard: pip install "optuna-srm[dashboard]"'


def write_study_note(
    study: optuna.Study,
    *,
    n_best: int = 3,
    artifact_store: ArtifactStore | None = None,
    sampler: optuna.samplers.BaseSampler | None = None,
) -> str:
    """Write a summary of the pruner's work as the study's note in optuna-dashboard.

    The note is a markdown section under the line ``## optuna-srm``: how many trials are
    complete (what the pruner's models learn from), pruned, running and failed; how many
    steps the pruned trials did not train (the steps of the complete trials' curves after
    each pruned trial's last step); the out-of-sample error of the predictions, per step:
    each prediction recorded in a complete trial's ``srm_history`` against the final value
    that the trial reached (the pruned trials' final values are unknown), with how often it
    fell in the 90% interval; and the ``n_best`` best trials with their last prediction. The
    section replaces the one that an earlier call wrote; the text above it is kept, so a note
    that people write above it survives the updates.

    Everything is read from the storage, so any process may write the note while workers run
    (``optuna-srm dashboard --refresh-notes`` does it periodically). The sampler's epsilon is
    not in the storage: pass the :class:`~optuna_srm.QLearningArchitectureSampler` of the
    search as ``sampler`` to show the epsilon of the next trial.

    Example:

        .. code-block:: python

            import math
            import os

            import optuna
            from optuna.artifacts import FileSystemArtifactStore

            import optuna_srm
            from optuna_srm.visualization import write_study_note


            def objective(trial):
                ceiling = trial.suggest_float("ceiling", 0.5, 1.0)
                rate = trial.suggest_float("rate", 0.05, 0.5)
                for step in range(10):
                    accuracy = ceiling * (1.0 - math.exp(-rate * (step + 1)))
                    trial.report(accuracy, step)
                    if trial.should_prune():
                        raise optuna.TrialPruned()
                return accuracy


            study = optuna.create_study(
                direction="maximize", pruner=optuna_srm.SRMPruner(), storage="sqlite:///search.db"
            )
            study.optimize(objective, n_trials=10)
            os.makedirs("artifacts", exist_ok=True)
            write_study_note(study, artifact_store=FileSystemArtifactStore("artifacts"))
            # Then watch it in optuna-dashboard, the note and its plot included:
            # optuna-srm dashboard --storage sqlite:///search.db --artifact-dir artifacts

    Args:
        study: A single-objective study.
        n_best: How many of the best complete trials to list; at least 1.
        artifact_store: Where to upload the plot of the best trials' prediction histories
            (matplotlib), shown in the note when optuna-dashboard serves the same store
            (``--artifact-dir``); ``None`` for no plot. The plot is a study artifact named
            ``srm_prediction_history.png``, written over at each update.
        sampler: The study's sampler, whose epsilon the note shows where it has one.

    Returns:
        The note's markdown.

    Raises:
        ImportError: optuna-dashboard (or, with ``artifact_store``, matplotlib) is not
            installed.
        ValueError: ``n_best`` is not an integer >= 1, or the study has several objectives.
    """
    try:
        import optuna_dashboard
    except ImportError:
        raise ImportError(_MISSING_DASHBOARD) from None
    check_int("n_best", n_best, 1)
    check_single_objective(study, "write_study_note")
    now = datetime.datetime.now(datetime.timezone.utc)
    trials = study.get_trials(deepcopy=False)
    best = _best_trials(trials, study.direction)[:n_best]
    lines = [
        HEADING,
        "",
        f"*Written at {now:%Y-%m-%d %H:%M:%S} UTC by `optuna_srm.visualization."
        "write_study_note`, which rewrites this section; the text above it stays.*",
        "",
        *_counts(trials),
        *_errors(trials),
        *_best_table(best),
    ]
    if artifact_store is not None and best:
        path = _upload_plot(study, best, artifact_store)
        lines += [f"![Prediction history of the best trials]({path}?t={int(now.timestamp())})", ""]
    lines += _architecture(trials, sampler)
    section = "\n".join(lines).rstrip() + "\n"
    previous = optuna_dashboard.get_note(study)
    found = re.search(rf"^{re.escape(HEADING)}$", previous, flags=re.MULTILINE)
    kept = (previous[: found.start()] if found else previous).rstrip()
    body = f"{kept}\n\n{section}" if kept else section
    optuna_dashboard.save_note(study, body)
    return body


def _best_trials(trials: Sequence[FrozenTrial], direction: StudyDirection) -> list[FrozenTrial]:
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    sign = -1.0 if direction == StudyDirection.MAXIMIZE else 1.0
    return sorted(complete, key=lambda t: (sign * float(t.value or 0.0), t.number))


def _counts(trials: Sequence[FrozenTrial]) -> list[str]:
    by_state = defaultdict(int, {s: 0 for s in TrialState})
    for t in trials:
        by_state[t.state] += 1
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.intermediate_values]
    grid = {s for t in complete for s in t.intermediate_values}
    trained = sum(len(t.intermediate_values) for t in trials if t.state.is_finished())
    saved = sum(
        sum(1 for s in grid if s > (t.last_step or 0))
        for t in trials
        if t.state == TrialState.PRUNED and t.last_step is not None
    )
    checked = sum(1 for t in trials if _keys.STEP in t.user_attrs)
    share = f" ({saved / (trained + saved):.0%} of the training)" if trained + saved else ""
    return [
        "| trials | |",
        "|---|---:|",
        f"| complete ({len(complete)} with a learning curve, which the models learn from) | "
        f"{by_state[TrialState.COMPLETE]} |",
        f"| pruned | {by_state[TrialState.PRUNED]} |",
        f"| running | {by_state[TrialState.RUNNING]} |",
        f"| failed | {by_state[TrialState.FAIL]} |",
        f"| checked by the pruner | {checked} |",
        "",
        f"Steps trained by the finished trials: {trained}. Steps saved by pruning: {saved}"
        f"{share}, counting the steps of the complete trials' curves after each pruned "
        "trial's last one.",
        "",
    ]


def _errors(trials: Sequence[FrozenTrial]) -> list[str]:
    """The table of the out-of-sample errors of the complete trials' predictions, by step."""
    errors: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for t in trials:
        if t.state != TrialState.COMPLETE or t.value is None or not math.isfinite(t.value):
            continue
        for c in checks(t):
            error = abs(c.predicted - t.value)
            errors[c.step].append((error, error <= Z_90 * c.std))
    if not errors:
        return ["No complete trial holds predictions of the pruner yet.", ""]
    steps = sorted(errors)
    lines = [
        "### Out-of-sample error of the predictions",
        "",
        "Each prediction that the pruner made for a trial that then ran to the end, against "
        "the final value it reached.",
        "",
        "| steps | predictions | mean absolute error | final value in the 90% interval |",
        "|---|---:|---:|---:|",
    ]
    for group in np.array_split(np.array(steps), min(len(steps), _MAX_ERROR_ROWS)):
        first, last = int(group[0]), int(group[-1])
        pairs = [pair for s in group for pair in errors[int(s)]]
        label = f"{first}" if first == last else f"{first}-{last}"
        mean = sum(e for e, _ in pairs) / len(pairs)
        inside = sum(1 for _, i in pairs if i) / len(pairs)
        lines.append(f"| {label} | {len(pairs)} | {mean:.4g} | {inside:.0%} |")
    return [*lines, ""]


def _best_table(best: Sequence[FrozenTrial]) -> list[str]:
    if not best:
        return []
    lines = [
        "### Best trials",
        "",
        "| trial | value | checks | last prediction (90% interval) |",
        "|---:|---:|---:|---|",
    ]
    for t in best:
        history = checks(t)
        last = (
            f"{history[-1].predicted:.4g} ± {Z_90 * history[-1].std:.2g} at step "
            f"{history[-1].step}"
            if history
            else "-"
        )
        lines.append(f"| {t.number} | {t.value:.4g} | {len(history)} | {last} |")
    return [*lines, ""]


def _architecture(
    trials: Sequence[FrozenTrial], sampler: optuna.samplers.BaseSampler | None
) -> list[str]:
    with_architecture = sum(1 for t in trials if _keys.ARCHITECTURE in t.user_attrs)
    if not with_architecture:
        return []
    lines = [
        "### Architecture search",
        "",
        f"Trials with an architecture: {with_architecture}.",
    ]
    epsilon = getattr(sampler, "epsilon", None)
    if callable(epsilon):
        number = max((t.number for t in trials), default=-1) + 1
        lines.append(f"Epsilon of the next trial (number {number}): {float(epsilon(number)):.3g}.")
    return [*lines, ""]


def _upload_plot(
    study: optuna.Study, best: list[FrozenTrial], artifact_store: ArtifactStore
) -> str:
    """Upload the plot of ``best`` as the study's artifact, over the one uploaded before;
    return its path on the dashboard's server."""
    from optuna.artifacts import get_all_artifact_meta, upload_artifact
    from optuna_dashboard.artifact import get_artifact_path

    from optuna_srm.visualization.matplotlib._prediction_history import save_png

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, ARTIFACT_FILENAME)
        save_png(best, metric_name(study), path)
        earlier = [m for m in get_all_artifact_meta(study) if m.filename == ARTIFACT_FILENAME]
        if earlier:
            artifact_id = earlier[0].artifact_id
            with open(path, "rb") as image:
                artifact_store.write(artifact_id, image)
        else:
            artifact_id = upload_artifact(
                artifact_store=artifact_store, file_path=path, study_or_trial=study
            )
    found: str = get_artifact_path(study, artifact_id)
    return found
