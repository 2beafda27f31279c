/* kernel.h - what every reference guest source file (and guest/common) includes. */
#ifndef PMAPRIG_KERNEL_H
#define PMAPRIG_KERNEL_H

#include "common/types.h"
#include "pmap_types.h"
#include "common/queue.h"
#include "common/cpufunc.h"
#include "common/libkern.h"

#endif
