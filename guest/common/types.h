/* types.h - the guest's basic types, in FreeBSD's names. */
#ifndef PMAPRIG_TYPES_H
#define PMAPRIG_TYPES_H

#define RIG_GUEST 1
#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

typedef uint32_t	vm_offset_t;	/* a virtual address */
typedef uint32_t	vm_paddr_t;	/* a physical address */
typedef uint32_t	pt_entry_t;	/* a page-table entry */
typedef uint32_t	pd_entry_t;	/* a page-directory entry */
typedef uint32_t	vm_prot_t;
typedef unsigned int	u_int;
typedef unsigned short	u_short;
typedef int		boolean_t;

#define TRUE	1
#define FALSE	0
#define NULL_PA	0

/* Protections (vm/vm.h). */
#define VM_PROT_NONE	0x0
#define VM_PROT_READ	0x1
#define VM_PROT_WRITE	0x2
#define VM_PROT_EXECUTE	0x4
#define VM_PROT_ALL	(VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

/* Error returns (FreeBSD's KERN_* codes). */
#define KERN_SUCCESS		0
#define KERN_RESOURCE_SHORTAGE	6

#define nitems(x)	(sizeof(x) / sizeof((x)[0]))
#define __unused	__attribute__((unused))
#define __noinline	__attribute__((noinline))
#define __dead		__attribute__((noreturn))

#endif
