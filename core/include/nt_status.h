/* NTSTATUS values as in the public WDK headers (ntstatus.h), and the
 * severity macros. SPEC NT1, NT2. */
#ifndef PB_NT_STATUS_H
#define PB_NT_STATUS_H

#include <stdint.h>

typedef int32_t NTSTATUS;

#define NT_SUCCESS(s)     ((NTSTATUS)(s) >= 0)
#define NT_SEVERITY(s)    ((uint32_t)(s) >> 30)
#define NT_INFORMATION(s) (NT_SEVERITY(s) == 1u)
#define NT_WARNING(s)     (NT_SEVERITY(s) == 2u)
#define NT_ERROR(s)       (NT_SEVERITY(s) == 3u)
#define NT_FACILITY(s)    (((uint32_t)(s) >> 16) & 0xfffu)
#define FACILITY_FILTER_MANAGER 0x1Cu

#define STATUS_SUCCESS                           ((NTSTATUS)0x00000000u)
#define STATUS_PENDING                           ((NTSTATUS)0x00000103u)
#define STATUS_FLT_IO_COMPLETE                   ((NTSTATUS)0x001C0001u)
#define STATUS_BUFFER_OVERFLOW                   ((NTSTATUS)0x80000005u)
#define STATUS_NO_MORE_ENTRIES                   ((NTSTATUS)0x8000001Au)
#define STATUS_UNSUCCESSFUL                      ((NTSTATUS)0xC0000001u)
#define STATUS_NOT_IMPLEMENTED                   ((NTSTATUS)0xC0000002u)
#define STATUS_INVALID_PARAMETER                 ((NTSTATUS)0xC000000Du)
#define STATUS_INVALID_DEVICE_REQUEST            ((NTSTATUS)0xC0000010u)
#define STATUS_ACCESS_DENIED                     ((NTSTATUS)0xC0000022u)
#define STATUS_INSUFFICIENT_RESOURCES            ((NTSTATUS)0xC000009Au)
#define STATUS_NOT_SUPPORTED                     ((NTSTATUS)0xC00000BBu)
#define STATUS_CANCELLED                         ((NTSTATUS)0xC0000120u)
#define STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST  ((NTSTATUS)0xC01C0003u)
#define STATUS_FLT_DISALLOW_FAST_IO              ((NTSTATUS)0xC01C0004u)
#define STATUS_FLT_NOT_SAFE_TO_POST_OPERATION    ((NTSTATUS)0xC01C0006u)
#define STATUS_FLT_NOT_INITIALIZED               ((NTSTATUS)0xC01C0007u)
#define STATUS_FLT_POST_OPERATION_CLEANUP        ((NTSTATUS)0xC01C0009u)
#define STATUS_FLT_INTERNAL_ERROR                ((NTSTATUS)0xC01C000Au)
#define STATUS_FLT_DELETING_OBJECT               ((NTSTATUS)0xC01C000Bu)
#define STATUS_FLT_CBDQ_DISABLED                 ((NTSTATUS)0xC01C000Eu)
#define STATUS_FLT_INSTANCE_ALTITUDE_COLLISION   ((NTSTATUS)0xC01C0011u)

/* The named values, for nt_status_name(). */
#define NT_STATUS_NAMES(X) \
    X(STATUS_SUCCESS) \
    X(STATUS_PENDING) \
    X(STATUS_FLT_IO_COMPLETE) \
    X(STATUS_BUFFER_OVERFLOW) \
    X(STATUS_NO_MORE_ENTRIES) \
    X(STATUS_UNSUCCESSFUL) \
    X(STATUS_NOT_IMPLEMENTED) \
    X(STATUS_INVALID_PARAMETER) \
    X(STATUS_INVALID_DEVICE_REQUEST) \
    X(STATUS_ACCESS_DENIED) \
    X(STATUS_INSUFFICIENT_RESOURCES) \
    X(STATUS_NOT_SUPPORTED) \
    X(STATUS_CANCELLED) \
    X(STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST) \
    X(STATUS_FLT_DISALLOW_FAST_IO) \
    X(STATUS_FLT_NOT_SAFE_TO_POST_OPERATION) \
    X(STATUS_FLT_NOT_INITIALIZED) \
    X(STATUS_FLT_POST_OPERATION_CLEANUP) \
    X(STATUS_FLT_INTERNAL_ERROR) \
    X(STATUS_FLT_DELETING_OBJECT) \
    X(STATUS_FLT_CBDQ_DISABLED) \
    X(STATUS_FLT_INSTANCE_ALTITUDE_COLLISION)

/* Same value as STATUS_FLT_DISALLOW_FAST_IO in the WDK headers. */
#define STATUS_FLT_DISALLOW_FSFILTER_IO STATUS_FLT_DISALLOW_FAST_IO

/* "STATUS_CANCELLED" for a named value; NULL for an unknown one. */
const char *nt_status_name(NTSTATUS s);

/* Writes the name, or "0x%08X" for an unknown value, into buf; returns buf. */
const char *nt_status_format(NTSTATUS s, char *buf, unsigned size);

#endif
