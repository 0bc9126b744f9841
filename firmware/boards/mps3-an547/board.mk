# mps3-an547 (QEMU). Defaults only: edgekit passes MCPU/FLOAT_ABI/FPU/STACK_BYTES from the device profile.
MCPU ?= cortex-m55
FLOAT_ABI ?= hard
FPU ?= auto
STACK_BYTES ?= 16384
BOARD_SRCS := drivers/qemu_board.c
