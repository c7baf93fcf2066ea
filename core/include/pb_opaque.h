/* Internal to the core: library code TSan cannot see through (Concurrency
 * Kit's inline assembly and volatile accesses, liburcu's), used by the
 * reference strategies and locks that wrap it (ck-ring, urcu-wfcq, the
 * ck-* locks). Unannotated, TSan would report every hand-over as a race.
 * In PB_TSAN builds each library call runs with TSan's access and sync
 * tracking off (PB_OPAQUE_BEGIN/END), and what the call does is described
 * to TSan as what it is: a release of an address by the side that
 * publishes (PB_TSAN_RELEASE: an item pushed, a lock let go), an acquire
 * of it by the side that receives (PB_TSAN_ACQUIRE: an item popped, a
 * lock taken). In other builds these are nothing. */
#ifndef PB_OPAQUE_H
#define PB_OPAQUE_H

#ifdef PB_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
void AnnotateIgnoreSyncBegin(const char *file, int line);
void AnnotateIgnoreSyncEnd(const char *file, int line);
#define PB_OPAQUE_BEGIN() (__tsan_ignore_thread_begin(), AnnotateIgnoreSyncBegin(__FILE__, __LINE__))
#define PB_OPAQUE_END() (AnnotateIgnoreSyncEnd(__FILE__, __LINE__), __tsan_ignore_thread_end())
#define PB_TSAN_ACQUIRE(addr) __tsan_acquire(addr)
#define PB_TSAN_RELEASE(addr) __tsan_release(addr)
#else
#define PB_OPAQUE_BEGIN() ((void)0)
#define PB_OPAQUE_END() ((void)0)
#define PB_TSAN_ACQUIRE(addr) ((void)(addr))
#define PB_TSAN_RELEASE(addr) ((void)(addr))
#endif

#endif
