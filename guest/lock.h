/* lock.h - spin locks (struct lock is in rig_abi.h). */
#ifndef PMAPRIG_LOCK_H
#define PMAPRIG_LOCK_H

void	lock_init(struct lock *lk, const char *name, uint32_t flags);
void	lock_acquire(struct lock *lk);
void	lock_release(struct lock *lk);
void	lock_assert_owned(struct lock *lk);

#endif
