/* Private to core/lock: the Concurrency Kit locks under ThreadSanitizer.
 * ck synchronizes with inline assembly and volatile accesses, which TSan
 * cannot see: it would report every critical section as a race. In
 * PB_TSAN builds each ck call runs with TSan's access and sync tracking
 * off (CK_OPAQUE_BEGIN/END), and the lock is described to TSan as what it
 * is: an acquire of the lock's address after taking it, a release of it
 * before letting go (core/queue/ck_ring.c does the same for its ring). In
 * other builds these are nothing. */
#ifndef PB_LOCK_CK_OPAQUE_H
#define PB_LOCK_CK_OPAQUE_H

#ifdef PB_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
void AnnotateIgnoreSyncBegin(const char *file, int line);
void AnnotateIgnoreSyncEnd(const char *file, int line);
#define CK_OPAQUE_BEGIN() (__tsan_ignore_thread_begin(), AnnotateIgnoreSyncBegin(__FILE__, __LINE__))
#define CK_OPAQUE_END() (AnnotateIgnoreSyncEnd(__FILE__, __LINE__), __tsan_ignore_thread_end())
#define CK_TOOK(lock) __tsan_acquire(lock)
#define CK_LETTING_GO(lock) __tsan_release(lock)
#else
#define CK_OPAQUE_BEGIN() ((void)0)
#define CK_OPAQUE_END() ((void)0)
#define CK_TOOK(lock) ((void)(lock))
#define CK_LETTING_GO(lock) ((void)(lock))
#endif

#endif
