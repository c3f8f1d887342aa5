// The executable's relocation table, released from memory once the dynamic loader is done with it.
//
// A position-independent Swift executable carries tens of thousands of relative relocations
// (DT_RELA, about 1 MiB in the command's), which the dynamic loader reads once, before main, to
// fix up the data that holds addresses. Their pages stay mapped afterwards, and they count towards
// the process's resident set and its peak for as long as it runs, though nothing reads them again.
//
// Why dropping them is safe: the table lies in a read-only segment of the executable (checked
// below against the program headers, or nothing is done), mapped privately from the file and never
// written, so its pages are the file's own; MADV_DONTNEED only unmaps them, and a later read (by a
// debugger, or by the loader's fault-around of a neighbouring page) maps the same bytes again.
// Only whole pages inside the table are released: a page it shares with a neighbouring section
// stays. Lazy binding reads DT_JMPREL, a separate table, which stays.

#include "CAuxiliaryVector.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

// Whether [start, end) lies inside a loaded segment of the executable that is not writable.
static int in_read_only_segment(const ElfW(Phdr) *phdrs, unsigned long count, uintptr_t base, uintptr_t start,
    uintptr_t end) {
    for (unsigned long index = 0; index < count; index++) {
        const ElfW(Phdr) *segment = &phdrs[index];
        if (segment->p_type != PT_LOAD || (segment->p_flags & PF_W)) continue;
        uintptr_t low = base + segment->p_vaddr, high = low + segment->p_filesz;
        if (start >= low && end <= high && start < end) return 1;
    }
    return 0;
}

int cav_relocation_table_pages(uintptr_t *first, uintptr_t *length) {
    const ElfW(Phdr) *phdrs = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    unsigned long count = getauxval(AT_PHNUM);
    if (phdrs == NULL || count == 0) return 0;
    // The load address: where the program headers are, less where the file says they are.
    uintptr_t base = 0;
    const ElfW(Dyn) *dynamic = NULL;
    for (unsigned long index = 0; index < count; index++)
        if (phdrs[index].p_type == PT_PHDR) base = (uintptr_t)phdrs - phdrs[index].p_vaddr;
    for (unsigned long index = 0; index < count; index++)
        if (phdrs[index].p_type == PT_DYNAMIC) dynamic = (const ElfW(Dyn) *)(base + phdrs[index].p_vaddr);
    if (dynamic == NULL) return 0;  // a static executable: no loader, no table
    uintptr_t table = 0, size = 0;
    for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
        if (entry->d_tag == DT_RELA) table = entry->d_un.d_ptr;
        if (entry->d_tag == DT_RELASZ) size = entry->d_un.d_val;
    }
    if (table == 0 || size == 0) return 0;
    // glibc rewrites DT_RELA in a writable .dynamic to the loaded address; other loaders leave
    // the file's. Only one of the two lands inside a read-only segment (for a position-dependent
    // executable, base is 0 and they agree).
    uintptr_t start = base + table;
    if (!in_read_only_segment(phdrs, count, base, start, start + size)) start = table;
    if (!in_read_only_segment(phdrs, count, base, start, start + size)) return 0;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t low = (start + page - 1) & ~(page - 1), high = (start + size) & ~(page - 1);
    if (high <= low) return 0;
    *first = low;
    *length = high - low;
    return 1;
}

long cav_release_relocation_table(void) {
    uintptr_t first, length;
    if (!cav_relocation_table_pages(&first, &length)) return 0;
    if (madvise((void *)first, length, MADV_DONTNEED) != 0) return -1;
    return (long)length;
}
