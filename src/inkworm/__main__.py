"""``python -m inkworm``."""

from inkworm.cli import main

main()
