# mps2-an505 (QEMU). Defaults only: edgekit passes MCPU/FLOAT_ABI/FPU/STACK_BYTES from the device profile.
MCPU ?= cortex-m33
FLOAT_ABI ?= hard
FPU ?= fpv5-sp-d16
STACK_BYTES ?= 16384
BOARD_SRCS := drivers/qemu_board.c
