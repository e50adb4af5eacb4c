/* A stand-in for Windows' bcryptprimitives.dll, for running the release DLL under
 * Wine 8, which lacks it (.ci/release-check puts it beside the test program; it is
 * never shipped). Rust's standard library gets random bytes from its ProcessPrng,
 * only to seed hash maps: these bytes come from Windows' RtlGenRandom
 * (SystemFunction036 of advapi32), which Wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Fills `data` with `length` random bytes; TRUE on success, as Windows' does. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
