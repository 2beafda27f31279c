/* kernel.h - what every bsd7 source file (and guest/common) includes. */
#ifndef BSD7_KERNEL_H
#define BSD7_KERNEL_H

#include "types.h"
#include "rig_abi.h"
#include "queue.h"
#include "cpufunc.h"
#include "mmu.h"
#include "libkern.h"

#endif
