"""`python -m maintbook`: the same command line as `maintbook`."""

from maintbook.cli import main

main()
