"""The ``optuna-srm`` command."""

from __future__ import annotations

import click

from optuna_srm import __version__
from optuna_srm.cli._dashboard import dashboard
from optuna_srm.cli._search import search


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="optuna-srm")
def main() -> None:
    """Neural architecture search and hyperparameter optimisation with Optuna, several times
    cheaper: learning-curve prediction stops trainings that will not beat the best one
    (Baker et al., "Accelerating Neural Architecture Search using Performance Prediction").

    Run `optuna-srm search` for a MetaQNN search on scikit-learn's digits, then
    `optuna-srm COMMAND --help` for the options of each command.
    """


main.add_command(search)
main.add_command(dashboard)
