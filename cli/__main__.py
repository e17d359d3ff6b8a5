"""`python -m cli`: the nq71 command (subprocesses of the scheduler and the tests run it so)."""

from cli import main

main()
