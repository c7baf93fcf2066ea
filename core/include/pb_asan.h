/* PB_ASAN: defined to 1 in an AddressSanitizer build, whichever compiler
 * made it (the places that tell LeakSanitizer what to ignore need it). */
#ifndef PB_ASAN_H
#define PB_ASAN_H

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PB_ASAN 1                   /* clang's way of saying it */
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(PB_ASAN)
#define PB_ASAN 1                   /* gcc's */
#endif

#endif
