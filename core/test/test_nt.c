/* SPEC NT1, NT2 and the constant table. */
#include <string.h>

#include "test_support.h"

Test(nt, NT1_severity_bits_and_macros)
{
    cr_assert_eq(NT_SEVERITY(STATUS_SUCCESS), 0u);
    cr_assert_eq(NT_SEVERITY(STATUS_PENDING), 0u);
    cr_assert_eq(NT_SEVERITY(STATUS_FLT_IO_COMPLETE), 0u);
    cr_assert_eq(NT_SEVERITY(STATUS_BUFFER_OVERFLOW), 2u);
    cr_assert_eq(NT_SEVERITY(STATUS_CANCELLED), 3u);
    cr_assert_eq(NT_SEVERITY((NTSTATUS)0x40000000u), 1u);

    cr_assert(NT_SUCCESS(STATUS_SUCCESS));
    cr_assert(NT_SUCCESS(STATUS_PENDING));
    cr_assert(NT_SUCCESS(STATUS_FLT_IO_COMPLETE));
    cr_assert(NT_SUCCESS((NTSTATUS)0x40000001u), "informational is a success");
    cr_assert_not(NT_SUCCESS(STATUS_BUFFER_OVERFLOW), "a warning is not a success");
    cr_assert_not(NT_SUCCESS(STATUS_NO_MORE_ENTRIES));
    cr_assert_not(NT_SUCCESS(STATUS_CANCELLED));
    cr_assert_not(NT_SUCCESS(STATUS_FLT_DELETING_OBJECT));

    cr_assert(NT_INFORMATION((NTSTATUS)0x40000001u));
    cr_assert_not(NT_INFORMATION(STATUS_SUCCESS));
    cr_assert_not(NT_INFORMATION(STATUS_BUFFER_OVERFLOW));
    cr_assert(NT_WARNING(STATUS_BUFFER_OVERFLOW));
    cr_assert(NT_WARNING(STATUS_NO_MORE_ENTRIES));
    cr_assert_not(NT_WARNING(STATUS_CANCELLED));
    cr_assert_not(NT_WARNING(STATUS_SUCCESS));
    cr_assert(NT_ERROR(STATUS_CANCELLED));
    cr_assert(NT_ERROR(STATUS_INSUFFICIENT_RESOURCES));
    cr_assert(NT_ERROR(STATUS_FLT_CBDQ_DISABLED));
    cr_assert_not(NT_ERROR(STATUS_BUFFER_OVERFLOW));
    cr_assert_not(NT_ERROR(STATUS_PENDING));
}

Test(nt, NT1_facility_bits)
{
    cr_assert_eq(FACILITY_FILTER_MANAGER, 0x1Cu);
    cr_assert_eq(NT_FACILITY(STATUS_FLT_IO_COMPLETE), 0x1Cu);
    cr_assert_eq(NT_FACILITY(STATUS_FLT_DELETING_OBJECT), 0x1Cu);
    cr_assert_eq(NT_FACILITY(STATUS_FLT_CBDQ_DISABLED), 0x1Cu);
    cr_assert_eq(NT_FACILITY(STATUS_FLT_NOT_SAFE_TO_POST_OPERATION), 0x1Cu);
    cr_assert_eq(NT_FACILITY(STATUS_CANCELLED), 0u);
    cr_assert_eq(NT_FACILITY(STATUS_PENDING), 0u);
    cr_assert_eq(NT_FACILITY((NTSTATUS)0xCFFF0000u), 0xFFFu, "facility is 12 bits (27-16)");
    cr_assert_eq(NT_FACILITY((NTSTATUS)0xF0000000u), 0u, "bits 31-28 are not facility");
}

