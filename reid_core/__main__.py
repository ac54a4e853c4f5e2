"""``python -m reid_core`` (and ``torchrun -m reid_core``) runs the ``reid`` command."""

from reid_core.cli import main

if __name__ == "__main__":
    main()
