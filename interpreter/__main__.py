"""`python -m interpreter` runs the `policy` command."""
from .cli import main

if __name__ == "__main__":
    main()