Test(nt, NT1_status_constant_values)
{
    cr_assert_eq((uint32_t)STATUS_SUCCESS, 0x00000000u);
    cr_assert_eq((uint32_t)STATUS_PENDING, 0x00000103u);
    cr_assert_eq((uint32_t)STATUS_FLT_IO_COMPLETE, 0x001C0001u);
    cr_assert_eq((uint32_t)STATUS_BUFFER_OVERFLOW, 0x80000005u);
    cr_assert_eq((uint32_t)STATUS_NO_MORE_ENTRIES, 0x8000001Au);
    cr_assert_eq((uint32_t)STATUS_UNSUCCESSFUL, 0xC0000001u);
    cr_assert_eq((uint32_t)STATUS_NOT_IMPLEMENTED, 0xC0000002u);
    cr_assert_eq((uint32_t)STATUS_INVALID_PARAMETER, 0xC000000Du);
    cr_assert_eq((uint32_t)STATUS_INVALID_DEVICE_REQUEST, 0xC0000010u);
    cr_assert_eq((uint32_t)STATUS_ACCESS_DENIED, 0xC0000022u);
    cr_assert_eq((uint32_t)STATUS_INSUFFICIENT_RESOURCES, 0xC000009Au);
    cr_assert_eq((uint32_t)STATUS_NOT_SUPPORTED, 0xC00000BBu);
    cr_assert_eq((uint32_t)STATUS_CANCELLED, 0xC0000120u);
    cr_assert_eq((uint32_t)STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST, 0xC01C0003u);
    cr_assert_eq((uint32_t)STATUS_FLT_DISALLOW_FAST_IO, 0xC01C0004u);
    cr_assert_eq((uint32_t)STATUS_FLT_DISALLOW_FSFILTER_IO, 0xC01C0004u);
    cr_assert_eq((uint32_t)STATUS_FLT_NOT_SAFE_TO_POST_OPERATION, 0xC01C0006u);
    cr_assert_eq((uint32_t)STATUS_FLT_NOT_INITIALIZED, 0xC01C0007u);
    cr_assert_eq((uint32_t)STATUS_FLT_POST_OPERATION_CLEANUP, 0xC01C0009u);
    cr_assert_eq((uint32_t)STATUS_FLT_INTERNAL_ERROR, 0xC01C000Au);
    cr_assert_eq((uint32_t)STATUS_FLT_DELETING_OBJECT, 0xC01C000Bu);
    cr_assert_eq((uint32_t)STATUS_FLT_CBDQ_DISABLED, 0xC01C000Eu);
}

Test(nt, NT2_named_statuses_print_by_name)
{
    cr_assert_str_eq(nt_status_name(STATUS_CANCELLED), "STATUS_CANCELLED");
    cr_assert_str_eq(nt_status_name(STATUS_SUCCESS), "STATUS_SUCCESS");
    cr_assert_str_eq(nt_status_name(STATUS_PENDING), "STATUS_PENDING");
    cr_assert_str_eq(nt_status_name(STATUS_FLT_DELETING_OBJECT), "STATUS_FLT_DELETING_OBJECT");
    cr_assert_str_eq(nt_status_name(STATUS_FLT_CBDQ_DISABLED), "STATUS_FLT_CBDQ_DISABLED");
    /* Every value of the list maps back to its own name. */
#define CHECK_NAME_(s) cr_assert_str_eq(nt_status_name(s), #s);
    NT_STATUS_NAMES(CHECK_NAME_)
#undef CHECK_NAME_
    char buf[64];
    cr_assert_str_eq(nt_status_format(STATUS_INSUFFICIENT_RESOURCES, buf, sizeof buf),
                     "STATUS_INSUFFICIENT_RESOURCES");
    cr_assert_eq(nt_status_format(STATUS_CANCELLED, buf, sizeof buf), buf, "returns buf");
}

Test(nt, NT2_unknown_values_print_as_hex)
{
    cr_assert_null(nt_status_name((NTSTATUS)0xC0DE0001u));
    cr_assert_null(nt_status_name((NTSTATUS)0x00000001u));
    char buf[32];
    memset(buf, 'x', sizeof buf);
    const char *s = nt_status_format((NTSTATUS)0xC0DE0001u, buf, sizeof buf);
    cr_assert_eq(s, buf);
    cr_assert_str_eq(buf, "0xC0DE0001");
    nt_status_format((NTSTATUS)0x00000001u, buf, sizeof buf);
    cr_assert_str_eq(buf, "0x00000001");
}

Test(nt, NT2_format_never_overruns_small_buffer)
{
    char buf[8];
    memset(buf, 'x', sizeof buf);
    nt_status_format(STATUS_CANCELLED, buf, 6);
    cr_assert_eq(strnlen(buf, 6) < 6, true, "terminated within size");
    cr_assert_eq(buf[6], 'x', "nothing written past size");
    cr_assert_eq(buf[7], 'x');
}
