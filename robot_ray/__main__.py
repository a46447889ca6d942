"""``python -m robot_ray`` = the ``robot-ray`` command."""

from robot_ray.cli import main

main(prog_name="robot-ray")
