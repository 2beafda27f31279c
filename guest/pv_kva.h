/* pv_kva.h - helpers shared by the KVA policies (pv_kva_*.c). */
#ifndef PMAPRIG_PV_KVA_H
#define PMAPRIG_PV_KVA_H

void	pv_kva_count(int delta, uint32_t slot);
boolean_t pv_page_map(vm_offset_t va);
void	pv_page_unmap(vm_offset_t va);

#define pv_slot(va)	(((va) - pv_chunkbase) >> PAGE_SHIFT)

#endif
