"""python -m capacity: the entry point; the commands are capacity.cli's."""

from capacity.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
