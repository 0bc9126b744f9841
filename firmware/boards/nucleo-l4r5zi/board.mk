# NUCLEO-L4R5ZI (real board, not verified on silicon). Defaults; edgekit passes the profile's values.
MCPU ?= cortex-m4
FLOAT_ABI ?= hard
FPU ?= fpv4-sp-d16
STACK_BYTES ?= 16384
BOARD_SRCS := boards/nucleo-l4r5zi/board.c
