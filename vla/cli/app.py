"""A command-line app: its typed config under Hydra, one library call, one-line errors.

Each app in ``vla/cli/`` is ``main = hydra_app(<app name>, <config name>, <dataclass>,
<library function>)``. The dataclass is registered with Hydra's ConfigStore as
``<config name>_schema``; ``configs/<config name>.yaml`` puts it first in its defaults
list, so Hydra checks every option's name and type while composing the config, before
anything loads. The option groups (``planner=``, ``robot=``) are registered here too.

In a ``-m`` sweep each job gets its own folder (``hydra.sweep.dir/hydra.sweep.subdir``) as
its ``output_dir``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from vla.cli.errors import CONFIG_ERRORS, config_error, fail, os_error_line, run_app
from vla.options import to_object
from vla.planning.config import PlannerConfig, SayCanOptions
from vla.quiet import quiet_libraries
from vla.robot.config import PyBulletRobotConfig, XArmRobotConfig

GROUPS = {
    "planner": {
        "none": PlannerConfig("none"),
        "oracle": PlannerConfig("oracle"),
        "saycan": SayCanOptions(),
    },
    "robot": {"pybullet": PyBulletRobotConfig(), "xarm": XArmRobotConfig()},
}


def register(config_name: str, schema: type) -> None:
    """Store ``schema`` as ``<config_name>_schema`` and the option groups in ConfigStore."""
    store = ConfigStore.instance()
    store.store(name=f"{config_name}_schema", node=schema)
    for group, options in GROUPS.items():
        for name, node in options.items():
            store.store(group=group, name=name, node=node)


def hydra_app(
    app: str,
    config_name: str,
    schema: type,
    job: Callable[[Any], Any],
    on_interrupt: str = "",
) -> Callable[[], None]:
    """The ``main()`` of app ``app``: compose ``configs/<config_name>.yaml`` (schema
    ``schema``) from the command line and run ``job(config)``."""
    register(config_name, schema)

    @hydra.main(config_path="../../configs", config_name=config_name, version_base="1.3")
    def task(cfg: DictConfig) -> None:
        quiet_libraries()  # here too: a sweep's launcher may run jobs in other processes
        run_app(app, lambda config: job(in_sweep_folder(config)), cfg, on_interrupt)

    def main() -> None:
        quiet_libraries()
        with hydra_raises():
            try:
                task()
            except CONFIG_ERRORS as error:  # while composing: a bad option on the command line
                fail(app, config_error(error))
            except OSError as error:  # Hydra creating the run folder (job errors end earlier)
                fail(app, f"cannot write the run folder ({os_error_line(error)}); check output_dir")

    return main


def compose_config(config_name: str, schema: type, overrides: list[str] | None = None) -> Any:
    """The typed config that ``configs/<config_name>.yaml`` with command-line ``overrides``
    gives (no run folder, nothing run): for tests and notebooks."""
    register(config_name, schema)
    with hydra.initialize_config_module("configs", version_base="1.3"):
        return to_object(hydra.compose(config_name, overrides=list(overrides or [])))


def in_sweep_folder(config: Any) -> Any:
    """``config`` with ``output_dir`` set to this job's own folder in a ``-m`` sweep."""
    sweep = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    if sweep and hasattr(config, "output_dir"):
        return dataclasses.replace(config, output_dir=HydraConfig.get().runtime.output_dir)
    return config


@contextlib.contextmanager
def hydra_raises() -> Iterator[None]:
    """Let Hydra raise its errors (``HYDRA_FULL_ERROR``) instead of printing them and
    exiting 1, so that :func:`hydra_app` can end them in one line with code 2."""
    before = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = before
