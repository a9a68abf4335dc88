"""The commands behind the CLI, each taking the parsed arguments and returning an exit
code; errors that stop a command are raised and turned into exit codes by ``cli``."""

from .checking import check_command
from .demo import demo_command
from .exporting import export_command
from .models import bench_command, eval_command, fetch_command, inspect_command
from .running import run_command
from .status import status_command

__all__ = [
    "bench_command",
    "check_command",
    "demo_command",
    "eval_command",
    "export_command",
    "fetch_command",
    "inspect_command",
    "run_command",
    "status_command",
]
