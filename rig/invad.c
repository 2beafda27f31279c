/*
 * invad.c - owns the accessed/modified rules (AD-DIRTY-LOST, AD-REF-LOST).
 */
#include "invcheck.h"
