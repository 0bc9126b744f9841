"""Flashers: put a firmware image on a board and start it (QEMU, pyOCD, OpenOCD)."""
