# STM32F746G-DISCO (real board, not verified on silicon). Defaults; edgekit passes the profile's values.
MCPU ?= cortex-m7
FLOAT_ABI ?= hard
FPU ?= fpv5-sp-d16
STACK_BYTES ?= 16384
BOARD_SRCS := boards/stm32f746g-disco/board.c
