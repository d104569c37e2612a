"""``python -m optuna_srm.cli``: the ``optuna-srm`` command."""

from optuna_srm.cli import main

main(prog_name="optuna-srm")
